#!/usr/bin/env python3
"""What snapshot walks cost, on each store, in one run: reads at an older moment against reads
of the present, the write that keeps the versions it supersedes, and the space those versions
take until the retention removes them.

    python3 bench/snapshots.py                     # 200,000 records, SQLite and PostgreSQL
    python3 bench/snapshots.py --size 50000 --no-postgres

For each store, in a fresh data directory (target/bench-data/snapshots-*) or database
(folio_bench_snapshots):
1. `folio import` of SIZE records (about 300 bytes each, a sortable `name`, indexed `group`
   and `score`);
2. a cursor walk with pages of 100 sorted by `name` is started and followed to its middle;
3. `folio import --on-duplicate replace` of SIZE records that are all already there (each
   replacement keeps the version it supersedes), timed against the same import of SIZE new
   ids into a copy of the collection (nothing superseded, the same number of rows written);
4. the second and the middle page of the old walk (read at its first page's moment: the
   current rows and the superseded versions, merged) against the same pages of a walk started
   now (the present), each with `wrk -t1 -c1`;
5. the store's size before the replacement, after it, and after a server with
   `--snapshot-retention 2s` has purged the versions.
"""

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

sys.dont_write_bytecode = True

from harness import data, measure, procs, servers  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=200_000, help="records (default 200000)")
    ap.add_argument("--seconds", type=int, default=5, help="seconds of wrk per page (default 5)")
    ap.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432",
                    help="a PostgreSQL server, without the database (default postgres://postgres@127.0.0.1:5432)")
    ap.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    ap.add_argument("--folio", default=os.path.join(procs.TARGET, "release", "folio"),
                    help="the folio binary (default target/release/folio, built first)")
    args = ap.parse_args()
    procs.ensure_apt("wrk", "wrk")
    if args.folio == os.path.join(procs.TARGET, "release", "folio"):
        subprocess.run(["cargo", "build", "--release", "-p", "folio-cli"], check=True, cwd=procs.ROOT)
    base = os.path.join(data.DATA, f"snapshots-{args.size}")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    files = {v: write_records(os.path.join(base, f"records-v{v}.jsonl"), range(args.size), v) for v in (1, 2)}
    files["new"] = write_records(os.path.join(base, "records-new.jsonl"), range(args.size, 2 * args.size), 1)

    # Servers on PostgreSQL keep their cursor secret in ./folio-data: here, not in the tree.
    os.chdir(base)
    stores = [SqliteStore(args.folio, os.path.join(base, "sqlite"))]
    if not args.no_postgres:
        stores.append(PostgresStore(args.folio, args.postgres))
    rows = []
    for store in stores:
        rows.append(measure_store(args, store, files))
    print(f"\n{args.size:,} records, one run, {args.folio}\n")
    print("| store | replace all (versions kept), s | same import of new ids, s | ratio "
          "| second page: snapshot / present req/s | middle page: snapshot / present req/s "
          "| size before | after the replacement | after the purge |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['store']} | {r['replace_s']:.2f} | {r['insert_s']:.2f} | {r['replace_s'] / r['insert_s']:.2f} "
              f"| {r['second'][0]:,.0f} / {r['second'][1]:,.0f} = {r['second'][0] / r['second'][1]:.2f} "
              f"| {r['middle'][0]:,.0f} / {r['middle'][1]:,.0f} = {r['middle'][0] / r['middle'][1]:.2f} "
              f"| {mib(r['sizes'][0])} | {mib(r['sizes'][1])} | {mib(r['sizes'][2])} ({r['versions_left']} versions left) |")
    print("\nSizes: the collection's current and history tables with their indexes; SQLite: their pages (dbstat), "
          "PostgreSQL: pg_total_relation_size after VACUUM. Pages freed by the purge are reused by later writes.")


def write_records(path, ids, v):
    with open(path, "w") as f:
        for i in ids:
            f.write(json.dumps({"id": i, "name": f"n{i * 7919 % 1_000_003:07d}", "group": i % 100,
                                "score": (i * 37 % 1000) / 10, "v": v, "text": f"version {v} " + "x" * 240}) + "\n")
    return path


