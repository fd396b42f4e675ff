#!/usr/bin/env bash
# Fuzzes the HTTP API against its own OpenAPI document with schemathesis (from PyPI, in a venv
# under target/): a real `folio serve --demo --demo-size 2000` on a free port of 127.0.0.1,
# every operation of every style, bounded in examples and time. It fails on any 5xx and on any
# response whose status, media type, headers or body the document does not describe.
#
#   scripts/schemathesis.sh                      # 100 examples per operation, at most 10 minutes
#   MAX_EXAMPLES=20 MAX_TIME=120 scripts/schemathesis.sh
#   scripts/schemathesis.sh --include-path-regex '^/hal'   # more arguments go to `st run`
#   SERVE_ARGS='--postgres postgres://postgres@127.0.0.1:5432/folio_fuzz' scripts/schemathesis.sh
#
# Reports (JUnit) land in target/schemathesis-report/; the server's log in
# target/schemathesis-report/server.log.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/schemathesis-venv
if [ ! -x "$venv/bin/st" ]; then
  echo "== installing schemathesis into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis>=4,<5'
fi
"$venv/bin/st" --version

echo "== building folio"
cargo build --quiet --bin folio
folio=target/debug/folio

report=target/schemathesis-report
mkdir -p "$report"
data=$(mktemp -d target/schemathesis-data.XXXXXX)
# shellcheck disable=SC2086 # SERVE_ARGS is split into arguments on purpose
"$folio" serve --demo --demo-size 2000 --addr 127.0.0.1:0 --data-dir "$data" ${SERVE_ARGS:-} \
  >"$data/stdout" 2>"$report/server.log" &
server=$!
data=$(cd "$data" && pwd)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$data"' EXIT

# The first line on stdout says where the server listens, once the demo is built.
for _ in $(seq 1 600); do
  grep -q '^listening on ' "$data/stdout" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "folio serve exited:"; cat "$report/server.log"; exit 1; }
  sleep 0.1
done
base=$(sed -n 's/^listening on //p' "$data/stdout")
[ -n "$base" ] || { echo "folio serve did not start within 60 s"; exit 1; }
echo "== fuzzing $base/openapi.json"

# From target/, where schemathesis keeps its replay cache (.schemathesis/).
cd target
"../$venv/bin/st" run "$base/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${MAX_EXAMPLES:-100}" \
  --max-time "${MAX_TIME:-600}" \
  --request-timeout 30 \
  --report junit --report-dir "../$report" \
  "$@"
