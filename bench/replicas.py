#!/usr/bin/env python3
"""A read-heavy load on PostgreSQL with and without a streaming replica, in one run.

    python3 bench/replicas.py                      # 100,000 demo entries, 3 rounds of 5 s
    python3 bench/replicas.py --size 20000 --rounds 1 --seconds 3

Makes a primary and a streaming replica of it (initdb and pg_basebackup -R, run as the
`postgres` user, in target/bench-data/replicas on free ports), builds folio's demo in the
primary, and measures, round after round, with the same folio binary:
1. the first page of 100 records sorted by -upload_create_time under `wrk -t2 -c16`;
2. a 100-record cursor page from the middle of a walk under `wrk -t2 -c16`;
each against `folio serve --postgres PRIMARY` and against the same with
`--postgres-replica REPLICA`, and reports requests/s and how many page reads each database
served (its `pg_stat_database.xact_commit`, read once the server has stopped).
"""

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse

sys.dont_write_bytecode = True

from harness import data, measure, procs, servers  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000, help="demo entries (default 100000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    ap.add_argument("--seconds", type=int, default=5, help="seconds of wrk per page and round (default 5)")
    ap.add_argument("--folio", default=os.path.join(procs.TARGET, "release", "folio"),
                    help="the folio binary (default target/release/folio, built first)")
    args = ap.parse_args()
    procs.ensure_apt("wrk", "wrk")
    if args.folio == os.path.join(procs.TARGET, "release", "folio"):
        subprocess.run(["cargo", "build", "--release", "-p", "folio-cli"], check=True, cwd=procs.ROOT)
    base = os.path.join(data.DATA, "replicas")
    with Replication(base) as pg:
        procs.log(f"building the demo ({args.size:,} entries) in the primary")
        # Servers keep their cursor secret in ./folio-data: here, not in the tree.
        os.chdir(base)
        data._build_demo(args.folio, args.size, ["--postgres", pg.primary], "demo in the primary", base)
        pg.caught_up()
        setups = {
            "primary only": ["--postgres", pg.primary],
            "primary + replica": ["--postgres", pg.primary, "--postgres-replica", pg.replica],
        }
        pages = ["first page of 100", "middle cursor page of 100"]
        rps = {(s, p): [] for s in setups for p in pages}
        served = {s: [0, 0] for s in setups}
        for n in range(args.rounds):
            for setup, store_args in setups.items():
                procs.log(f"round {n + 1}/{args.rounds}: {setup}")
                before = [pg.commits(pg.primary), pg.commits(pg.replica)]
                with servers.folio(args.folio, store_args, f"replicas-{setup}") as server:
                    first = f"{server.base}/jsonapi/entries?page%5Bsize%5D=100&sort=-upload_create_time"
                    walk = measure.walk(first + "&page%5Bcursor%5D=1", "data", 600, {args.size // 2}, 100)
                    middle = server.base + walk["links"][args.size // 2]
                    for page, url in zip(pages, [first, middle]):
                        rps[(setup, page)].append(measure.wrk(url, 2, 16, args.seconds)["rps"])
                # The server's connections are closed: their backends wrote their statistics.
                time.sleep(1)
                after = [pg.commits(pg.primary), pg.commits(pg.replica)]
                for i in range(2):
                    served[setup][i] += after[i] - before[i]
    print(f"\n{args.size:,} demo entries, primary and replica on this machine, "
          f"{args.rounds} rounds of {args.seconds} s, median requests/s, one run\n")
    print("| setup | " + " | ".join(pages) + " | transactions on the primary / on the replica |")
    print("|---|" + "---:|" * len(pages) + "---:|")
    for setup in setups:
        cells = []
        for page in pages:
            median = statistics.median(rps[(setup, page)])
            baseline = statistics.median(rps[("primary only", page)])
            cells.append(f"{median:,.0f} ({median / baseline:.2f}x)")
        primary, replica = served[setup]
        print(f"| {setup} | " + " | ".join(cells) + f" | {primary:,} / {replica:,} |")


class Replication:
    """A primary and a streaming replica in `base`, stopped and removed on exit."""

    def __init__(self, base):
        self.base = base
        self.bin = server_bin()

    def __enter__(self):
        shutil.rmtree(self.base, ignore_errors=True)
        os.makedirs(self.base)
        os.chmod(self.base, 0o777)
        self.dirs = {name: os.path.join(self.base, name) for name in ("primary", "replica")}
        ports = {name: procs.free_port() for name in self.dirs}
        procs.log("making a primary and a streaming replica (initdb, pg_basebackup -R)")
        self.run("initdb", "-D", self.dirs["primary"], "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.append(os.path.join(self.dirs["primary"], "postgresql.conf"),
                    f"listen_addresses = '127.0.0.1'\nport = {ports['primary']}\n"
                    f"unix_socket_directories = '{self.base}'\nfsync = off\nsynchronous_commit = off\n")
        self.start("primary")
        self.primary = f"postgres://postgres@127.0.0.1:{ports['primary']}/postgres"
        self.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(ports["primary"]), "-U", "postgres",
                 "-D", self.dirs["replica"], "-R", "-X", "stream", "--no-sync")
        self.append(os.path.join(self.dirs["replica"], "postgresql.conf"), f"port = {ports['replica']}\n")
        self.start("replica")
        self.replica = f"postgres://postgres@127.0.0.1:{ports['replica']}/postgres"
        return self

    def __exit__(self, *exc):
        for name in ("replica", "primary"):
            subprocess.run(as_postgres([os.path.join(self.bin, "pg_ctl"), "-D", self.dirs[name],
                                        "-m", "immediate", "-w", "stop"]), capture_output=True, timeout=60)
        shutil.rmtree(self.base, ignore_errors=True)

    def run(self, program, *args):
        subprocess.run(as_postgres([os.path.join(self.bin, program), *args]), check=True,
                       capture_output=True, timeout=300, cwd="/tmp")

    def start(self, name):
        self.run("pg_ctl", "-D", self.dirs[name], "-l", os.path.join(self.base, f"{name}.log"), "-w", "start")

    def append(self, path, text):
        subprocess.run(as_postgres(["sh", "-c", f"cat >> '{path}'"]), input=text.encode(), check=True, timeout=30)

    def sql(self, url, query):
        out = subprocess.run(["psql", "-X", "-tA", "-d", url, "-c", query], capture_output=True, text=True,
                             check=True, timeout=60)
        return out.stdout.strip()

    def commits(self, url):
        """Transactions committed in the database so far (the page reads it served, and more)."""
        database = urllib.parse.urlparse(url).path.lstrip("/")
        return int(self.sql(url, f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{database}'"))

    def caught_up(self):
        lsn = self.sql(self.primary, "SELECT pg_current_wal_lsn()")
        while self.sql(self.replica, f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn") != "t":
            pass


def server_bin():
    """PostgreSQL's server programs: the newest under /usr/lib/postgresql (Debian's place)."""
    root = "/usr/lib/postgresql"
    versions = sorted((int(v) for v in os.listdir(root) if v.isdigit()), reverse=True) if os.path.isdir(root) else []
    if not versions:
        sys.exit("PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup) are not installed")
    return os.path.join(root, str(versions[0]), "bin")


def as_postgres(cmd):
    """`cmd` run as the `postgres` user (PostgreSQL's programs refuse root)."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


if __name__ == "__main__":
    main()