def measure_store(args, store, files):
    procs.log(f"{store.name}: importing {args.size:,} records")
    store.reset()
    store.run(["import", files[1], "--collection", "things", "--id", "id"])
    store.run(["import", files[1], "--collection", "copy", "--id", "id"])
    sizes = [store.size()]
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(servers.folio(args.folio, store.args + ["--snapshot-retention", "1h"],
                                                   f"snapshots-{store.name}"))
        first = f"{server.base}/jsonapi/things?page%5Bcursor%5D=1&page%5Bsize%5D=100&sort=name"
        old = pages_of(server.base, first, args.size)
        procs.log(f"{store.name}: replacing every record, then importing as many new ids into a copy")
        replace_s = store.timed(["import", files[2], "--collection", "things", "--id", "id",
                                 "--on-duplicate", "replace"])
        insert_s = store.timed(["import", files["new"], "--collection", "copy", "--id", "id",
                                "--on-duplicate", "replace"])
        sizes.append(store.size())
        new = pages_of(server.base, first, args.size)
        if b'"version 1 ' not in get(old[1]) or b'"version 2 ' not in get(new[1]):
            raise RuntimeError("the old walk does not read its snapshot, or the new one the present")
        procs.log(f"{store.name}: reading pages at the snapshot and at the present")
        rps = [[measure.wrk(url, 1, 1, args.seconds)["rps"] for url in pair] for pair in zip(old, new)]
    # A server that keeps versions two seconds purges them within a few more.
    with servers.folio(args.folio, store.args + ["--snapshot-retention", "2s"], f"snapshots-{store.name}-purge"):
        deadline = time.monotonic() + 120
        while store.versions() > 0 and time.monotonic() < deadline:
            time.sleep(0.5)
    return {"store": store.name, "replace_s": replace_s, "insert_s": insert_s,
            "second": rps[0], "middle": rps[1],
            "sizes": [*sizes, store.size()], "versions_left": store.versions()}


def pages_of(base, first, size):
    """The URLs of the second page and of the middle page of a walk started now."""
    middle = size // 2 // 100 * 100
    walk = measure.walk(first, "data", 600, {100, middle}, 100)
    return [base + walk["links"][100], base + walk["links"][middle]]


def get(url):
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def mib(n):
    return f"{n / 2**20:.1f} MiB"


class SqliteStore:
    """folio's embedded store in a data directory."""
    name = "SQLite"

    def __init__(self, folio, data_dir):
        self.folio = folio
        self.data_dir = data_dir
        self.args = ["--data-dir", data_dir]

    def reset(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def run(self, cmd):
        subprocess.run([self.folio, *cmd, *self.args], check=True, capture_output=True, timeout=3600)

    def timed(self, cmd):
        seconds, _, code, err, _ = procs.timed([self.folio, *cmd, *self.args], 3600)
        if code != 0:
            raise RuntimeError(err)
        return seconds

    def _sql(self, query):
        out = subprocess.run(["sqlite3", "-readonly", os.path.join(self.data_dir, "folio.sqlite"), query],
                             check=True, capture_output=True, text=True, timeout=600).stdout
        return int(out.split()[0])

    def size(self):
        return self._sql("SELECT coalesce(sum(pgsize), 0) FROM dbstat JOIN sqlite_schema s ON s.name = dbstat.name "
                         "WHERE s.tbl_name IN ('folio_c_things', 'folio_h_things')")

    def versions(self):
        return self._sql("SELECT count(*) FROM folio_h_things")


class PostgresStore(SqliteStore):
    """A database of its own on a PostgreSQL server."""
    name = "PostgreSQL"

    def __init__(self, folio, server):
        self.folio = folio
        self.server = server
        self.url = f"{server}/folio_bench_snapshots"
        self.args = ["--postgres", self.url]

    def reset(self):
        for sql in ("DROP DATABASE IF EXISTS folio_bench_snapshots WITH (FORCE)", "CREATE DATABASE folio_bench_snapshots"):
            subprocess.run(["psql", "-X", "-q", "-d", f"{self.server}/postgres", "-c", sql], check=True, timeout=120)

    def _sql(self, query):
        out = subprocess.run(["psql", "-X", "-q", "-At", "-d", self.url, "-c", query],
                             check=True, capture_output=True, text=True, timeout=600).stdout
        return int(out.split()[-1])

    def size(self):
        subprocess.run(["psql", "-X", "-q", "-d", self.url, "-c", "VACUUM"], check=True, timeout=600)
        return self._sql("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                         "WHERE c.relkind = 'r' AND c.relname IN ('folio_c_things', 'folio_h_things')")


if __name__ == "__main__":
    main()
