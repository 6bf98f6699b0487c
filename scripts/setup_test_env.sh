#!/usr/bin/env bash
# Python test peers (git-ignored venv .venv-test): PyPI `rosbags` writes and reads real rosbag2
# bags independently of our Rust code. Idempotent; fast when already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv-test"
stamp="$venv/.requirements-ok"
req="$root/test/peers/requirements.txt"
if [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install -q -r "$req"
cp "$req" "$stamp"
echo "test peers ready: $venv"
