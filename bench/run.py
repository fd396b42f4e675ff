#!/usr/bin/env python3
"""folio against its peers and the physical limit, on the same data, in one run.

    python3 bench/run.py            # 1,000,000 entries; about 15 minutes on 2 cores
    python3 bench/run.py --quick    # 100,000 entries, shorter runs; under 3 minutes once set up

Measures, each as folio / peer ratios (see BENCHMARKS.md):
 1. throughput of the first page of 100 records sorted by -upload_create_time (wrk), every
    request rendered from the store (--page-cache-bytes 0); and (1b) the same page with folio's
    page cache warm, against nginx (one worker) serving the same bytes as a static file;
 2. latency of that page at increasing depths: folio's cursors and page numbers, Datasette's
    `_next` tokens and SQL OFFSET;
 3. a full walk with pages of 1000 from one client, and the same result as one streamed
    NDJSON download (/export), against the same ordered scan done directly in the store (the
    physical limit);
 4. peak RSS of every server during 1-3, and of `folio harvest` during 3;
 5. 1-3 again on PostgreSQL, when a server is reachable (--postgres, or --no-postgres);
 6. 1-3 again with folio serving Datasette's own file as it is (`folio serve --sqlite`), its
    walk against the same ordered scan of that file.

Installs what it needs (wrk and sqlite3 with apt-get, Datasette and matplotlib in the
virtualenv target/bench-venv), builds the datasets once (target/bench-data; PostgreSQL: database
folio_bench_<size>), starts every server on 127.0.0.1 and stops it even on error, and bounds
every measurement in time. Prints Markdown tables on stdout, progress on stderr; saves the
results as JSON under target/bench-results and draws the latency-by-depth chart
(bench/results/depth.png for a full run).
"""

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True

from harness import data, measure, procs, report, servers  # noqa: E402

MODES = {
    "full": {"size": 1_000_000, "throughput_seconds": 10, "rounds": 3, "depth_seconds": 3, "walk_budget": 900},
    "quick": {"size": 100_000, "throughput_seconds": 5, "rounds": 1, "depth_seconds": 2, "walk_budget": 60},
}
WRK_THREADS, WRK_CONNECTIONS = 2, 16
FIRST_PAGE, WALK_PAGE = 100, 1000
SCANS_PER_ROUND = 3
SERVER_ALONE = "wrk, middle page × pages"
PYTHON_WALK = "Python, bodies read"
HARVEST_WALK = "folio harvest"
DOWNLOAD = "Python, the NDJSON download read"
DOWNLOAD_HARVEST = "folio harvest, the NDJSON download"
SORT_PATH = "upload_create_time"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100,000 entries and shorter runs (under 3 minutes)")
    ap.add_argument("--size", type=int, help="demo entries (default 1,000,000; --quick: 100,000)")
    ap.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432",
                    help="PostgreSQL server (no database) for item 5 (default %(default)s)")
    ap.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    ap.add_argument("--folio", default=os.path.join(procs.TARGET, "release", "folio"),
                    help="the folio binary (default target/release/folio, built first)")
    ap.add_argument("--no-build", action="store_true", help="do not run cargo build --release first")
    args = ap.parse_args()
    mode = dict(MODES["quick" if args.quick else "full"])
    if args.size:
        mode["size"] = args.size
    size = mode["size"]
    started = time.monotonic()

    procs.ensure_apt("wrk", "wrk")
    procs.ensure_apt("sqlite3", "sqlite3")
    procs.ensure_apt("nginx", "nginx")
    if not args.no_build:
        procs.log("cargo build --release")
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "folio-cli"], cwd=procs.ROOT, check=True,
                       timeout=3600)
    venv = procs.ensure_venv()

    folio_dir = data.folio_demo(args.folio, size)
    datasette_db, inspect = data.datasette_db(folio_dir, venv)
    pg_url = None if args.no_postgres else data.postgres_demo(args.folio, args.postgres, size)

    results = {"meta": describe(args, mode, venv, pg_url), "throughput": {}, "depth": {}, "walk": {"limit": {}},
               "memory": {}}
    depths = results["meta"]["depths"]
    with contextlib.ExitStack() as stack:
        targets = {report.FOLIO: folio_target(stack, args.folio, ["--data-dir", folio_dir], report.FOLIO)}
        targets[report.DATASETTE] = datasette_target(stack, venv, datasette_db, inspect)
        if pg_url:
            targets[report.FOLIO_PG] = folio_target(stack, args.folio, ["--postgres", pg_url], report.FOLIO_PG)
        # The very file Datasette serves, read-only; the cursor secret goes next to it rather
        # than into ./folio-data.
        file_args = ["--sqlite", datasette_db, "--data-dir", os.path.join(os.path.dirname(datasette_db), "folio-data")]
        targets[report.FOLIO_FILE] = folio_target(stack, args.folio, file_args, report.FOLIO_FILE)

        throughput(targets, mode, results)
        hot_page(stack, args.folio, folio_dir, mode, results)
        walks(targets, mode, depths, folio_dir, pg_url, datasette_db, results)
        depth(targets, mode, depths, results)
        for name, t in targets.items():
            server = t["server"]
            results["memory"][f"{name} server"] = {"kib": server.peak_rss_kib(), "anon_kib": server.peak_anon_kib(),
                                                   "during": "1-3"}
            if "mapped_server" in t:
                mapped = t["mapped_server"]
                results["memory"][f"{name} server, page maps"] = {
                    "kib": mapped.peak_rss_kib(), "anon_kib": mapped.peak_anon_kib(), "during": "2"}
    results["meta"]["load_after"] = load_average()

    results["meta"]["seconds"] = round(time.monotonic() - started)
    out_dir = os.path.join(procs.TARGET, "bench-results")
    os.makedirs(out_dir, exist_ok=True)
    name = "quick" if args.quick else "full"
    with open(os.path.join(out_dir, f"results-{name}.json"), "w") as f:
        json.dump(results, f, indent=1)
    chart = os.path.join(procs.ROOT, "bench", "results", "depth.png") if not args.quick and not args.size \
        else os.path.join(out_dir, f"depth-{name}.png")
    subprocess.run([os.path.join(venv, "python"), os.path.join(procs.ROOT, "bench", "chart.py"),
                    os.path.join(out_dir, f"results-{name}.json"), chart], check=True, timeout=300)
    procs.log(f"chart: {os.path.relpath(chart, procs.ROOT)}; results: target/bench-results/results-{name}.json")
    procs.log(f"done in {results['meta']['seconds']} s")
    print(report.markdown(results))
    print(f"Wall time of the run: {results['meta']['seconds']} s.")


