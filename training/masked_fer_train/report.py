"""Evaluate a trained run on the validation split (FER2013 PublicTest minus the 280 images that
duplicate training images), masked (fixed seed) and clean: accuracy against the FER2013 labels
and against the FER+ majority vote, per-class recall, confusion-matrix PNGs, parameters, MACs.

  python -m masked_fer_train.report --run slim_rgc_improved
  python -m masked_fer_train.report --onnx ../.cache/peers/fer_mini_xception.onnx --name fer_mini_xception
writes training/results/<run or name>/{metrics.json, confusion_masked.png, confusion_clean.png}.
--onnx evaluates any ONNX file with the model contract (an outside model such as the `fer`
package's, see scripts/build_fer_peer.sh) exactly as the Rust side would feed it.
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
from .evaluate import evaluate, predict_onnx, score, val_sets  # noqa: E402
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
    ap.add_argument("--run", help="a training run (runs/<run>/)")
    ap.add_argument("--checkpoint", default="best.pt")
    ap.add_argument("--onnx", help="evaluate this ONNX model instead of a run")
    ap.add_argument("--name", help="results name for --onnx")
    ap.add_argument("--flip-average", action="store_true",
                    help="--onnx only: average the probabilities of each face and its mirror image")
    args = ap.parse_args()
    if bool(args.run) == bool(args.onnx) or (args.onnx and not args.name):
        ap.error("give --run RUN, or --onnx FILE --name NAME")
    data = load_cache()
    if args.run:
        ck = torch.load(RUNS_DIR / args.run / args.checkpoint, weights_only=False, map_location="cpu")
        net = M.build(ck["arch"])
        net.load_state_dict(ck["model"])
        net.eval()
        size = ck.get("input_size", 48)
        with FlopCounterMode(display=False) as fc:
            net(torch.zeros(1, 1, size, size))
        name = args.run
        metrics = {"run": name, "arch": ck["arch"], "epoch": ck["epoch"], "parameters": M.count_params(net),
                   "input_size": size, "macs": fc.get_total_flops() // 2}
        run = lambda vset: evaluate(net, vset, ck["mean"], ck["std"], size)  # noqa: E731
        title = f"{name} ({ck['arch']})"
    else:
        import onnx
        proto = onnx.load(args.onnx)
        name = args.name
        metrics = {"onnx": str(args.onnx), "parameters": int(sum(np.prod(t.dims) for t in proto.graph.initializer)),
                   "metadata": {p.key: p.value for p in proto.metadata_props}}
        def run(vset):
            probs = predict_onnx(args.onnx, vset["images"], LABELS)
            if args.flip_average:
                mirrored = np.ascontiguousarray(vset["images"][:, :, ::-1])
                probs = (probs + predict_onnx(args.onnx, mirrored, LABELS)) / 2
            return score(probs, vset)
        metrics["flip_average"] = args.flip_average
        title = name
    out = TRAINING_DIR / "results" / name
    out.mkdir(parents=True, exist_ok=True)
    for vname, vset in val_sets(data, build_masked("v1"), build_masked("families"), per_family=True).items():
        r = run(vset)
        cm = confusion(vset["label"], r["pred"])
        metrics["validation_images"] = int(len(vset["label"]))
        metrics[vname] = {
            "accuracy": r["accuracy"], "ferplus_accuracy": r["ferplus_accuracy"],
            "recall": dict(zip(LABELS, r["recall"])), "uar": r["uar"],
            "confusion": cm.tolist()}
        if ":" not in vname:  # one plot per set, not per family
            plot(cm, f"{title}, {vname} validation: acc {r['accuracy']:.3f}", out / f"confusion_{vname}.png")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    print(json.dumps({k: (v if not isinstance(v, dict) else {kk: vv for kk, vv in v.items() if kk != "confusion"})
                      for k, v in metrics.items()}, indent=1))


if __name__ == "__main__":
    main()
