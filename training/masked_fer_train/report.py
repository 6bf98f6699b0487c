"""Evaluate a trained run on the validation split (FER2013 PublicTest minus the 280 images that
duplicate training images), masked (fixed seed) and clean: accuracy against the FER2013 labels
and against the FER+ majority vote, per-class recall, confusion-matrix PNGs, parameters, MACs.

  python -m masked_fer_train.report --run slim_rgc_improved
writes training/results/<run>/{metrics.json, confusion_masked.png, confusion_clean.png}.
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from . import model as M  # noqa: E402
from .evaluate import evaluate, val_sets  # noqa: E402
from .fer_data import load_cache  # noqa: E402
from .masked_set import build_masked  # noqa: E402
from .paths import LABELS, RUNS_DIR, TRAINING_DIR  # noqa: E402


def confusion(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    cm = np.zeros((len(LABELS), len(LABELS)), np.int64)
    np.add.at(cm, (truth, pred), 1)
    return cm


def plot(cm: np.ndarray, title: str, path):
    rec = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6, 5.2))
    ax.imshow(rec, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(LABELS)):
        for j in range(len(LABELS)):
            ax.text(j, i, f"{rec[i, j]:.2f}\n({cm[i, j]})", ha="center", va="center", fontsize=7,
                    color="white" if rec[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(LABELS)), LABELS, rotation=45)
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("FER2013 label")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--checkpoint", default="best.pt")
    args = ap.parse_args()
    ck = torch.load(RUNS_DIR / args.run / args.checkpoint, weights_only=False, map_location="cpu")
    net = M.build(ck["arch"])
    net.load_state_dict(ck["model"])
    net.eval()
    with FlopCounterMode(display=False) as fc:
        net(torch.zeros(1, 1, 48, 48))
    data = load_cache()
    out = TRAINING_DIR / "results" / args.run
    out.mkdir(parents=True, exist_ok=True)
    metrics = {"run": args.run, "arch": ck["arch"], "epoch": ck["epoch"], "parameters": M.count_params(net),
               "macs_48x48": fc.get_total_flops() // 2, "validation_images": 0}
    for name, vset in val_sets(data, build_masked()).items():
        r = evaluate(net, vset, ck["mean"], ck["std"])
        cm = confusion(vset["label"], r["pred"])
        metrics["validation_images"] = int(len(vset["label"]))
        metrics[name] = {
            "accuracy": r["accuracy"], "ferplus_accuracy": r["ferplus_accuracy"],
            "recall": {lab: float(cm[i, i] / max(cm[i].sum(), 1)) for i, lab in enumerate(LABELS)},
            "confusion": cm.tolist()}
        plot(cm, f"{args.run} ({ck['arch']}), {name} validation: acc {r['accuracy']:.3f}", out / f"confusion_{name}.png")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    print(json.dumps({k: (v if not isinstance(v, dict) else {kk: vv for kk, vv in v.items() if kk != "confusion"})
                      for k, v in metrics.items()}, indent=1))


if __name__ == "__main__":
    main()
