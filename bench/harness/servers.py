"""The servers under test, each started on 127.0.0.1 and stopped when its `with` block ends."""

import os
import re

from . import procs

LOGS = os.path.join(procs.TARGET, "bench-results", "logs")


def folio(binary, store_args, name, offsets=True, page_cache=False):
    """`folio serve` over an existing store; its base URL is in `.base`. With `offsets`, page
    numbers are offsets at any depth (so that they can be measured where cursors are); without,
    the default window holds and deeper page numbers are read through page maps. Without
    `page_cache`, every request is rendered from the store (`--page-cache-bytes 0`), as a
    benchmark that repeats one request must: ETags and 304s stay."""
    os.makedirs(LOGS, exist_ok=True)
    window = ["--max-offset", "unlimited"] if offsets else []
    cache = [] if page_cache else ["--page-cache-bytes", "0"]
    cmd = [binary, "serve", "--addr", "127.0.0.1:0", *window, *cache, *store_args]
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


def nginx(root, name, probe):
    """nginx with one worker serving the files under `root` as static files (sendfile, keep-alive,
    no access log), ready once `probe` (a file there) answers; its base URL is in `.base`."""
    os.makedirs(LOGS, exist_ok=True)
    port = procs.free_port()
    prefix = os.path.join(os.path.dirname(root), "nginx")
    os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ application/json json; }}
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
""")
    server = procs.Server(name, ["nginx", "-c", conf, "-p", prefix], os.path.join(LOGS, "nginx.log"))
    try:
        server.base = f"http://127.0.0.1:{port}"
        server.wait_for_http(f"{server.base}/{probe}", timeout=60)
    except BaseException:
        server.stop()
        raise
    return server
