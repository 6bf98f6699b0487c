"""Validation: FER2013 PublicTest minus the 280 train duplicates, masked (fixed seeds) and clean."""
import numpy as np
import torch

from .fer_data import FERPLUS_TO_LABEL  # noqa: F401  (documents the vote mapping)
from .mask_families import FAMILIES
from .masked_set import family_of, variant_of


def val_sets(data: dict, masked: np.ndarray, families: np.ndarray | None = None, per_family: bool = False,
             hold_out: str | None = None) -> dict:
    """"masked" (v1 renderer, variant 0), "clean", and with the families cache: "families" (each
    face with family (index % 7): all families, balanced; the held-out family's faces dropped
    when `hold_out` is set, so that model selection never sees it) and, with `per_family`,
    "family:<name>" (every face with that family's occluder)."""
    idx = np.flatnonzero((data["split"] == "val") & ~data["val_dup"])
    out = {"masked": _vset(data, idx, masked[idx, 0]), "clean": _vset(data, idx, data["images"][idx])}
    if families is not None:
        keep = idx if hold_out is None else idx[family_of(idx, 0) != FAMILIES.index(hold_out)]
        out["families"] = _vset(data, keep, families[keep, 0])
        if per_family:
            for f, name in enumerate(FAMILIES):
                out[f"family:{name}"] = _vset(data, idx, families[idx, variant_of(idx, f)])
    return out


def _vset(data: dict, idx: np.ndarray, images: np.ndarray) -> dict:
    votes = data["votes"][idx]
    ferplus = np.where(votes.sum(1) > 0, votes.argmax(1), -1)  # -1: no usable FER+ vote
    return {"label": data["label"][idx], "ferplus": ferplus, "index": idx, "images": np.ascontiguousarray(images)}


def resize(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    if x.shape[-2:] == (h, w):
        return x
    return torch.nn.functional.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)


@torch.no_grad()
def predict(net, images: np.ndarray, mean: float, std: float, size: int = 48, batch: int = 512) -> np.ndarray:
    net.eval()
    out = []
    for s in range(0, len(images), batch):
        x = resize(torch.from_numpy(images[s:s + batch]).float()[:, None] / 255.0, size, size)
        out.append(torch.softmax(net((x - mean) / std), 1).numpy())
    return np.concatenate(out)


def predict_onnx(path, images: np.ndarray, labels: list, batch: int = 512) -> np.ndarray:
    """Probabilities in `labels` order from an ONNX model with masked_fer's metadata contract
    (input size, colour, mean/std, label order, logits or probabilities): the way the Rust
    classifier feeds it, applied to the 48x48 validation faces."""
    import onnx
    import onnxruntime as ort
    meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    h, w = (int(v) for v in meta["input_size"].split("x"))
    mean, std = float(meta["mean"].split(",")[0]), float(meta["std"].split(",")[0])
    order = [meta["labels"].split(",").index(lab) for lab in labels]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = []
    for s in range(0, len(images), batch):
        x = resize(torch.from_numpy(images[s:s + batch]).float()[:, None] / 255.0, h, w)
        if meta["color"] == "rgb":
            x = x.repeat(1, 3, 1, 1)
        y = sess.run(None, {"input": ((x - mean) / std).numpy()})[0]
        if meta.get("outputs", "logits") == "logits":
            y = torch.softmax(torch.from_numpy(y), 1).numpy()
        out.append(y[:, order])
    return np.concatenate(out)


def evaluate(net, vset: dict, mean: float, std: float, size: int = 48) -> dict:
    return score(predict(net, vset["images"], mean, std, size), vset)


def score(probs: np.ndarray, vset: dict) -> dict:
    """Accuracy against FER2013 labels and the FER+ majority vote, per-class recall (FER2013
    labels, in label order) and UAR, their mean."""
    pred, label = probs.argmax(1), vset["label"]
    ok = vset["ferplus"] >= 0
    recall = [float((pred[label == c] == c).sum() / max((label == c).sum(), 1)) for c in range(probs.shape[1])]
    return {"accuracy": float((pred == label).mean()),
            "ferplus_accuracy": float((pred[ok] == vset["ferplus"][ok]).mean()),
            "recall": recall, "uar": float(np.mean(recall)), "pred": pred, "probs": probs}
