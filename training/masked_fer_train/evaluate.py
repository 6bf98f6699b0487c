"""Validation: FER2013 PublicTest minus the 280 train duplicates, masked (fixed seed) and clean."""
import numpy as np
import torch

from .fer_data import FERPLUS_TO_LABEL  # noqa: F401  (documents the vote mapping)


def val_sets(data: dict, masked: np.ndarray) -> dict:
    idx = np.flatnonzero((data["split"] == "val") & ~data["val_dup"])
    votes = data["votes"][idx]
    ferplus = np.where(votes.sum(1) > 0, votes.argmax(1), -1)  # -1: no usable FER+ vote
    common = {"label": data["label"][idx], "ferplus": ferplus, "index": idx}
    return {"masked": common | {"images": np.ascontiguousarray(masked[idx, 0])},
            "clean": common | {"images": data["images"][idx]}}


@torch.no_grad()
def predict(net, images: np.ndarray, mean: float, std: float, batch: int = 512) -> np.ndarray:
    net.eval()
    out = []
    for s in range(0, len(images), batch):
        x = torch.from_numpy(images[s:s + batch]).float()[:, None] / 255.0
        out.append(torch.softmax(net((x - mean) / std), 1).numpy())
    return np.concatenate(out)


def evaluate(net, vset: dict, mean: float, std: float) -> dict:
    probs = predict(net, vset["images"], mean, std)
    pred = probs.argmax(1)
    ok = vset["ferplus"] >= 0
    return {"accuracy": float((pred == vset["label"]).mean()),
            "ferplus_accuracy": float((pred[ok] == vset["ferplus"][ok]).mean()),
            "pred": pred, "probs": probs}
