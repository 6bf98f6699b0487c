"""Class balance by post-hoc logit adjustment (Menon et al., "Long-tail learning via logit
adjustment", ICLR 2021): subtract tau * log(prior) from the logits, prior = the class
distribution of the training targets. It raises the recall of rare classes (disgust, fear) at
no cost per face: export.py --logit-adjust TAU folds it into the last layer's bias.

  python -m masked_fer_train.balance --onnx ../models/slim_rgc_masked_fer.onnx --name NAME

sweeps tau on the validation faces and picks the largest UAR (mean per-class recall) whose
accuracy, against the FER2013 labels and against the FER+ majority vote, is at most one point
below tau = 0 on every masked and clean set (the FER+ condition keeps tau from buying FER2013
"fear" and "disgust" labels that the ten FER+ annotators mostly did not agree with). tau is chosen on
the even-numbered validation faces and the table also reports the odd-numbered ones, which the
choice never saw; results/<NAME>/balance.json keeps every figure.
"""
import argparse
import json

import numpy as np

from .evaluate import predict_onnx, score, val_sets
from .fer_data import load_cache
from .masked_set import build_masked
from .paths import LABELS, TRAINING_DIR

TAUS = [0.0, 0.25, 0.5, 0.75, 1.0]
MAX_ACCURACY_LOSS = 0.01


def train_prior(data: dict) -> np.ndarray:
    """Mean training target of the `mixed` recipe (the shipped one), in LABELS order."""
    from .train import targets, train_indices
    return targets(data, train_indices(data, "mixed"), "mixed").numpy().mean(0)


def adjust(probs: np.ndarray, prior: np.ndarray, tau: float) -> np.ndarray:
    """Softmax(logits - tau * log prior), computed from the probabilities."""
    q = probs * prior ** -tau
    return q / q.sum(1, keepdims=True)


def figures(probs: np.ndarray, vset: dict, sl: slice) -> dict:
    """evaluate.score on the faces `sl` of `vset`, without the per-face arrays."""
    r = score(probs[sl], {"label": vset["label"][sl], "ferplus": vset["ferplus"][sl]})
    return {"accuracy": r["accuracy"], "ferplus_accuracy": r["ferplus_accuracy"], "uar": r["uar"],
            "recall": dict(zip(LABELS, r["recall"]))}


def choose(rows: dict) -> float:
    """Largest-UAR tau that keeps every set's accuracy, against FER2013 and FER+ labels, within
    MAX_ACCURACY_LOSS of tau = 0 (rows: tau -> set -> figures, on the choosing half)."""
    ok = [t for t in TAUS if all(rows[t][s][k] >= rows[0.0][s][k] - MAX_ACCURACY_LOSS
                                 for s in rows[t] for k in ("accuracy", "ferplus_accuracy"))]
    return max(ok, key=lambda t: np.mean([rows[t][s]["uar"] for s in rows[t]]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", required=True, help="a float or int8 classifier with the model contract")
    ap.add_argument("--name", required=True, help="results/<NAME>/balance.json")
    args = ap.parse_args()
    data = load_cache()
    prior = train_prior(data)
    sets = val_sets(data, build_masked("v1"), build_masked("families"))
    probs = {k: predict_onnx(args.onnx, v["images"], LABELS) for k, v in sets.items()}
    halves = {"choose": slice(0, None, 2), "held": slice(1, None, 2), "all": slice(None)}
    rows = {h: {t: {k: figures(adjust(probs[k], prior, t), sets[k], sl) for k in sets}
                for t in TAUS} for h, sl in halves.items()}
    tau = choose(rows["choose"])
    out = TRAINING_DIR / "results" / args.name
    out.mkdir(parents=True, exist_ok=True)
    (out / "balance.json").write_text(json.dumps({"onnx": args.onnx, "prior": dict(zip(LABELS, prior.tolist())),
                                                   "chosen_tau": tau, "rows": rows}, indent=1))
    print(f"prior {[round(float(p), 3) for p in prior]}; chosen tau = {tau} (on the even-numbered faces)")
    print("| tau | half | " + " | ".join(f"{k} acc | {k} acc (FER+) | {k} UAR" for k in sets) + " |")
    print("|---|---|" + "---|---|---|" * len(sets))
    for t in TAUS:
        for h in ("choose", "held", "all"):
            print(f"| {t} | {h} | " + " | ".join(
                f"{r['accuracy']:.4f} | {r['ferplus_accuracy']:.4f} | {r['uar']:.4f}"
                for r in (rows[h][t][k] for k in sets)) + " |")


if __name__ == "__main__":
    main()
