"""Int8 quantisation of an exported classifier with ONNX Runtime's static quantiser (QDQ format,
per-channel int8 weights, uint8 activations calibrated on training faces), keeping the model
contract's metadata so the Rust side can load it like the float model.

  python -m masked_fer_train.quantize --model ../models/slim_rgc_masked_fer.onnx \\
      --out ../.cache/models/slim_rgc_int8.onnx
then compare accuracy with `report --onnx FILE --name NAME` and speed with
`masked_fer bench --model int8=FILE`.
"""
import argparse
import pathlib
import tempfile

import numpy as np
import onnx
import torch
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from .evaluate import resize
from .fer_data import load_cache
from .masked_set import build_masked


class Faces(CalibrationDataReader):
    """Training faces (half of them masked), fed exactly as evaluate.predict_onnx feeds them."""

    def __init__(self, meta: dict, count: int, seed: int):
        data, masked = load_cache(), build_masked()
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
    args = ap.parse_args()
    meta = {p.key: p.value for p in onnx.load(str(args.model)).metadata_props}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        prepared = pathlib.Path(tmp) / "prepared.onnx"
        quant_pre_process(str(args.model), str(prepared))
        quantize_static(str(prepared), str(args.out), Faces(meta, args.calibration_faces, args.seed),
                        quant_format=QuantFormat.QDQ, per_channel=True, weight_type=QuantType.QInt8,
                        activation_type=QuantType.QUInt8)
    m = onnx.load(str(args.out))
    del m.metadata_props[:]
    meta["quantization"] = f"int8 static QDQ, per-channel, {args.calibration_faces} calibration faces (half masked)"
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    onnx.save(m, str(args.out))
    print(f"{args.out}: {args.out.stat().st_size:,} bytes (float: {args.model.stat().st_size:,})")


if __name__ == "__main__":
    main()