def folio_target(stack, binary, store_args, name):
    server = stack.enter_context(servers.folio(binary, store_args, name))
    jsonapi = f"{server.base}/jsonapi/entries"
    # A second server of the same store with the default offset window: page numbers past it
    # are read through the page map it builds on first use (item 2).
    mapped = stack.enter_context(servers.folio(binary, store_args, f"{name}, page maps", offsets=False))
    mapped_jsonapi = f"{mapped.base}/jsonapi/entries"
    return {
        "server": server,
        "first": f"{jsonapi}?page%5Bsize%5D={FIRST_PAGE}&sort=-{SORT_PATH}",
        "walk": f"{jsonapi}?page%5Bcursor%5D=1&page%5Bsize%5D={WALK_PAGE}&sort=-{SORT_PATH}",
        "download": f"{server.base}/export/entries.ndjson?sort=-{SORT_PATH}",
        "records_key": "data",
        "size_param": "page[size]",
        "harvest_args": [],
        # Page numbers reach any depth here (--max-offset unlimited); by default they stop at
        # 10,000 records.
        "offset_method": ("page number", lambda d: f"{jsonapi}?page%5Bnumber%5D={d // FIRST_PAGE + 1}"
                                                  f"&page%5Bsize%5D={FIRST_PAGE}&sort=-{SORT_PATH}"),
        "keyset_method": "cursor",
        "keyset_first": f"{jsonapi}?page%5Bcursor%5D=1&page%5Bsize%5D={FIRST_PAGE}&sort=-{SORT_PATH}",
        "mapped_method": ("page number, page map", lambda d: f"{mapped_jsonapi}?page%5Bnumber%5D={d // FIRST_PAGE + 1}"
                                                           f"&page%5Bsize%5D={FIRST_PAGE}&sort=-{SORT_PATH}"),
        "mapped_server": mapped,
    }


