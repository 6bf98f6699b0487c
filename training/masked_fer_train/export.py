"""Export a trained checkpoint to ONNX with the masked_fer model contract, and write golden
inputs/outputs for the Rust test.

  python -m masked_fer_train.export --run slim_rgc_improved --out ../models/slim_rgc_masked_fer.onnx

Metadata (docs/ARCHITECTURE.md, "The model contract"): labels, input_size, color, mean, std,
crop_margin, outputs; plus provenance (arch, run, parameters, validation accuracy).
crop_margin is measured, not guessed: it makes the square crop around a RetinaFace box cover
what a FER2013 frame covers around the same face (median over the training images).
"""
import argparse
import json
import pathlib

import numpy as np
import onnx
import onnxruntime as ort
import torch

from . import model as M
from .balance import train_prior
from .fer_data import load_cache
from .paths import LABELS, REPO_DIR, RUNS_DIR

GOLDEN = REPO_DIR / "test" / "data" / "classifier_golden.json"


def crop_margin(data: dict) -> float:
    box = data["lm_box"][data["split"] == "train"]
    box = box[~np.isnan(box[:, 0])]
    side = np.maximum(box[:, 2] - box[:, 0], box[:, 3] - box[:, 1])
    return float((48.0 / np.median(side) - 1.0) / 2.0)


def golden_inputs(mean: float, std: float, size: int) -> np.ndarray:
    """Real face crops from the committed CC0 photos (fixed boxes), grey size x size, plus one noise input."""
    from PIL import Image

    crops = [("maksssksksss4.jpg", (62, 172, 170, 302)), ("maksssksksss6.jpg", (248, 63, 384, 243)),
             ("maksssksksss1.jpg", (225, 29, 258, 70))]
    out = []
    for name, (x0, y0, x1, y1) in crops:
        img = Image.open(REPO_DIR / "test" / "data" / "images" / name).convert("L")
        side = max(x1 - x0, y1 - y0)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        crop = img.crop((round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2)))
        out.append(np.asarray(crop.resize((size, size), Image.BILINEAR), np.float32) / 255.0)
    out.append(np.random.default_rng(0).random((size, size), dtype=np.float32))
    return ((np.stack(out)[:, None] - mean) / std).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="run name under training/runs/")
    ap.add_argument("--checkpoint", default="best.pt")
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--golden", action="store_true", help=f"also write {GOLDEN.relative_to(REPO_DIR)}")
    ap.add_argument("--logit-adjust", type=float, default=0.0, metavar="TAU",
                    help="fold post-hoc logit adjustment into the last layer's bias: logits - TAU * log(training "
                         "class prior); choose TAU with `python -m masked_fer_train.balance`")
    args = ap.parse_args()
    ck = torch.load(RUNS_DIR / args.run / args.checkpoint, weights_only=False, map_location="cpu")
    net = M.build(ck["arch"])
    net.load_state_dict(ck["model"])
    net.eval()
    data = load_cache()
    prior = train_prior(data)
    if args.logit_adjust:
        last = [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]
        with torch.no_grad():
            last.bias -= args.logit_adjust * torch.log(torch.from_numpy(prior))
    size = ck.get("input_size", 48)
    x = torch.zeros(1, 1, size, size)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(net, x, str(args.out), input_names=["input"], output_names=["logits"], opset_version=17,
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
    m = onnx.load(str(args.out))
    meta = {
        "labels": ",".join(LABELS), "input_size": f"{size}x{size}", "color": "gray",
        "mean": str(ck["mean"]), "std": str(ck["std"]), "crop_margin": f"{crop_margin(data):.4f}",
        "outputs": "logits", "arch": ck["arch"], "run": args.run, "epoch": str(ck["epoch"]),
        f"val_{ck.get('selected_on', 'masked')}_accuracy": f"{ck['best']:.4f}",
        "parameters": str(M.count_params(net)),
        "logit_adjustment": f"tau={args.logit_adjust} prior=" + ",".join(f"{p:.4f}" for p in prior),
        "source": "masked_fer training/ (FER2013 + FER+ votes with synthetic masks)",
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    m.doc_string = "masked_fer expression classifier; see models/README.md"
    onnx.checker.check_model(m)
    onnx.save(m, str(args.out))
    # The exported graph must reproduce PyTorch.
    inp = golden_inputs(ck["mean"], ck["std"], size)
    sess = ort.InferenceSession(str(args.out), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input": inp})[0]
    with torch.no_grad():
        want = net(torch.from_numpy(inp)).numpy()
    diff = float(np.abs(got - want).max())
    assert diff < 1e-4, f"ONNX differs from PyTorch by {diff}"
    print(f"{args.out}: {M.count_params(net):,} parameters, max |onnx - torch| = {diff:.2e}")
    print(json.dumps(meta, indent=1))
    if args.golden:
        probs = np.exp(got - got.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        GOLDEN.write_text(json.dumps({
            "model": args.out.name, "generator": "training/masked_fer_train/export.py --golden",
            "shape": list(inp.shape), "inputs": np.round(inp, 6).tolist(), "logits": got.tolist(),
            "probabilities": probs.tolist()}))
        print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
