"""Shared by the Django peer servers (drf_app.py, ninja_app.py): Django configured in code on
SQLite in a temporary directory, the `records` model, and the threaded WSGI server of Django's
`runserver` (HTTP/1.1).
"""

import logging
import tempfile
from pathlib import Path

import django
from django.conf import settings

import common

DB_DIR = tempfile.TemporaryDirectory()


def configure(app: str, urlconf: str, **extra) -> None:
    """Configures Django for `app` (its URLs in the module `urlconf`), then sets it up."""
    settings.configure(
        DEBUG=False,
        DEBUG_PROPAGATE_EXCEPTIONS=True,  # a 500's traceback goes to stderr
        SECRET_KEY="folio-peers",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=urlconf,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", app],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(DB_DIR.name) / "peer.sqlite3")}},
        **extra,
    )
    django.setup()


def record_model():
    """The model of the records (after `configure`)."""
    from django.db import models

    class Record(models.Model):
        name = models.TextField()
        score = models.IntegerField()
        weight = models.FloatField(null=True)

        class Meta:
            app_label = "peers"
            db_table = "records"

    return Record


def serve(record, n: int) -> None:
    """Creates and fills the records' table with `n` records, then serves until killed."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    with connection.schema_editor() as editor:
        editor.create_model(record)
    record.objects.bulk_create(record(id=i, name=name, score=s, weight=w) for i, name, s, w in common.rows(n))
    connection.close()

    server = ThreadedWSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(get_wsgi_application())  # sets Django up again, logging included
    logging.getLogger("django.server").setLevel(logging.WARNING)  # no access log; 4xx and 5xx only
    common.announce(server.server_port)
    common.exit_on_sigterm()
    server.serve_forever()
