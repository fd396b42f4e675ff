#!/usr/bin/env bash
# Page numbers at depth 990,000 through a page map, against the first page, in one run.
#
#   bench/pagemap.sh --data-dir target/bench-data/folio-1000000
#   bench/pagemap.sh --postgres postgres://postgres@127.0.0.1:5432/folio_bench_1000000 --data-dir target/pagemap
#
# Serves the store (built by bench/run.py or bench/ab.py) with the default offset window,
# asks for page 39,601 of 25 records sorted by -upload_create_time until the server has
# mapped the result (printing how long that took), then alternates `wrk -t2 -c16` on the
# first page and on that page for 3 rounds of 3 s and prints requests/s and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/release/folio
port=18181
"$bin" serve "$@" --addr 127.0.0.1:$port > target/pagemap-server.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.2; done
base="http://127.0.0.1:$port/jsonapi/entries?sort=-upload_create_time&page%5Bsize%5D=25"
first="$base"
deep="$base&page%5Bnumber%5D=39601"
start=$(date +%s.%N)
for _ in $(seq 1 1200); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$deep")" = 200 ] && break
  sleep 0.05
done
echo "page 39,601 served after $(echo "$(date +%s.%N) - $start" | bc) s (the map's build)"
for round in 1 2 3; do
  a=$(wrk -t2 -c16 -d3s "$first" | awk '/Requests\/sec/ {print $2}')
  b=$(wrk -t2 -c16 -d3s "$deep" | awk '/Requests\/sec/ {print $2}')
  echo "round $round: first page $a/s, depth 990,000 $b/s, first/deep $(echo "scale=2; $a / $b" | bc)"
done
