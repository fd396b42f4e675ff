"""django-ninja: the same records under its two page-based paginations.

    GET /limitoffset  LimitOffsetPagination, limit 25 (?limit=&offset=)
    GET /pages        PageNumberPagination, page_size 10 (?page=N, from 1)

Both answer `{"items": [...], "count": N}` and nothing else: no link, no page number.
Django is configured by django_peer.py.

    python ninja_app.py --records N
"""

import common
import django_peer

N = common.records_arg()
django_peer.configure(
    "ninja",
    __name__,
    NINJA_PAGINATION_PER_PAGE=25,  # LimitOffsetPagination's default limit (the library's: 100)
)

from django.urls import path  # noqa: E402
from ninja import NinjaAPI, Schema  # noqa: E402
from ninja.pagination import LimitOffsetPagination, PageNumberPagination, paginate  # noqa: E402


Record = django_peer.record_model()


class RecordOut(Schema):
    id: int
    name: str
    score: int
    weight: float | None


api = NinjaAPI(title="folio peers", docs_url=None)


@api.get("/limitoffset", response=list[RecordOut])
@paginate(LimitOffsetPagination)
def limit_offset(request):
    return Record.objects.order_by("id")


@api.get("/pages", response=list[RecordOut])
@paginate(PageNumberPagination, page_size=10)
def pages(request):
    return Record.objects.order_by("id")


urlpatterns = [path("", api.urls)]


if __name__ == "__main__":
    django_peer.serve(Record, N)
