#!/usr/bin/env bash
# Installs the third-party paginated servers that the harvest tests run (see
# crates/folio-cli/tests/it/peers.rs):
#   - Django REST framework, fastapi-pagination, Datasette, django-ninja, flask-smorest (the
#     programs in crates/folio-cli/tests/peers/) into a venv at target/peers-venv, from the
#     pinned scripts/peers/requirements.txt;
#   - json-server 0.17.4 and 1.0.0-beta.3 (npm) into target/peers-node, with `npm ci` from the
#     pinned scripts/peers/package.json and package-lock.json (needs Node.js 20 or later and npm);
#   - real SQLite files as publishers ship them (scripts/peers/files.txt: mendeleev's database
#     of the elements) into target/peers-files, for the `serve --sqlite` tests.
# Idempotent: a stamp file holding the pins' hash skips each install when nothing changed.
#
#   scripts/peers.sh
#   cargo test -p folio-cli --test it peers      # FOLIO_REQUIRE_PEERS=1 makes a missing peer fail
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pins=$root/scripts/peers

# Python: target/peers-venv.
venv=$root/target/peers-venv
requirements=$pins/requirements.txt
stamp=$venv/.requirements.sha256
hash=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
  echo "peer frameworks: up to date in $venv"
else
  echo "peer frameworks: installing into $venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  rm -f "$stamp"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$hash" >"$stamp"
  echo "peer frameworks: installed ($(grep -c '==' "$requirements") pinned packages)"
fi

# SQLite files: target/peers-files, taken out of their pinned wheels.
files=$root/target/peers-files
stamp=$files/.files.sha256
hash=$(sha256sum "$pins/files.txt" | cut -d' ' -f1)
if [ -f "$files/mendeleev/elements.db" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
  echo "peer files: up to date in $files"
else
  echo "peer files: fetching into $files"
  rm -rf "$files" && mkdir -p "$files/wheels"
  "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes -r "$pins/files.txt" -d "$files/wheels"
  "$venv/bin/python" - "$files" <<'PY'
import glob, sys, zipfile
files = sys.argv[1]
(wheel,) = glob.glob(f"{files}/wheels/mendeleev-*.whl")
zipfile.ZipFile(wheel).extract("mendeleev/elements.db", files)
PY
  echo "$hash" >"$stamp"
  echo "peer files: fetched ($(ls "$files/wheels" | wc -l) wheels)"
fi

# Node.js: target/peers-node.
node_dir=$root/target/peers-node
stamp=$node_dir/.package-lock.sha256
hash=$(cat "$pins/package.json" "$pins/package-lock.json" | sha256sum | cut -d' ' -f1)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "peer servers (npm): node or npm is missing: install Node.js 20 or later with npm (Debian: nodejs npm)" >&2
  exit 1
fi
if [ -d "$node_dir/node_modules" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
  echo "peer servers (npm): up to date in $node_dir"
else
  echo "peer servers (npm): installing into $node_dir with Node.js $(node --version)"
  mkdir -p "$node_dir"
  rm -f "$stamp"
  cp "$pins/package.json" "$pins/package-lock.json" "$node_dir/"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$hash" >"$stamp"
  echo "peer servers (npm): installed ($(grep -c '"npm:json-server@' "$pins/package.json") json-server versions)"
fi
