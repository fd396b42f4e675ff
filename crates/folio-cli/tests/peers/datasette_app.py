"""Datasette: the same records as the table `records` of the SQLite file `peers.db`.

    GET /peers/records.json               default shape: `columns` + `rows` as arrays, `next_url`
    GET /peers/records.json?_shape=array  a bare array of objects, next page in the Link header

default_page_size is 25 (?_next=TOKEN for the next page). Built with
datasette.app.Datasette(...).app() and served by uvicorn on a socket bound beforehand.

    python datasette_app.py --records N
"""

import sqlite3
import tempfile
from pathlib import Path

import uvicorn
from datasette.app import Datasette

import common

N = common.records_arg()

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as db_dir:
        db = Path(db_dir) / "peers.db"
        with sqlite3.connect(db) as conn:
            conn.execute("CREATE TABLE records (id INTEGER PRIMARY KEY, name TEXT, score INTEGER, weight REAL)")
            conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?)", common.rows(N))
        conn.close()
        app = Datasette([str(db)], settings={"default_page_size": 25}).app()
        sock = common.listen()
        common.announce(sock.getsockname()[1])
        common.exit_on_sigterm()
        uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])
