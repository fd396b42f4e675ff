#!/usr/bin/env python3
"""Latency of one page at increasing depths, through cursors and through page numbers.

Starts `folio serve --demo` (release build) on 127.0.0.1 with the offset window removed, so
that page numbers can be measured at the same depths as cursors, collects the URL of the page
at each depth by walking `links.next`, then runs `wrk` on each URL for a fixed duration with
one connection, and prints the p50 latency and its ratio to the first page's, all from one run.

    python3 bench/depth.py                       # 100,000 entries, pages of 1,000, 5 s each
    python3 bench/depth.py --size 20000 --duration 2

Needs `wrk` (Debian package `wrk`); installs it with apt-get when missing and allowed.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000, help="demo entries (default 100000)")
    ap.add_argument("--page-size", type=int, default=1000, help="records per page (default 1000)")
    ap.add_argument("--duration", type=int, default=5, help="seconds of wrk per URL (default 5)")
    ap.add_argument("--sort", default="-upload_create_time", help="sort (default -upload_create_time)")
    args = ap.parse_args()

    ensure_wrk()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    data_dir = os.path.join(ROOT, "target", "bench-data")
    server = subprocess.Popen(
        [os.path.join(ROOT, "target", "release", "folio"), "serve", "--demo", "--demo-size", str(args.size),
         "--data-dir", data_dir, "--addr", "127.0.0.1:0", "--max-offset", "unlimited"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = server.stdout.readline().strip().removeprefix("listening on ")
        rows = measure(base, args)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print_table(rows, args)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    print("wrk is missing; installing it with apt-get", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


def measure(base, args):
    size, total = args.page_size, args.size
    pages = total // size
    depths = sorted({0, min(1, pages - 1), pages // 2, pages - 1})
    common = f"page%5Bsize%5D={size}&sort={args.sort}"

    # Cursor URLs: walk links.next and keep the pages at the chosen depths.
    cursor_urls = {}
    url = f"/jsonapi/entries?page%5Bcursor%5D=1&{common}"
    index = 0
    while url and index <= depths[-1]:
        if index in depths:
            cursor_urls[index] = url
        with urllib.request.urlopen(base + url) as r:
            url = json.load(r)["links"].get("next")
        index += 1

    rows = []
    for index in depths:
        depth = index * size
        rows.append(("cursor", depth, wrk(base + cursor_urls[index], args.duration)))
        number_url = f"{base}/jsonapi/entries?page%5Bnumber%5D={index + 1}&{common}"
        rows.append(("page number", depth, wrk(number_url, args.duration)))
    return rows


def wrk(url, seconds):
    out = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not p50 or not rps or non2xx:
        raise SystemExit(f"wrk failed on {url}:\n{out}")
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[p50.group(2)]
    return float(p50.group(1)) * scale, float(rps.group(1))


def print_table(rows, args):
    print(f"\n{args.size} demo entries, pages of {args.page_size}, sort {args.sort}, "
          f"wrk -t1 -c1 -d{args.duration}s per row, one run\n")
    print(f"{'method':<12} {'depth':>8} {'p50 ms':>8} {'req/s':>8} {'p50 / first page':>17}")
    first = {}
    for method, depth, (p50, rps) in rows:
        first.setdefault(method, p50)
        print(f"{method:<12} {depth:>8} {p50:>8.2f} {rps:>8.1f} {p50 / first[method]:>17.2f}")


if __name__ == "__main__":
    main()
