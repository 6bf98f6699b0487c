"""Int8 quantisation of an exported classifier with ONNX Runtime's static quantiser (QDQ format,
per-channel 7-bit weights, uint8 activations calibrated on training faces), keeping the model
contract's metadata so the Rust side can load it like the float model.

Weights use 7 of their 8 bits (`reduce_range`): CPUs without VNNI (AVX2-only robots, such as the
paper's i7-6700T) multiply u8 x s8 with VPMADDUBSW, whose 16-bit sums saturate on full-range
weights; 7-bit weights cannot saturate there, at a cost measured on the validation set.

  python -m masked_fer_train.quantize --model ../models/slim_rgc_masked_fer.onnx \\
      --out ../.cache/models/slim_rgc_int8.onnx
then compare accuracy with `report --onnx FILE --name NAME` and speed with
`masked_fer bench --model int8=FILE`. `--golden` also writes the int8 model's outputs on the float
model's golden inputs (test/data/classifier_int8_golden.json) for the Rust parity test.
"""
import json
import argparse
import pathlib
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from .evaluate import resize
from .fer_data import load_cache
from .masked_set import build_masked
from .paths import REPO_DIR

GOLDEN_IN = REPO_DIR / "test" / "data" / "classifier_golden.json"
GOLDEN_OUT = REPO_DIR / "test" / "data" / "classifier_int8_golden.json"


class Faces(CalibrationDataReader):
    """Training faces (half of them masked), fed exactly as evaluate.predict_onnx feeds them."""

    def __init__(self, meta: dict, count: int, seed: int):
        data, masked = load_cache(), build_masked("families")
        train = np.flatnonzero(data["split"] == "train")
        idx = np.sort(np.random.default_rng(seed).choice(train, count, replace=False))
        faces = np.where((np.arange(count) % 2 == 0)[:, None, None], masked[idx, 0], data["images"][idx])
        h, w = (int(v) for v in meta["input_size"].split("x"))
        mean, std = float(meta["mean"].split(",")[0]), float(meta["std"].split(",")[0])
        x = resize(torch.from_numpy(faces).float()[:, None] / 255.0, h, w)
        self.batches = iter(((x - mean) / std).numpy()[i:i + 32] for i in range(0, count, 32))

    def get_next(self):
        batch = next(self.batches, None)
        return None if batch is None else {"input": batch}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=pathlib.Path, required=True, help="float ONNX model with the contract")
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--calibration-faces", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--golden", action="store_true", help=f"also write {GOLDEN_OUT.name}")
    args = ap.parse_args()
    meta = {p.key: p.value for p in onnx.load(str(args.model)).metadata_props}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = pathlib.Path(tmp) / "prepared.onnx"
        quant_pre_process(str(args.model), str(prepared))
        quantize_static(str(prepared), str(args.out), Faces(meta, args.calibration_faces, args.seed),
                        quant_format=QuantFormat.QDQ, per_channel=True, weight_type=QuantType.QInt8,
                        activation_type=QuantType.QUInt8, reduce_range=True)
    m = onnx.load(str(args.out))
    del m.metadata_props[:]
    meta["quantization"] = f"int8 static QDQ, per-channel 7-bit weights, {args.calibration_faces} calibration faces (half masked)"
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    onnx.save(m, str(args.out))
    print(f"{args.out}: {args.out.stat().st_size:,} bytes (float: {args.model.stat().st_size:,})")
    if args.golden:
        golden = json.loads(GOLDEN_IN.read_text())
        inp = np.asarray(golden["inputs"], np.float32)
        logits = ort.InferenceSession(str(args.out), providers=["CPUExecutionProvider"]).run(None, {"input": inp})[0]
        probs = np.exp(logits - logits.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        GOLDEN_OUT.write_text(json.dumps({
            "model": args.out.name, "generator": "training/masked_fer_train/quantize.py --golden",
            "shape": golden["shape"], "inputs": golden["inputs"], "logits": logits.tolist(),
            "probabilities": probs.tolist()}))
        print(f"wrote {GOLDEN_OUT}")


if __name__ == "__main__":
    main()
