"""Django REST framework: the same records under its three paginations.

    GET /pages/        PageNumberPagination, page_size 10 (?page=N)
    GET /limitoffset/  LimitOffsetPagination, default_limit 25 (?limit=&offset=)
    GET /cursor/       CursorPagination, page_size 10, ordering 'score' (many ties; ?cursor=)

Django is configured in this file (JSON renderer only, no authentication), on SQLite in a
temporary directory, served by the threaded WSGI server of Django's `runserver` (HTTP/1.1).

    python drf_app.py --records N
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
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(DB_DIR.name) / "drf.sqlite3")}},
    REST_FRAMEWORK={
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework import generics, pagination, serializers  # noqa: E402


class Record(models.Model):
    name = models.TextField()
    score = models.IntegerField()
    weight = models.FloatField(null=True)

    class Meta:
        app_label = "peers"
        db_table = "records"


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
