#!/usr/bin/env python3
"""Load test: `folio serve --demo` under wrk with many connections, mixing first pages, deep
cursor pages and requests that fail validation. Reports requests/s, p50/p99 latency, status
counts (5xx must be zero), socket errors (must be zero), and the server's memory in the first
and last 10 seconds (it must stay flat).

Memory is the resident anonymous memory (heap: buffers, SQLite page caches), after a warm-up
run of the same mix that fills the page caches. The resident file pages (the database, read
through mmap, bounded by the file's size) are reported beside it but not judged.

    python3 bench/load.py                       # 60 s, 64 connections, 100,000 entries
    python3 bench/load.py --duration 20 --connections 32

Only against 127.0.0.1; wrk is installed from Debian if missing. Exits 1 if a 5xx, a socket
error or RSS growth over 10% was seen.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLIO = os.path.join(ROOT, "target", "release", "folio")

LUA = r"""
local paths = {%s}
local i = 0
counts = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  i = math.random(#paths) - 1
end

function request()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for status, n in pairs(c) do
      total[status] = (total[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(total) do
    table.insert(parts, string.format('"%%d": %%d', status, n))
  end
  io.write(string.format('RESULT {"statuses": {%%s}, "errors": {"connect": %%d, "read": %%d, "write": %%d, "timeout": %%d}, "p50_ms": %%.2f, "p99_ms": %%.2f, "requests": %%d, "seconds": %%.2f}\n',
    table.concat(parts, ", "), summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.duration / 1e6))
end
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--warmup", type=int, default=15, help="seconds of load before measuring")
    ap.add_argument("--folio", metavar="BIN", help="the folio binary to load (default: build the release binary)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    if args.folio is None:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    # One directory per size, shared with bench/run.py and bench/ab.py: a store rebuilt
    # at another size would keep its larger file, and read differently.
    data_dir = os.path.join(ROOT, "target", "bench-data", f"folio-{args.size}")
    server = subprocess.Popen([args.folio or FOLIO, "serve", "--demo", "--demo-size", str(args.size), "--data-dir", data_dir,
                               "--addr", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = server.stdout.readline().strip().removeprefix("listening on ")
        paths = mix(base, args.size)
        samples = []
        stop = threading.Event()

        def sample_rss():
            started = time.monotonic()
            while not stop.is_set():
                with open(f"/proc/{server.pid}/status") as f:
                    status = f.read()
                anon, file = (int(re.search(rf"^{k}:\s+(\d+)", status, re.M).group(1)) / 1024
                              for k in ("RssAnon", "RssFile"))
                samples.append((time.monotonic() - started, anon, file))
                stop.wait(1)

        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(LUA % ", ".join(json.dumps(p) for p in paths))
        def wrk(seconds):
            return subprocess.run(["wrk", "-t2", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "10s",
                                   "-s", script.name, base], capture_output=True, text=True)

        if args.warmup:
            wrk(args.warmup)
        sampler = threading.Thread(target=sample_rss)
        sampler.start()
        try:
            out = wrk(args.duration)
            if out.returncode != 0:
                raise SystemExit(f"wrk failed: {out.stderr}{out.stdout}")
            out = out.stdout
        finally:
            stop.set()
            sampler.join()
            os.unlink(script.name)
        result = json.loads(re.search(r"^RESULT (.*)$", out, re.M).group(1))
    finally:
        server.terminate()
        server.wait(timeout=30)

    first = [anon for t, anon, _ in samples if t <= 10]
    last = [anon for t, anon, _ in samples if t >= samples[-1][0] - 10]
    statuses = {int(k): v for k, v in result["statuses"].items()}
    server_errors = sum(n for s, n in statuses.items() if s >= 500)
    socket_errors = sum(result["errors"].values())
    growth = statistics.mean(last) / statistics.mean(first)
    print(f"{result['requests']} requests in {result['seconds']:.1f} s "
          f"({result['requests'] / result['seconds']:.0f}/s) over {args.connections} connections")
    print(f"latency p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms")
    print(f"statuses {dict(sorted(statuses.items()))}; 5xx {server_errors}; socket errors {result['errors']}")
    print(f"server memory (RssAnon): first 10 s {statistics.mean(first):.1f} MiB, last 10 s "
          f"{statistics.mean(last):.1f} MiB (ratio {growth:.3f}), peak {max(a for _, a, _ in samples):.1f} MiB")
    print("every 10 s (anon / file MiB): " + ", ".join(
        f"{a:.0f}/{f:.0f}" for t, a, f in samples if int(t) % 10 == 0))
    ok = server_errors == 0 and socket_errors == 0 and growth <= 1.10
    print("PASS" if ok else "FAIL")
    raise SystemExit(0 if ok else 1)


def mix(base, size):
    """First pages in every style, cursor pages deep in the collection, and bad requests."""
    def get(path):
        with urllib.request.urlopen(base + path) as r:
            return json.load(r)

    deep = []
    url = "/jsonapi/entries?page%5Bcursor%5D=1&page%5Bsize%5D=1000&sort=-upload_create_time"
    for step in range(size // 1000 - 1):
        url = get(url)["links"]["next"]
        if step % max(1, size // 10_000) == 0:
            deep.append(url.replace("page%5Bsize%5D=1000", "page%5Bsize%5D=100"))
    first = [
        "/jsonapi/entries?page%5Bsize%5D=100&sort=-upload_create_time",
        "/jsonapi/entries?filter%5Bresults.material.elements%5D=O&page%5Bsize%5D=50",
        "/hal/entries?limit=100",
        "/query/entries?page_size=100&order_by=upload_create_time&order=desc",
        "/simple/entries?per_page=100",
    ]
    errors = [
        "/jsonapi/entries?page%5Bsize%5D=5000",
        "/jsonapi/entries?page%5Bcursor%5D=forged",
        "/jsonapi/entries?sort=nope",
        "/jsonapi/nope",
        "/hal/entries?limit=abc",
    ]
    return first * 4 + deep + errors * 2


if __name__ == "__main__":
    main()
