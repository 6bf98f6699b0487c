"""Test-time augmentation, measured (issue 15): accuracy of an exported model on the validation sets
with no augmentation, with the mirror image (2 passes per face) and with ten crops (4 corners +
centre at `--crop` of the face side, each also mirrored: 10 passes per face), probabilities averaged.

  python -m masked_fer_train.tta --onnx ../models/slim_rgc_masked_fer_int8.onnx --name ft_families_int8
writes training/results/<name>/tta.json. The per-face cost of each mode is its number of passes
times the classifier's time per face (BENCHMARKS.md); the node's choice is in RESULTS.md.
"""
import argparse
import json

import numpy as np

from .evaluate import predict_onnx, score, val_sets
from .fer_data import load_cache
from .masked_set import build_masked
from .paths import LABELS, TRAINING_DIR


def views(images: np.ndarray, mode: str, crop: float = 0.9) -> list:
    """The arrays a mode averages over (each [N,H,W] uint8)."""
    mirror = np.ascontiguousarray(images[:, :, ::-1])
    if mode == "none":
        return [images]
    if mode == "mirror":
        return [images, mirror]
    side = images.shape[1]
    c = round(side * crop)
    starts = [(0, 0), (0, side - c), (side - c, 0), (side - c, side - c), ((side - c) // 2, (side - c) // 2)]
    crops = [np.ascontiguousarray(images[:, y:y + c, x:x + c]) for y, x in starts]
    return crops + [np.ascontiguousarray(a[:, :, ::-1]) for a in crops]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--crop", type=float, default=0.9, help="ten-crop: crop side as a fraction of the face side")
    args = ap.parse_args()
    data = load_cache()
    sets = val_sets(data, build_masked("v1"), build_masked("families"))
    out = {"onnx": args.onnx, "crop": args.crop, "validation_images": len(sets["clean"]["label"])}
    for mode, passes in [("none", 1), ("mirror", 2), ("ten_crop", 10)]:
        row = {"passes": passes}
        for name, vset in sets.items():
            probs = np.mean([predict_onnx(args.onnx, v, LABELS) for v in views(vset["images"], mode, args.crop)], 0)
            s = score(probs, vset)
            row[name] = {k: s[k] for k in ("accuracy", "ferplus_accuracy", "uar")}
        out[mode] = row
        print(mode, {k: round(v["accuracy"], 4) for k, v in row.items() if k != "passes"}, flush=True)
    dest = TRAINING_DIR / "results" / args.name
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "tta.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
