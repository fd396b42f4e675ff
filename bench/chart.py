"""Draws latency by depth (item 2 of bench/run.py) from its results file, as a PNG.

    target/bench-venv/bin/python bench/chart.py target/bench-results/results-full.json bench/results/depth.png

Run by bench/run.py with the virtualenv's Python, which has matplotlib.
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLES = {
    ("folio (SQLite)", "cursor"): ("#1f77b4", "-", "o"),
    ("folio (SQLite)", "page number"): ("#1f77b4", ":", "s"),
    ("folio (SQLite)", "page number, page map"): ("#1f77b4", "--", "D"),
    ("folio (PostgreSQL)", "cursor"): ("#2ca02c", "-", "o"),
    ("folio (PostgreSQL)", "page number"): ("#2ca02c", ":", "s"),
    ("folio (PostgreSQL)", "page number, page map"): ("#2ca02c", "--", "D"),
    ("folio (--sqlite)", "cursor"): ("#9467bd", "-", "o"),
    ("folio (--sqlite)", "page number"): ("#9467bd", ":", "s"),
    ("folio (--sqlite)", "page number, page map"): ("#9467bd", "--", "D"),
    ("Datasette", "_next"): ("#d62728", "-", "^"),
    ("Datasette", "SQL OFFSET"): ("#d62728", ":", "v"),
}


def main():
    source, out = sys.argv[1], sys.argv[2]
    results = json.load(open(source))
    meta = results["meta"]
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=100)
    for server, methods in results["depth"].items():
        for method, points in methods.items():
            color, line, marker = STYLES.get((server, method), (None, "-", "o"))
            ax.plot([p["depth"] for p in points], [p["p50_ms"] for p in points], color=color, linestyle=line,
                    marker=marker, label=f"{server}, {method}")
    ax.set_yscale("log")
    ax.set_xlabel("depth (records before the page)")
    ax.set_ylabel("p50 latency, ms (log scale)")
    ax.set_title(f"One page of 100 records sorted by -upload_create_time, {meta['size']:,} records")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.text(0.01, 0.01, f"{meta['command']}, {meta['date']}, {meta['machine']}", fontsize=6, color="gray")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(out)


if __name__ == "__main__":
    main()