def datasette_target(stack, venv, db, inspect):
    server = stack.enter_context(servers.datasette(venv, db, inspect))
    table = f"{server.base}/entries/entries.json"

    def offset_url(d):
        sql = (f"select {data.DATASETTE_COLUMNS} from entries order by {SORT_PATH} desc, entry_id "
               f"limit {FIRST_PAGE} offset {d}")
        return f"{server.base}/entries.json?" + urllib.parse.urlencode({"sql": sql, "_shape": "objects"})

    return {
        "server": server,
        "first": f"{table}?_sort_desc={SORT_PATH}&_size={FIRST_PAGE}&_shape=objects",
        "walk": f"{table}?_sort_desc={SORT_PATH}&_size={WALK_PAGE}&_shape=objects",
        "records_key": "rows",
        "size_param": "_size",
        "harvest_args": ["--style", "link", "--records-path", "rows"],
        "offset_method": ("SQL OFFSET", offset_url),
        "keyset_method": "_next",
        "keyset_first": f"{table}?_sort_desc={SORT_PATH}&_size={FIRST_PAGE}&_shape=objects",
    }


def throughput(targets, mode, results):
    """Item 1: the servers in turn, `rounds` times; the median round of each by requests/s."""
    rounds = {name: [] for name in targets}
    for name, t in targets.items():
        procs.log(f"1. warming up {name}")
        measure.wrk(t["first"], WRK_THREADS, WRK_CONNECTIONS, 1)
    for r in range(mode["rounds"]):
        for name, t in targets.items():
            procs.log(f"1. first page, {name}, round {r + 1}/{mode['rounds']}")
            rounds[name].append(measure.wrk(t["first"], WRK_THREADS, WRK_CONNECTIONS, mode["throughput_seconds"]))
    for name, t in targets.items():
        best = median(rounds[name], "rps")
        results["throughput"][name] = {**best, "bytes": measure.body_bytes(t["first"]), "rounds": rounds[name]}


def hot_page(stack, binary, folio_dir, mode, results):
    """Item 1b: folio's first page with its page cache warm (a server of its own, with the
    cache on), against nginx with one worker serving the same bytes as a static file."""
    server = stack.enter_context(servers.folio(binary, ["--data-dir", folio_dir], f"{report.FOLIO}, page cache",
                                               page_cache=True))
    url = f"{server.base}/jsonapi/entries?page%5Bsize%5D={FIRST_PAGE}&sort=-{SORT_PATH}"
    with urllib.request.urlopen(url, timeout=60) as r:
        body = r.read()
    root = os.path.join(data.DATA, "static", "www")
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "first.json"), "wb") as f:
        f.write(body)
    static = stack.enter_context(servers.nginx(root, "nginx", "first.json"))
    urls = {report.FOLIO_HOT: url, report.NGINX: f"{static.base}/first.json"}
    rounds = {name: [] for name in urls}
    for name, u in urls.items():
        procs.log(f"1b. warming up {name}")
        measure.wrk(u, WRK_THREADS, WRK_CONNECTIONS, 1)
    for r in range(mode["rounds"]):
        for name, u in urls.items():
            procs.log(f"1b. first page, {name}, round {r + 1}/{mode['rounds']}")
            rounds[name].append(measure.wrk(u, WRK_THREADS, WRK_CONNECTIONS, mode["throughput_seconds"]))
    results["hot"] = {name: {**median(rounds[name], "rps"), "bytes": len(body), "rounds": rounds[name]}
                      for name in urls}


