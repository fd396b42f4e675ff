"""Django REST framework: the same records under its three paginations.

    GET /pages/        PageNumberPagination, page_size 10 (?page=N)
    GET /limitoffset/  LimitOffsetPagination, default_limit 25 (?limit=&offset=)
    GET /cursor/       CursorPagination, page_size 10, ordering 'score' (many ties; ?cursor=)

Django is configured by django_peer.py (here: JSON renderer only, no authentication).

    python drf_app.py --records N
"""

import common
import django_peer

N = common.records_arg()
django_peer.configure(
    "rest_framework",
    __name__,
    REST_FRAMEWORK={
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
    },
)

from django.urls import path  # noqa: E402
from rest_framework import generics, pagination, serializers  # noqa: E402


Record = django_peer.record_model()


class RecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = Record
        fields = ["id", "name", "score", "weight"]


class Pages(pagination.PageNumberPagination):
    page_size = 10


class LimitOffset(pagination.LimitOffsetPagination):
    default_limit = 25


class Cursor(pagination.CursorPagination):
    page_size = 10
    ordering = "score"


def view(paginator):
    return generics.ListAPIView.as_view(
        queryset=Record.objects.order_by("id"), serializer_class=RecordSerializer, pagination_class=paginator
    )


urlpatterns = [
    path("pages/", view(Pages)),
    path("limitoffset/", view(LimitOffset)),
    path("cursor/", view(Cursor)),  # CursorPagination orders by its own `ordering`
]


if __name__ == "__main__":
    django_peer.serve(Record, N)
