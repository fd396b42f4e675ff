#!/usr/bin/env bash
# Installs the third-party paginated servers that the harvest tests run (Django REST framework,
# fastapi-pagination, Datasette, django-ninja, flask-smorest; see crates/folio-cli/tests/peers/)
# into a venv at target/peers-venv, from the pinned scripts/peers/requirements.txt. Idempotent:
# a stamp file holding the requirements' hash skips the install when nothing changed.
#
#   scripts/peers.sh
#   cargo test -p folio-cli --test it peers      # FOLIO_REQUIRE_PEERS=1 makes a missing venv fail
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/target/peers-venv
requirements=$root/scripts/peers/requirements.txt
stamp=$venv/.requirements.sha256

hash=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
  echo "peer frameworks: up to date in $venv"
  exit 0
fi

echo "peer frameworks: installing into $venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
echo "$hash" >"$stamp"
echo "peer frameworks: installed ($(grep -c '==' "$requirements") pinned packages)"
