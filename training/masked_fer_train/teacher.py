"""Clean-face teacher for distillation with privileged information (issue 15, scope 3).

The teacher sees each training face unmasked; the student (train --teacher) sees the masked
version of the same face and learns the teacher's distribution besides the labels. The teacher
is an ensemble of exported ONNX models, each applied to the face and its mirror image; its
probabilities are computed once for every FER2013 image and cached:

  python -m masked_fer_train.teacher --onnx ../models/slim_rgc_masked_fer.onnx session6.onnx \\
      --out cache/teacher_ens2.npy
writes an array float32 [N, 7] (log-probabilities, LABELS order, rows = fer2013.npz rows) and prints
each member's and the ensemble's clean validation accuracy (the teacher never sees validation
faces in training: only training rows are read by train.py).
"""
import argparse
import pathlib

import numpy as np

from .evaluate import predict_onnx, score, val_sets
from .fer_data import load_cache
from .paths import LABELS
from .tta import views


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", nargs="+", required=True, help="teacher members (masked_fer model contract)")
    ap.add_argument("--out", required=True, type=pathlib.Path)
    args = ap.parse_args()
    data = load_cache()
    images = data["images"]
    val = val_sets(data, images[:, None])["clean"]
    members = []
    for path in args.onnx:
        p = np.mean([predict_onnx(path, v, LABELS) for v in views(images, "mirror")], 0)
        members.append(p)
        print(f"{path}: clean validation accuracy with mirror {score(p[val['index']], val)['accuracy']:.4f}")
    probs = np.mean(members, 0)
    s = score(probs[val["index"]], val)
    print(f"ensemble of {len(members)}: clean validation accuracy {s['accuracy']:.4f}, "
          f"FER+ {s['ferplus_accuracy']:.4f}, UAR {s['uar']:.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, np.log(np.clip(probs, 1e-8, 1)).astype(np.float32))
    print(f"wrote {args.out} {probs.shape}")


if __name__ == "__main__":
    main()