def walks(targets, mode, depths, folio_dir, pg_url, datasette_db, results):
    """Item 3, in `rounds` rounds taken in turn: the physical limits, then per server a walk by a
    client that reads bodies without parsing them (the first also collects the `next` links at
    the depths of item 2), and `folio harvest`. Datasette's walks, 5 to 20 times slower than
    folio's, run in the first round only. The median round of each is kept."""
    size = results["meta"]["size"]
    runs = {}
    for r in range(mode["rounds"]):
        for store, scan in physical_limits(folio_dir, pg_url, datasette_db).items():
            procs.log(f"3. physical limit, {store}, round {r + 1}/{mode['rounds']}: {scan['sql']}")
            for _ in range(SCANS_PER_ROUND):
                runs.setdefault(("limit", store), []).append(
                    {**measure.scan(scan["cmd"], size, mode["walk_budget"]), "client": scan["client"],
                     "sql": scan["sql"]})
        for name, t in targets.items():
            if r > 0 and name == report.DATASETTE:
                continue
            procs.log(f"3. walk, {name}, reading bodies, round {r + 1}/{mode['rounds']}")
            middle = size // 2 // WALK_PAGE * WALK_PAGE
            walk = measure.walk(t["walk"], t["records_key"], mode["walk_budget"], {*depths, middle}, WALK_PAGE)
            links = walk.pop("links")
            t.setdefault("links", links)
            runs.setdefault((name, PYTHON_WALK), []).append(walk)
            if middle in t["links"]:
                # What the server alone delivers to one client that does nothing with the pages:
                # the middle page stands for the average one (Datasette's cost grows with depth).
                procs.log(f"3. middle page of the walk, {name}, wrk -t1 -c1, round {r + 1}/{mode['rounds']}")
                page = measure.wrk(urllib.parse.urljoin(t["walk"], t["links"][middle]), 1, 1, mode["depth_seconds"])
                runs.setdefault((name, SERVER_ALONE), []).append(
                    {"records": size, "seconds": size / WALK_PAGE / page["rps"], "records_per_s": page["rps"] * WALK_PAGE,
                     "estimate": True})
            procs.log(f"3. walk, {name}, folio harvest, round {r + 1}/{mode['rounds']}")
            harvest = measure.harvest(results["meta"]["folio_binary"], t["walk"], t["harvest_args"],
                                      mode["walk_budget"])
            runs.setdefault((name, HARVEST_WALK), []).append(harvest)
            if "download" in t:
                procs.log(f"3. download, {name}, round {r + 1}/{mode['rounds']}")
                runs.setdefault((name, DOWNLOAD), []).append(measure.download(t["download"], mode["walk_budget"]))
                procs.log(f"3. download, {name}, folio harvest, round {r + 1}/{mode['rounds']}")
                runs.setdefault((name, DOWNLOAD_HARVEST), []).append(
                    measure.harvest(results["meta"]["folio_binary"], t["download"], [], mode["walk_budget"]))
    for (name, client), rounds in runs.items():
        # The limit is the fastest scan: what the store can do, not what a busy machine let it.
        best = max(rounds, key=lambda x: x["records_per_s"]) if name == "limit" else median(rounds, "records_per_s")
        results["walk"].setdefault(name, {})[client] = {**best, "rounds": rounds}
        if client == HARVEST_WALK:
            peak = max(x["peak_rss_kib"] for x in rounds)
            results["memory"][f"folio harvest of {name}"] = {"kib": peak, "during": "3"}


def depth(targets, mode, depths, results):
    """Item 2: one connection, each depth in turn through keyset links and through offsets, in
    `rounds` rounds; the median p50 of each point is kept."""
    runs = {}
    for name, t in targets.items():
        if "mapped_method" in t:
            # The first deep page number starts the map's build (a 422 until it is ready).
            _, mapped_url = t["mapped_method"]
            built = measure.until_ok(mapped_url(max(depths)), 300)
            procs.log(f"2. {name}: the page map was ready after {built:.2f} s")
            results.setdefault("maps", {})[name] = {"built_after_s": built}
    for r in range(mode["rounds"]):
        for name, t in targets.items():
            label, offset_url = t["offset_method"]
            for d in depths:
                procs.log(f"2. depth {d:,}, {name}, round {r + 1}/{mode['rounds']}")
                if d == 0:
                    url = t["keyset_first"]
                elif d in t["links"]:
                    link = urllib.parse.urljoin(t["walk"], t["links"][d])
                    url = with_param(link, t["size_param"], FIRST_PAGE)
                else:
                    raise RuntimeError(f"the walk of {name} did not reach depth {d:,} within its time budget")
                runs.setdefault((name, t["keyset_method"], d), []).append(measure.latency(url, mode["depth_seconds"]))
                runs.setdefault((name, label, d), []).append(measure.latency(offset_url(d), mode["depth_seconds"]))
                if "mapped_method" in t:
                    mapped_label, mapped_url = t["mapped_method"]
                    runs.setdefault((name, mapped_label, d), []).append(
                        measure.latency(mapped_url(d), mode["depth_seconds"]))
    for (name, method, d), rounds in runs.items():
        point = {"depth": d, **median(rounds, "p50_ms"), "rounds": rounds}
        results["depth"].setdefault(name, {}).setdefault(method, []).append(point)


