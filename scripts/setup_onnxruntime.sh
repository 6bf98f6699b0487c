#!/usr/bin/env bash
# Fetch the pinned ONNX Runtime shared library from its PyPI wheel into third_party/ (git-ignored).
# Idempotent: returns at once when the library is already there. Needs pip and network once;
# the wheel's sha256 is checked before anything is extracted. Only libonnxruntime.so (glibc >= 2.28,
# libstdc++) is used, not Python.
set -euo pipefail

ORT_VERSION=1.31.1
WHEEL=onnxruntime-${ORT_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl
WHEEL_SHA256=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/third_party/onnxruntime"
lib="$dest/libonnxruntime.so.${ORT_VERSION}"

if [ -f "$lib" ] && [ -f "$dest/.sha256-ok" ]; then
  echo "ONNX Runtime ${ORT_VERSION}: $lib"
  exit 0
fi
case "$(uname -m)" in
  x86_64) ;;
  *) echo "setup_onnxruntime: only x86_64 is pinned here; set ORT_DYLIB_PATH to your own libonnxruntime.so" >&2; exit 1 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
  --python-version 3.11 --implementation cp --abi cp311 "onnxruntime==${ORT_VERSION}" -d "$tmp"
got=$(sha256sum "$tmp/$WHEEL" | cut -d' ' -f1)
if [ "$got" != "$WHEEL_SHA256" ]; then
  echo "setup_onnxruntime: sha256 mismatch for $WHEEL: got $got, want $WHEEL_SHA256" >&2
  exit 1
fi
mkdir -p "$dest"
python3 - "$tmp/$WHEEL" "$dest" "$ORT_VERSION" <<'PY'
import pathlib, sys, zipfile
wheel, dest, ver = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
with zipfile.ZipFile(wheel) as zf:
    for member in (f"onnxruntime/capi/libonnxruntime.so.{ver}", "onnxruntime/capi/libonnxruntime_providers_shared.so"):
        (dest / pathlib.Path(member).name).write_bytes(zf.read(member))
PY
echo "$WHEEL_SHA256  $WHEEL" > "$dest/.sha256-ok"
echo "ONNX Runtime ${ORT_VERSION}: $lib"
