"""flask-smorest: the same records behind `@blp.paginate()`.

    GET /records  page_size 10 (?page=N from 1, &page_size=); the body a bare JSON array, the
                  pagination metadata in the `X-Pagination` header as JSON: total, total_pages,
                  first_page, last_page, page, previous_page (past the first), next_page (before
                  the last)

The view pages the table itself (LIMIT/OFFSET from the injected PaginationParameters) and
declares the total; marshmallow serializes the records. SQLite in a temporary directory,
served by werkzeug's threaded server (HTTP/1.1) on a socket bound beforehand.

    python smorest_app.py --records N
"""

import logging
import sqlite3
import tempfile
from pathlib import Path

import marshmallow as ma
from flask import Flask
from flask_smorest import Api, Blueprint
from werkzeug.serving import make_server

import common

N = common.records_arg()
DB_DIR = tempfile.TemporaryDirectory()
DB = Path(DB_DIR.name) / "smorest.sqlite3"


class RecordSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    score = ma.fields.Integer()
    weight = ma.fields.Float(allow_none=True)


app = Flask(__name__)
app.config.update(API_TITLE="folio peers", API_VERSION="1", OPENAPI_VERSION="3.0.3")
api = Api(app)
blp = Blueprint("records", __name__)


@blp.route("/records")
@blp.response(200, RecordSchema(many=True))
@blp.paginate(page_size=10)
def records(pagination_parameters):
    with sqlite3.connect(DB) as conn:
        conn.row_factory = sqlite3.Row
        pagination_parameters.item_count = conn.execute("SELECT count(*) FROM records").fetchone()[0]
        page = conn.execute(
            "SELECT id, name, score, weight FROM records ORDER BY id LIMIT ? OFFSET ?",
            (pagination_parameters.page_size, pagination_parameters.first_item),
        ).fetchall()
    conn.close()
    return [dict(row) for row in page]


api.register_blueprint(blp)

if __name__ == "__main__":
    with sqlite3.connect(DB) as conn:
        conn.execute("CREATE TABLE records (id INTEGER PRIMARY KEY, name TEXT, score INTEGER, weight REAL)")
        conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", common.rows(N))
    conn.close()
    sock = common.listen()
    server = make_server("127.0.0.1", sock.getsockname()[1], app, threaded=True, fd=sock.fileno())
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log; errors only
    common.announce(server.port)
    common.exit_on_sigterm()
    server.serve_forever()