def physical_limits(folio_dir, pg_url, datasette_db):
    """Item 3's physical limit: the walk's ordered scan run directly in the store, each document
    written as one line to /dev/null, by the store's own command-line client. For Datasette's
    flat file (item 6) each row is made a JSON object by SQLite (`json_object`), as folio makes
    a record of it."""
    column = data.sqlite_sort_column(folio_dir, SORT_PATH)
    sql = f"SELECT doc FROM folio_c_entries ORDER BY c{column} DESC, id DESC"
    limits = {"sqlite": {"cmd": ["sqlite3", "-readonly", os.path.join(folio_dir, "folio.sqlite"), sql],
                         "client": "`sqlite3` CLI", "sql": sql}}
    members = ", ".join(f"'{c}', {c}" for c in data.DATASETTE_COLUMNS.split(", "))
    # The order folio walks the file in: the file's index keeps ties on `entry_id` ascending
    # (Datasette's order), and folio breaks ties as the index keeps them.
    sql = f"SELECT json_object({members}) FROM entries ORDER BY {SORT_PATH} DESC, entry_id"
    limits["sqlite-file"] = {"cmd": ["sqlite3", "-readonly", datasette_db, sql], "client": "`sqlite3` CLI",
                             "sql": sql}
    if pg_url:
        column = data.postgres_sort_column(pg_url, SORT_PATH)
        sql = f"SELECT doc FROM folio_c_entries ORDER BY n{column} DESC, c{column} DESC, id DESC"
        limits["postgres"] = {"cmd": ["psql", "-X", "-q", "-d", pg_url, "-c", f"COPY ({sql}) TO STDOUT"],
                              "client": "`psql` COPY", "sql": sql}
    return limits


def median(runs, key):
    """The run with the median `key` (the upper one of an even count)."""
    return sorted(runs, key=lambda x: x[key])[len(runs) // 2]


def load_average():
    """The machine's 1-minute load average: how busy it was besides this run."""
    return float(open("/proc/loadavg").read().split()[0])


def with_param(url, name, value):
    """`url` with query parameter `name` set to `value` (cursors do not bind the page size)."""
    parts = urllib.parse.urlsplit(url)
    query = [(k, str(value) if k == name else v) for k, v in urllib.parse.parse_qsl(parts.query)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query, quote_via=urllib.parse.quote)))


def describe(args, mode, venv, pg_url):
    """What ran where: versions, the machine (cores, CPU model, memory), the date."""
    cpu = re.search(r"^model name\s*:\s*(.*)$", open("/proc/cpuinfo").read(), re.M)
    mem = re.search(r"^MemTotal:\s+(\d+) kB", open("/proc/meminfo").read(), re.M)
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=procs.ROOT, capture_output=True,
                            text=True).stdout.strip()
    size = mode["size"]
    meta = {
        "load_before": load_average(),
        "command": "python3 bench/run.py" + (" --quick" if args.quick else "") + (f" --size {size}" if args.size else ""),
        "date": datetime.date.today().isoformat(),
        "size": size,
        "machine": f"{os.cpu_count()} cores ({cpu.group(1).strip() if cpu else platform.machine()}), "
                   f"{int(mem.group(1)) // 1024 ** 2} GiB, Linux {'.'.join(platform.release().split('.')[:2])}",
        "folio": commit,
        "folio_binary": args.folio,
        "datasette": subprocess.run([os.path.join(venv, "datasette"), "--version"], capture_output=True,
                                    text=True).stdout.strip().replace(", version", ""),
        "sqlite": subprocess.run(["sqlite3", "--version"], capture_output=True, text=True).stdout.split()[0],
        "depths": sorted({0, 1000, size // 10, size - size // 100}),
        "wrk_threads": WRK_THREADS,
        "wrk_connections": WRK_CONNECTIONS,
        **mode,
    }
    if pg_url:
        meta["postgres"] = subprocess.run(["psql", "-X", "-q", "-At", "-d", pg_url, "-c", "SHOW server_version"],
                                          capture_output=True, text=True).stdout.strip().split(" ")[0]
        meta["postgres"] = f"PostgreSQL {meta['postgres']}"
    return meta


if __name__ == "__main__":
    main()
