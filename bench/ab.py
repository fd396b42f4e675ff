#!/usr/bin/env python3
"""Two or more folio binaries on the same data, in one run: requests/s of each as a ratio to the first.

    cp target/release/folio target/folio-before     # then change the code and rebuild
    python3 bench/ab.py target/folio-before target/release/folio
    python3 bench/ab.py A B --size 1000000 --rounds 7 --seconds 5
    python3 bench/ab.py A B --postgres                # the same, every binary on PostgreSQL

Every binary serves the same demo store (built by the first one, cached under
target/bench-data); they are measured in turn, round after round, so that a noisy machine
slows them alike, and the median round of each is compared. Two pages are measured:
the first page of 100 records sorted by -upload_create_time under `wrk -t2 -c16` (the
throughput of bench/run.py's item 1), and a 1000-record cursor page from the middle of the
walk under `wrk -t1 -c1` (one client walking, item 3); and a whole walk with pages of 1000
by `folio harvest` (bench/run.py's item 3), always with the same harvester (--harvester, by
default the last binary), so that only the server differs.
"""

import argparse
import contextlib
import os
import statistics
import sys

sys.dont_write_bytecode = True

from harness import data, measure, procs, servers  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binaries", nargs="+", help="folio binaries; the first is the baseline")
    ap.add_argument("--size", type=int, default=100_000, help="demo entries (default 100000)")
    ap.add_argument("--rounds", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("--seconds", type=int, default=3, help="seconds of wrk per page and round (default 3)")
    ap.add_argument("--harvester", help="the folio binary whose `harvest` walks every server (default: the last)")
    ap.add_argument("--postgres", nargs="?", const="postgres://postgres@127.0.0.1:5432", metavar="URL",
                    help="serve the demo from PostgreSQL at URL (a server, without the database; default "
                         "postgres://postgres@127.0.0.1:5432) instead of the embedded store")
    args = ap.parse_args()
    if len(args.binaries) < 2:
        ap.error("give at least two binaries")
    procs.ensure_apt("wrk", "wrk")
    if args.postgres:
        url = data.postgres_demo(args.binaries[0], args.postgres, args.size)
        if url is None:
            sys.exit("PostgreSQL is not reachable")
        store_args = ["--postgres", url]
    else:
        store_args = ["--data-dir", data.folio_demo(args.binaries[0], args.size)]

    harvester = args.harvester or args.binaries[-1]
    pages = {"first page of 100, wrk -t2 -c16": (2, 16), "cursor page of 1000, wrk -t1 -c1": (1, 1)}
    walk_column = "walk with pages of 1000, folio harvest, records/s"
    rps = {(b, p): [] for b in args.binaries for p in [*pages, walk_column]}
    with contextlib.ExitStack() as stack:
        urls = {}
        for n, binary in enumerate(args.binaries):
            server = stack.enter_context(servers.folio(binary, store_args, f"ab-{n}"))
            jsonapi = f"{server.base}/jsonapi/entries"
            walk = measure.walk(f"{jsonapi}?page%5Bcursor%5D=1&page%5Bsize%5D=1000&sort=-upload_create_time", "data",
                                120, {args.size // 2000 * 1000}, 1000)
            urls[binary] = [f"{jsonapi}?page%5Bsize%5D=100&sort=-upload_create_time",
                            server.base + next(iter(walk["links"].values())),
                            f"{jsonapi}?page%5Bcursor%5D=1&page%5Bsize%5D=1000&sort=-upload_create_time"]
        for r in range(args.rounds):
            procs.log(f"round {r + 1}/{args.rounds}")
            for (page, (threads, conns)), n in zip(pages.items(), range(2)):
                for binary in args.binaries:
                    rps[(binary, page)].append(measure.wrk(urls[binary][n], threads, conns, args.seconds)["rps"])
            for binary in args.binaries:
                walked = measure.harvest(harvester, urls[binary][2], [], 600)
                rps[(binary, walk_column)].append(walked["records_per_s"])

    base = args.binaries[0]
    store = "PostgreSQL" if args.postgres else "the embedded store"
    print(f"\n{args.size:,} demo entries in {store}, {args.rounds} rounds of {args.seconds} s, median requests/s "
          f"(the walk: records/s, harvested by {os.path.relpath(harvester)}), one run\n")
    columns = [*pages, walk_column]
    print("| binary | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for binary in args.binaries:
        cells = []
        for page in columns:
            mine, theirs = statistics.median(rps[(binary, page)]), statistics.median(rps[(base, page)])
            cells.append(f"{mine:,.0f} ({mine / theirs:.2f}x)")
        print(f"| {os.path.relpath(binary)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
