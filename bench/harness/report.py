"""The results as Markdown tables, ready to paste into BENCHMARKS.md."""

FOLIO = "folio (SQLite)"
FOLIO_PG = "folio (PostgreSQL)"
FOLIO_FILE = "folio (--sqlite)"
DATASETTE = "Datasette"
FOLIO_HOT = "folio (SQLite), page cache warm"
NGINX = "nginx (one worker), the same bytes as a static file"
DOWNLOAD = "Python, the NDJSON download read"


def markdown(results):
    """Every table, with the goals of each and whether this run met them."""
    meta = results["meta"]
    out = [
        f"Run `{meta['command']}` on {meta['date']}: {meta['size']:,} demo entries, {meta['machine']}.",
        f"folio {meta['folio']}, {meta['datasette']}, SQLite {meta['sqlite']}"
        + (f", {meta['postgres']}" if meta.get("postgres") else "") + ".",
        f"Load average (1 minute) before the run {meta['load_before']:.2f}, after it {meta['load_after']:.2f}.",
        "",
    ]
    out += _throughput(results)
    out += _hot(results)
    out += _depth(results)
    out += _walks(results)
    out += _memory(results)
    return "\n".join(out)


def _throughput(results):
    meta, rows = results["meta"], results["throughput"]
    out = [
        f"### 1. First page: 100 records sorted by `-upload_create_time`",
        "",
        f"`wrk -t{meta['wrk_threads']} -c{meta['wrk_connections']} -d{meta['throughput_seconds']}s`, "
        f"median of {meta['rounds']} round(s) taken in turn.",
        "",
        "| server | requests/s | p50 ms | p99 ms | body bytes | requests/s vs Datasette |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    peer = rows.get(DATASETTE, {}).get("rps")
    for name, r in rows.items():
        ratio = f"{r['rps'] / peer:.1f}x" if peer else "n/a"
        out.append(f"| {name} | {r['rps']:,.0f} | {_ms(r['p50_ms'])} | {_ms(r['p99_ms'])} | {r['bytes']:,} | {ratio} |")
    if peer and FOLIO in rows:
        ratio = rows[FOLIO]["rps"] / peer
        out += ["", f"Goal: folio at least 10x Datasette's requests/s: {ratio:.1f}x, {_met(ratio >= 10)}."]
    if peer and FOLIO_FILE in rows:
        ratio = rows[FOLIO_FILE]["rps"] / peer
        line = f"Goal: folio serving Datasette's file at least 40x Datasette's requests/s: {ratio:.1f}x, {_met(ratio >= 40)}"
        if FOLIO in rows:
            native = rows[FOLIO_FILE]["rps"] / rows[FOLIO]["rps"]
            line += f"; and at least 0.8 of {FOLIO}'s: {native:.2f}, {_met(native >= 0.8)}"
        out += ["", line + "."]
    return out + [""]


def _hot(results):
    rows = results.get("hot")
    if not rows:
        return []
    meta = results["meta"]
    out = [
        "### 1b. The first page from folio's page cache, and from nginx",
        "",
        f"`wrk -t{meta['wrk_threads']} -c{meta['wrk_connections']} -d{meta['throughput_seconds']}s`, "
        f"median of {meta['rounds']} round(s) taken in turn; the same {next(iter(rows.values()))['bytes']:,} bytes.",
        "",
        "| server | requests/s | p50 ms | p99 ms | requests/s vs nginx |",
        "|---|---:|---:|---:|---:|",
    ]
    peer = rows.get(NGINX, {}).get("rps")
    for name, r in rows.items():
        ratio = f"{r['rps'] / peer:.2f}" if peer else "n/a"
        out.append(f"| {name} | {r['rps']:,.0f} | {_ms(r['p50_ms'])} | {_ms(r['p99_ms'])} | {ratio} |")
    if peer and FOLIO_HOT in rows:
        ratio = rows[FOLIO_HOT]["rps"] / peer
        out += ["", f"Goal: folio with its page cache warm at least 0.3 of nginx's requests/s: {ratio:.2f}, "
                    f"{_met(ratio >= 0.3)}."]
    return out + [""]


def _depth(results):
    meta, depth = results["meta"], results["depth"]
    depths = meta["depths"]
    out = [
        "### 2. Depth: the same 100-record page further into the collection",
        "",
        f"p50 latency in ms with one connection (`wrk -t1 -c1 -d{meta['depth_seconds']}s`), median of "
        f"{meta['rounds']} round(s), and in brackets the ratio to the first page of the same method.",
        "",
        "| server | method | " + " | ".join(f"depth {d:,}" for d in depths) + " | deepest / first |",
        "|---|---|" + "---:|" * (len(depths) + 1),
    ]
    goal, mapped_goal = [], []
    for server, methods in depth.items():
        for method, points in methods.items():
            first = points[0]["p50_ms"]
            cells = [f"{_ms(p['p50_ms'])} ({p['p50_ms'] / first:.2f})" for p in points]
            ratio = points[-1]["p50_ms"] / first
            out.append(f"| {server} | {method} | " + " | ".join(cells) + f" | {ratio:.2f} |")
            if server.startswith("folio") and method == "cursor":
                goal.append(f"{server} {ratio:.2f}, {_met(ratio <= 1.2)}")
            if method == "page number, page map":
                # Against the first page of the same server's cursor walk: the page a client
                # would otherwise ask for.
                cursor_first = methods["cursor"][0]["p50_ms"]
                mapped_goal.append(f"{server} {points[-1]['p50_ms'] / cursor_first:.2f}, "
                                   f"{_met(points[-1]['p50_ms'] / cursor_first <= 2)}")
    if goal:
        out += ["", "Goal: deepest / first at most 1.2 for cursors: " + "; ".join(goal) + "."]
    if mapped_goal:
        built = ", ".join(f"{name} {m['built_after_s']:.2f} s" for name, m in results.get("maps", {}).items())
        out += ["", f"Page numbers past the offset window (10,000 records) are read through page maps, built in the "
                    f"background on the first deep request (ready after: {built}). "
                    "Goal: the deepest page number at most 2x the first page: " + "; ".join(mapped_goal) + "."]
    return out + [""]


def _walks(results):
    meta, walks = results["meta"], results["walk"]
    out = [
        f"### 3. Export: a full walk with pages of 1000, one client",
        "",
        f"Median of {meta['rounds']} round(s) taken in turn (Datasette's walks: the first round only); "
        f"the scans: the fastest of {meta['rounds'] * 3}.",
        "The physical limit is the walk's ordered scan run directly in the store by its own client, each "
        "document written as one line to /dev/null. The clients: *folio harvest* follows the `next` links, "
        "parses each page and writes every record as one JSON line to /dev/null; *Python, bodies read* "
        "follows the `Link` headers with one keep-alive `http.client` connection and reads every body "
        "without parsing it; *wrk, middle page × pages* is `wrk -t1 -c1` on the page in the middle of the "
        "walk, times the number of pages: the server alone, with a client that does nothing. "
        "*Python, the NDJSON download read* is one `GET /export/entries.ndjson?sort=-upload_create_time` "
        "read to its end in reads of up to 1 MiB, counting lines; *folio harvest, the NDJSON download* "
        "harvests that download, checking every line is JSON, to /dev/null.",
        "",
        "| walk | client | records | seconds | records/s | vs the store's own ordered scan |",
        "|---|---|---:|---:|---:|---:|",
    ]
    goal, download_goal = [], []
    for store, limit_name in (("sqlite", "SQLite"), ("postgres", "PostgreSQL"),
                              ("sqlite-file", "Datasette's SQLite file")):
        limit = walks.get("limit", {}).get(store)
        if not limit:
            continue
        out.append(f"| {limit_name}: ordered scan, JSON lines to /dev/null (physical limit) | {limit['client']} "
                   f"| {limit['records']:,} | {limit['seconds']:.2f} | {limit['records_per_s']:,.0f} | 1.00 |")
        for server, clients in walks.items():
            if server == "limit" or _store_of(server) != store:
                continue
            for client, w in sorted(clients.items(), key=lambda item: _client_order(item[0])):
                if w.get("timed_out"):
                    out.append(f"| {server} | {client} | | > {w['seconds']:.0f} | timed out | |")
                    continue
                partial = "" if w.get("complete", True) else " (stopped at the time budget)"
                share = w["records_per_s"] / limit["records_per_s"]
                about = "≈ " if w.get("estimate") else ""
                out.append(f"| {server}{partial} | {client} | {w['records']:,} | {about}{w['seconds']:.2f} "
                           f"| {w['records_per_s']:,.0f} | {share:.2f} |")
                if server.startswith("folio") and client == DOWNLOAD:
                    download_goal.append(f"{server} {share:.2f}, {_met(share >= 0.8)}")
                elif server.startswith("folio") and client != "wrk, middle page × pages" and "download" not in client:
                    goal.append(f"{server} with {client} {share:.2f}, {_met(share >= 0.5)}")
    peer = walks.get(DATASETTE, {})
    for client in peer:
        mine = walks.get(FOLIO, {}).get(client)
        if mine and not mine.get("timed_out") and not peer[client].get("timed_out"):
            goal.append(f"vs Datasette with {client}: {mine['records_per_s'] / peer[client]['records_per_s']:.1f}x")
    for client, mine in walks.get(FOLIO_FILE, {}).items():
        native = walks.get(FOLIO, {}).get(client)
        if client != "wrk, middle page × pages" and native and not mine.get("timed_out") \
                and not native.get("timed_out"):
            share = mine["records_per_s"] / native["records_per_s"]
            goal.append(f"{FOLIO_FILE} vs {FOLIO} with {client} {share:.2f} (goal 0.8), {_met(share >= 0.8)}")
    if goal:
        out += ["", "Goal: folio's HTTP walk at least 0.5 of the scan: " + "; ".join(goal) + "."]
    if download_goal:
        out += ["", "Goal: the NDJSON download at least 0.8 of the scan: " + "; ".join(download_goal) + "."]
    return out + [""]


def _memory(results):
    out = [
        "### 4. Memory: peak resident set size",
        "",
        "Peak RSS is the kernel's high-water mark (VmHWM); it counts the pages of memory-mapped files "
        "(folio maps its whole SQLite file, up to 2 GiB, into every read connection: the page cache, shared) as well as the heap. "
        "Peak anonymous memory (heap, no mapped files) is sampled ten times a second. "
        "The PostgreSQL server's own processes are not counted.",
        "",
        "| process | during | peak RSS MiB | peak anonymous MiB |",
        "|---|---|---:|---:|",
    ]
    for name, r in sorted(results["memory"].items(), key=lambda item: "harvest" in item[0]):
        anon = f"{r['anon_kib'] / 1024:,.0f}" if "anon_kib" in r else ""
        out.append(f"| {name} | {r['during']} | {r['kib'] / 1024:,.0f} | {anon} |")
    return out + [""]


def _client_order(client):
    """The server alone first, then the clients from the lightest to the real one."""
    order = ("wrk", "Python, bodies", "folio harvest", "Python, the NDJSON", "folio harvest, the NDJSON")
    # The longest prefix that matches: "folio harvest, the NDJSON..." after "folio harvest".
    return max((n for n, prefix in enumerate(order) if client.startswith(prefix)), default=len(order))


def _store_of(server):
    return "postgres" if "PostgreSQL" in server else "sqlite-file" if server == FOLIO_FILE else "sqlite"


def _ms(value):
    return "n/a" if value is None else f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def _met(ok):
    return "met" if ok else "NOT met"
