"""Measurements: wrk runs, sequential latencies, walks that follow `next` links, scans.

Each function is bounded in time and returns plain dicts, so results can be saved as JSON.
"""

import http.client
import json
import re
import statistics
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from . import procs

_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


def wrk(url, threads, connections, seconds):
    """`wrk` on one URL: requests/s and p50/p99 latency in ms. Any non-2xx answer is an error."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 90).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"wrk got error responses from {url}:\n{out}")
    requests = int(re.search(r"^\s*(\d+) requests in", out, re.M).group(1))
    result = {"rps": float(re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M).group(1)), "requests": requests}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        result[f"p{pct}_ms"] = float(m.group(1)) * _UNITS_MS[m.group(2)] if m else None
    errors = re.search(r"Socket errors: (.*)$", out, re.M)
    result["socket_errors"] = errors.group(1) if errors else None
    return result


def until_ok(url, budget_s):
    """Seconds until `url` first answers 200 (asked every 10 ms; other answers, such as the 422
    of a page map being built, are retried), failing past `budget_s`."""
    started = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except urllib.error.HTTPError:
            pass
        if time.monotonic() - started > budget_s:
            raise RuntimeError(f"{url} did not answer 200 within {budget_s} s")
        time.sleep(0.01)


def latency(url, seconds):
    """One client, one connection: p50 and p99 latency of `url`, in ms.

    `wrk -t1 -c1` for `seconds`; a URL so slow that wrk completes fewer than 5 requests in that
    time is timed instead with 3 sequential requests (p50 = median, p99 = slowest).
    """
    result = wrk(url, 1, 1, seconds)
    if result["requests"] >= 5:
        result["method"] = "wrk"
        return result
    times = []
    for _ in range(3):
        started = time.perf_counter()
        _get(url)
        times.append((time.perf_counter() - started) * 1e3)
    return {"p50_ms": statistics.median(times), "p99_ms": max(times), "requests": 3, "method": "sequential",
            "rps": 1e3 / statistics.median(times)}


def body_bytes(url):
    """The size of one response body, in bytes."""
    return len(_get(url))


def walk(url, records_key, budget, depths=(), page_size=None):
    """Follows the `Link: <...>; rel="next"` headers from `url` to the end, with one keep-alive
    connection, reading every body in full without parsing it (the last one is parsed, to count
    its records).

    Stops after `budget` seconds. Returns records/s and, in `links`, the `next` URL seen after
    exactly `depth` records for each of `depths` (all pages but the last hold `page_size`).
    """
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    target = urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))
    pages = records = transferred = 0
    links = {}
    started = time.perf_counter()
    complete = False
    try:
        while True:
            conn.request("GET", target)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {target} answered {response.status}: {body[:300]!r}")
            pages += 1
            transferred += len(body)
            found = _NEXT.search(response.getheader("link") or "")
            if not found:
                records += len(json.loads(body)[records_key])
                complete = True
                break
            records += page_size
            if records in depths:
                links[records] = found.group(1)
            nxt = urllib.parse.urlsplit(urllib.parse.urljoin(url, found.group(1)))
            target = urllib.parse.urlunsplit(("", "", nxt.path, nxt.query, ""))
            if time.perf_counter() - started > budget:
                break
    finally:
        conn.close()
    seconds = time.perf_counter() - started
    return {"records": records, "pages": pages, "seconds": seconds, "records_per_s": records / seconds,
            "bytes": transferred, "complete": complete, "links": links}


def download(url, budget):
    """GETs a streamed download with one `http.client` connection and reads it to its end in
    reads of up to 1 MiB, counting its lines (one record each) without parsing them. Stops
    after `budget` seconds. Returns records/s."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    records = transferred = 0
    complete = False
    started = time.perf_counter()
    try:
        conn.request("GET", urllib.parse.urlunsplit(("", "", parts.path, parts.query, "")))
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"GET {url} answered {response.status}: {response.read(300)!r}")
        while True:
            chunk = response.read1(1 << 20)
            if not chunk:
                complete = True
                break
            records += chunk.count(b"\n")
            transferred += len(chunk)
            if time.perf_counter() - started > budget:
                break
    finally:
        conn.close()
    seconds = time.perf_counter() - started
    return {"records": records, "seconds": seconds, "records_per_s": records / seconds, "bytes": transferred,
            "complete": complete}


def harvest(folio, url, extra, budget):
    """`folio harvest URL` to /dev/null: records/s and the harvester's peak RSS."""
    cmd = [folio, "harvest", url, "--quiet", *extra]
    seconds, rss, code, err, timed_out = procs.timed(cmd, budget)
    if timed_out:
        return {"seconds": seconds, "timed_out": True, "peak_rss_kib": rss}
    m = re.search(r"harvested (\d+) records", err)
    if code != 0 or not m:
        raise RuntimeError(f"folio harvest failed ({code}):\n{err}")
    records = int(m.group(1))
    return {"records": records, "seconds": seconds, "records_per_s": records / seconds, "peak_rss_kib": rss,
            "complete": "complete" in err, "timed_out": False}


def scan(cmd, records, budget):
    """A command that writes every record as one line to /dev/null (the physical limit)."""
    seconds, rss, code, err, timed_out = procs.timed(cmd, budget)
    if timed_out or code != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed ({'timed out' if timed_out else code}):\n{err}")
    return {"records": records, "seconds": seconds, "records_per_s": records / seconds, "peak_rss_kib": rss}


def _get(url):
    with urllib.request.urlopen(url, timeout=300) as r:
        return r.read()
