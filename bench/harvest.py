#!/usr/bin/env python3
"""How close `folio harvest` comes to what `folio serve` can deliver to one client.

Starts `folio serve --demo` (release build) on 127.0.0.1, then alternates, in one run:
`wrk -t1 -c1` requesting, in order and over and over, the URLs of every page of the walk
(the server's single-client ceiling: the same pages, with no client-side work; measured
before and after each harvest, and averaged), and a full
`folio harvest` of the collection with the same page size into a file (or, with --out stdout,
to /dev/null). Prints records/s of both and their ratio per round, the harvester's CPU time
(user and system), and the medians.

    python3 bench/harvest.py                 # 1,000,000 entries, pages of 1000, 5 rounds
    python3 bench/harvest.py --size 100000 --rounds 3 --style simple
    python3 bench/harvest.py --out stdout    # to /dev/null: without the cost of the disk
    python3 bench/harvest.py --harvesters target/folio-before target/release/folio   # A/B

With --harvesters, each round runs every given binary's `folio harvest` in turn (the server is
always target/release/folio), so that two builds of the harvester are compared in one run.

With --pin (the default when the machine has two cores or more), the server runs on core 0
and the client (wrk, or the harvester) on core 1, as if they were on two machines: on two
cores, a client and a server left to the scheduler take turns on the same core.
"""

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLIO = os.path.join(ROOT, "target", "release", "folio")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000, help="demo entries (built once, cached)")
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--style", choices=["jsonapi", "simple"], default="jsonapi")
    ap.add_argument("--pin", action=argparse.BooleanOptionalAction, default=(os.cpu_count() or 1) >= 2,
                    help="server on core 0, client on core 1 (default with two cores or more)")
    ap.add_argument("--harvesters", nargs="+", default=[FOLIO], metavar="BIN",
                    help="folio binaries whose harvest to measure, in turn (default: the release build)")
    ap.add_argument("--out", choices=["file", "stdout"], default="file",
                    help="harvest into a file (--out, synced and checkpointed) or to standard output "
                         "(/dev/null): the difference is the cost of the disk")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    # One directory per size, shared with bench/run.py and bench/ab.py: a store rebuilt
    # at another size would keep its larger file, and read differently.
    data_dir = os.path.join(ROOT, "target", "bench-data", f"folio-{args.size}")
    server_core, client_core = (["taskset", "-c", "0"], ["taskset", "-c", "1"]) if args.pin else ([], [])
    server = subprocess.Popen(server_core + [FOLIO, "serve", "--demo", "--demo-size", str(args.size), "--data-dir", data_dir,
                              "--addr", "127.0.0.1:0", "--max-offset", "unlimited"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = server.stdout.readline().strip().removeprefix("listening on ")
        first = {"jsonapi": f"/jsonapi/entries?page%5Bcursor%5D=1&page%5Bsize%5D={args.page_size}",
                 "simple": f"/simple/entries?per_page={args.page_size}"}[args.style]
        pages = walk_urls(base, first, args.style)
        ratios = {bin_: [] for bin_ in args.harvesters}
        cpu = {bin_: [] for bin_ in args.harvesters}
        with tempfile.TemporaryDirectory() as tmp:
            after = wrk(client_core, base, pages) * args.page_size
            for round_ in range(args.rounds):
                # The order turns from round to round: whichever harvest runs first in a round
                # ran faster in measurements (0.07 of the ceiling), whatever the build.
                turn = round_ % len(args.harvesters)
                for i, bin_ in enumerate(args.harvesters[turn:] + args.harvesters[:turn]):
                    before = after
                    # A file of its own: `folio harvest` never replaces a file that holds records.
                    out = os.path.join(tmp, f"h{round_}-{i}.jsonl")
                    started, used = time.perf_counter(), children_cpu()
                    where = ["--out", out] if args.out == "file" else []
                    subprocess.run(client_core + [bin_, "harvest", base + first, "--quiet"] + where, check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    rate = args.size / (time.perf_counter() - started)
                    cpu[bin_].append(children_cpu() - used)
                    # The ceiling is measured right before and right after each harvest, so
                    # that a machine that slows down or speeds up meanwhile affects both.
                    after = wrk(client_core, base, pages) * args.page_size
                    ceiling = (before + after) / 2
                    ratios[bin_].append(rate / ceiling)
                    name = f" {bin_}" if len(args.harvesters) > 1 else ""
                    print(f"round {round_ + 1}: server to one client {ceiling:9.0f} records/s, "
                          f"harvest{name} {rate:9.0f} records/s, ratio {rate / ceiling:.2f}, "
                          f"harvester CPU {cpu[bin_][-1]:.2f} s")
        for bin_, got in ratios.items():
            name = f" ({bin_})" if len(args.harvesters) > 1 else ""
            print(f"median ratio harvest / single-client ceiling{name}: {statistics.median(got):.2f}; "
                  f"median harvester CPU {statistics.median(cpu[bin_]):.2f} s")
    finally:
        server.terminate()
        server.wait(timeout=30)


def children_cpu():
    """CPU seconds (user and system) used so far by the child processes that ended."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def walk_urls(base, first, style):
    """The URL of every page of the walk, in order."""
    urls, url = [], first
    while url:
        urls.append(url)
        with urllib.request.urlopen(base + url) as r:
            if style == "jsonapi":
                url = json.load(r)["links"].get("next")
            else:
                found = re.search(r'<([^>]+)>; rel="next"', r.headers.get("Link", ""))
                url = found and found.group(1)
    return urls


def wrk(core, base, paths):
    """Pages per second one connection gets, asking for `paths` in turn."""
    lua = ("local paths = {" + ", ".join(json.dumps(p) for p in paths) + "}\n"
           "local i = 0\n"
           "function request() i = i % #paths + 1; return wrk.format(\"GET\", paths[i]) end\n")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        out = subprocess.run(core + ["wrk", "-t1", "-c1", "-d3s", "-s", script.name, base],
                             capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    return float(re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M).group(1))


if __name__ == "__main__":
    main()
