#!/usr/bin/env bash
# Fuzzes every parser of untrusted input (cursor tokens, transparent keys, filters, each
# style's query string and request bodies) with libFuzzer, for a bounded time per target.
#
#   scripts/fuzz.sh [seconds-per-target] [target...]     (default: 60 seconds, every target)
#
# Installs cargo-fuzz from crates.io when it is missing. cargo-fuzz passes nightly-only
# flags (-Z sanitizer=address, sanitizer coverage); RUSTC_BOOTSTRAP=1 lets a stable toolchain
# accept them. Builds are optimised with debug assertions and overflow checks on, under
# AddressSanitizer, so an arithmetic overflow is a crash too.
#
# Each input may use at most 512 MiB of memory in all and 128 MiB in one allocation, and may
# take at most 10 seconds; a panic, an allocation over the limit or a timeout is a crash.
# Crashing inputs are written to fuzz/artifacts/<target>/; the corpus grown by a run is kept
# under fuzz/target/corpus/<target>/ for the next run. Exits 1 if any target crashed.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
shift || true
all=(cursor_decode transparent_key filter_params filter_json jsonapi_query export_query hal_query query_get query_body simple_get
  simple_body)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
usage="usage: scripts/fuzz.sh [seconds-per-target] [target...]; targets: ${all[*]}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "seconds-per-target is \`$seconds\`; expected a whole number above 0" >&2
  echo "$usage" >&2
  exit 2
fi
for target in "${targets[@]}"; do
  if ! [[ " ${all[*]} " == *" $target "* ]]; then
    echo "no fuzz target \`$target\`" >&2
    echo "$usage" >&2
    exit 2
  fi
done

export RUSTC_BOOTSTRAP=1
if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --locked
fi
flags=(--release --debug-assertions)
cargo fuzz build "${flags[@]}"

summary=()
failed=0
for target in "${targets[@]}"; do
  case "$target" in
    *_body | filter_json) max_len=65536 ;; # request bodies and JSON filters: 64 KiB
    *) max_len=8192 ;;                     # query strings, keys and tokens
  esac
  mkdir -p "target/corpus/$target" "artifacts/$target"
  log="target/fuzz-$target.log"
  echo "== $target: ${seconds}s"
  status=ok
  if ! cargo fuzz run "${flags[@]}" "$target" "target/corpus/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=512 -malloc_limit_mb=128 -timeout=10 \
    -dict=fuzz.dict -print_final_stats=1 >"$log" 2>&1; then
    status=CRASH
    failed=1
    tail -n 40 "$log"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  time=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  summary+=("$(printf '%-16s %-6s %12s executions %8s per second' "$target" "$status" "${runs:-?}" "${time:-?}")")
done

echo
echo "== summary (${seconds}s per target; logs in fuzz/target/fuzz-<target>.log)"
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  echo "crashing inputs are in fuzz/artifacts/<target>/; replay one with"
  echo "  cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run ${flags[*]} <target> artifacts/<target>/<file>"
fi
exit "$failed"
