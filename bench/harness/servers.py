"""The servers under test, each started on 127.0.0.1 and stopped when its `with` block ends."""

import os
import re

from . import procs

LOGS = os.path.join(procs.TARGET, "bench-results", "logs")


def folio(binary, store_args, name, offsets=True):
    """`folio serve` over an existing store; its base URL is in `.base`. With `offsets`, page
    numbers are offsets at any depth (so that they can be measured where cursors are); without,
    the default window holds and deeper page numbers are read through page maps."""
    os.makedirs(LOGS, exist_ok=True)
    window = ["--max-offset", "unlimited"] if offsets else []
    cmd = [binary, "serve", "--addr", "127.0.0.1:0", *window, *store_args]
    log_name = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    server = procs.Server(name, cmd, os.path.join(LOGS, f"{log_name}.log"))
    try:
        server.base = server.wait_for_line("listening on ", timeout=120)
    except BaseException:
        server.stop()
        raise
    return server


def datasette(venv_bin, db, inspect):
    """Datasette serving `db` as its documentation recommends for speed: immutable (`-i`) with
    counts from an inspect file, no facet suggestions; pages of up to 1000 rows, and a time limit
    high enough for deep OFFSET queries to finish rather than be cut off."""
    os.makedirs(LOGS, exist_ok=True)
    port = procs.free_port()
    cmd = [os.path.join(venv_bin, "datasette"), "serve", "-i", db, "--inspect-file", inspect,
           "-h", "127.0.0.1", "-p", str(port),
           "--setting", "suggest_facets", "off",
           "--setting", "max_returned_rows", "1000",
           "--setting", "sql_time_limit_ms", "120000"]
    # Datasette (uvicorn) writes an access log line per request to stdout.
    server = procs.Server("Datasette", cmd, os.path.join(LOGS, "datasette.log"), stdout_to_log=True)
    try:
        server.base = f"http://127.0.0.1:{port}"
        server.wait_for_http(f"{server.base}/-/versions.json", timeout=120)
    except BaseException:
        server.stop()
        raise
    return server
