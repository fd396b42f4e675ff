"""django-ninja: the same records under its two page-based paginations.

    GET /limitoffset  LimitOffsetPagination, limit 25 (?limit=&offset=)
    GET /pages        PageNumberPagination, page_size 10 (?page=N, from 1)

Both answer `{"items": [...], "count": N}` and nothing else: no link, no page number.
Django is configured in this file (no middleware, no authentication), on SQLite in a temporary
directory, served by the threaded WSGI server of Django's `runserver` (HTTP/1.1).

    python ninja_app.py --records N
"""

import logging
import tempfile
from pathlib import Path

import django
from django.conf import settings

import common

N = common.records_arg()
DB_DIR = tempfile.TemporaryDirectory()

settings.configure(
    DEBUG=False,
    DEBUG_PROPAGATE_EXCEPTIONS=True,  # a 500's traceback goes to stderr
    SECRET_KEY="folio-peers",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "ninja"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(DB_DIR.name) / "ninja.sqlite3")}},
    NINJA_PAGINATION_PER_PAGE=25,  # LimitOffsetPagination's default limit (the library's: 100)
)
django.setup()

from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.urls import path  # noqa: E402
from ninja import NinjaAPI, Schema  # noqa: E402
from ninja.pagination import LimitOffsetPagination, PageNumberPagination, paginate  # noqa: E402


class Record(models.Model):
    name = models.TextField()
    score = models.IntegerField()
    weight = models.FloatField(null=True)

    class Meta:
        app_label = "peers"
        db_table = "records"


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
    with connection.schema_editor() as editor:
        editor.create_model(Record)
    Record.objects.bulk_create(Record(id=i, name=n, score=s, weight=w) for i, n, s, w in common.rows(N))
    connection.close()

    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(get_wsgi_application())  # sets Django up again, logging included
    logging.getLogger("django.server").setLevel(logging.WARNING)  # no access log; 4xx and 5xx only
    common.announce(server.server_port)
    common.exit_on_sigterm()
    server.serve_forever()
