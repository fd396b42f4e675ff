"""The datasets, built once and cached under target/bench-data (PostgreSQL: one database per size).

- folio's demo in the embedded store, built by `folio serve --demo` itself;
- the same records as a flat SQLite table for Datasette, exported from folio's file, with the
  index Datasette's sort needs;
- folio's demo in PostgreSQL, built by `folio serve --demo --postgres`.
"""

import json
import os
import shutil
import sqlite3
import subprocess

from . import procs

DATA = os.path.join(procs.TARGET, "bench-data")

# The demo's documents as Datasette users would publish them: one column per field, the
# element list as JSON text, the entry id as the primary key (Datasette's `_next` tiebreaker).
DATASETTE_SCHEMA = """
CREATE TABLE entries (
    entry_id TEXT PRIMARY KEY,
    upload_id TEXT NOT NULL,
    upload_create_time TEXT NOT NULL,
    provider TEXT NOT NULL,
    elements TEXT NOT NULL,
    chemical_formula_reduced TEXT NOT NULL,
    n_elements INTEGER NOT NULL,
    band_gap REAL
);
"""
# Datasette sorts `?_sort_desc=upload_create_time` as `upload_create_time DESC, entry_id`.
DATASETTE_INDEX = "CREATE INDEX entries_by_upload_create_time ON entries (upload_create_time DESC, entry_id)"
DATASETTE_COLUMNS = ("entry_id, upload_id, upload_create_time, provider, elements, chemical_formula_reduced, "
                     "n_elements, band_gap")


def folio_demo(folio, size):
    """The data directory of folio's demo of `size` entries, building it if needed."""
    data_dir = os.path.join(DATA, f"folio-{size}")
    _build_demo(folio, size, ["--data-dir", data_dir], f"folio demo ({size:,} entries, SQLite)", data_dir)
    return data_dir


def postgres_demo(folio, base_url, size):
    """The URL of a database holding folio's demo of `size` entries, creating and building it if
    needed; None (with a message) when PostgreSQL is not reachable."""
    database = f"folio_bench_{size}"
    probe = subprocess.run(["psql", "-X", "-q", "-At", "-d", f"{base_url}/postgres", "-c",
                            f"SELECT count(*) FROM pg_database WHERE datname = '{database}'"],
                           capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        procs.log(f"PostgreSQL SKIPPED: {base_url} is not reachable ({probe.stderr.strip()})")
        return None
    if probe.stdout.strip() == "0":
        subprocess.run(["psql", "-X", "-q", "-d", f"{base_url}/postgres", "-c", f"CREATE DATABASE {database}"],
                       check=True, timeout=60)
    url = f"{base_url}/{database}"
    _build_demo(folio, size, ["--postgres", url], f"folio demo ({size:,} entries, PostgreSQL)",
                os.path.join(DATA, database))
    return url


def sqlite_sort_column(data_dir, path):
    """The column of folio's own table that holds `path` (columns are named by position)."""
    con = sqlite3.connect(f"file:{os.path.join(data_dir, 'folio.sqlite')}?mode=ro", uri=True)
    try:
        (schema,) = con.execute("SELECT schema FROM folio_collections WHERE name = 'entries'").fetchone()
    finally:
        con.close()
    return _column(schema, path)


def postgres_sort_column(url, path):
    """[`sqlite_sort_column`] for the PostgreSQL store."""
    schema = subprocess.run(["psql", "-X", "-q", "-At", "-d", url, "-c",
                             "SELECT schema FROM folio_collections WHERE name = 'entries'"],
                            capture_output=True, text=True, check=True, timeout=30).stdout
    return _column(schema, path)


def datasette_db(data_dir, venv_bin):
    """Datasette's copy of the demo (entries.db) and its inspect file, exported from folio's
    SQLite file when missing or made from another demo."""
    folio_file = os.path.join(data_dir, "folio.sqlite")
    con = sqlite3.connect(f"file:{folio_file}?mode=ro", uri=True)
    try:
        (origin,) = con.execute("SELECT origin FROM folio_collections WHERE name = 'entries'").fetchone()
    finally:
        con.close()
    out_dir = data_dir.replace("folio-", "datasette-")
    db = os.path.join(out_dir, "entries.db")
    inspect = os.path.join(out_dir, "inspect.json")
    stamp = os.path.join(out_dir, "origin.txt")
    if os.path.exists(stamp) and open(stamp).read() == origin and os.path.exists(inspect):
        return db, inspect
    procs.log(f"exporting the demo to a flat table for Datasette ({os.path.relpath(db, procs.ROOT)})")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    partial = db + ".partial"
    con = sqlite3.connect(f"file:{partial}", uri=True)
    try:
        con.execute("ATTACH DATABASE ? AS folio", (f"file:{folio_file}?mode=ro",))
        con.executescript(f"""
            PRAGMA main.journal_mode = OFF;
            PRAGMA main.synchronous = OFF;
            {DATASETTE_SCHEMA}
            INSERT INTO entries
            SELECT doc ->> '$.entry_id', doc ->> '$.upload_id', doc ->> '$.upload_create_time',
                   doc ->> '$.provider', doc -> '$.results.material.elements',
                   doc ->> '$.results.material.chemical_formula_reduced',
                   doc ->> '$.results.material.n_elements',
                   doc ->> '$.results.properties.electronic.band_gap'
            FROM folio.folio_c_entries ORDER BY rid;
            {DATASETTE_INDEX};
        """)
        con.commit()
    finally:
        con.close()
    os.replace(partial, db)
    # Datasette serves immutable files with counts from an inspect file (its documented
    # set-up for speed); without it every page would run count(*).
    subprocess.run([os.path.join(venv_bin, "datasette"), "inspect", db, "--inspect-file", inspect],
                   check=True, timeout=600, cwd=out_dir)
    with open(stamp, "w") as f:
        f.write(origin)
    return db, inspect


def _build_demo(folio, size, store_args, what, log_dir):
    os.makedirs(log_dir, exist_ok=True)
    cmd = [folio, "serve", "--demo", "--demo-size", str(size), "--addr", "127.0.0.1:0", *store_args]
    with procs.Server(f"{what}: build or check", cmd, os.path.join(log_dir, "build.log")) as server:
        # A first build of 1,000,000 entries takes a minute or two; later starts find it.
        server.wait_for_line("listening on ", timeout=3600)


def _column(schema_json, path):
    indexed = [p["path"] for p in json.loads(schema_json)["indexed"]]
    return indexed.index(path)
