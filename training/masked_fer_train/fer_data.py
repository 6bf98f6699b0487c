"""FER2013 + FER+ votes as one cached array file (decode the JPEGs once, then train on tensors).

Cache: training/cache/fer2013.npz with
  images uint8 [N,48,48], label int64 [N] (FER2013 label, index into LABELS), split ('train'|'val'),
  votes float32 [N,7] (FER+ votes mapped onto LABELS; contempt, unknown and NF dropped),
  nf_unknown float32 [N] (unknown + NF votes), val_dup bool [N] (validation image that is a
  byte-identical copy of a training image), lm_box / lm_points / lm_score (RetinaFace on the face).
"""
import csv
import pathlib

import numpy as np
from PIL import Image
from tqdm import tqdm

from .face_landmarks import detect_landmarks
from .paths import CACHE_DIR, FER_DIR, LABELS

CACHE_FILE = CACHE_DIR / "fer2013.npz"
FERPLUS_TO_LABEL = {"anger": "angry", "disgust": "disgust", "fear": "fear", "happiness": "happy",
                    "neutral": "neutral", "sadness": "sad", "surprise": "surprise"}


def _read_votes():
    votes = {}
    with open(FER_DIR / "ferplus_votes.csv") as f:
        for row in csv.DictReader(f):
            v = np.zeros(len(LABELS), np.float32)
            for src, dst in FERPLUS_TO_LABEL.items():
                v[LABELS.index(dst)] = float(row[src])
            votes[row["path"]] = (v, float(row["unknown"]) + float(row["NF"]))
    return votes


def build_cache(threads: int = 1) -> pathlib.Path:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    dups = set((FER_DIR / "val_duplicates_of_train.txt").read_text().split())
    votes = _read_votes()
    rel_paths = sorted(str(p.relative_to(FER_DIR)) for p in FER_DIR.glob("*/*/*.jpg"))
    n = len(rel_paths)
    images = np.zeros((n, 48, 48), np.uint8)
    label = np.zeros(n, np.int64)
    split = np.empty(n, dtype="<U5")
    vote_arr = np.zeros((n, len(LABELS)), np.float32)
    nf = np.zeros(n, np.float32)
    for i, rel in enumerate(tqdm(rel_paths, desc="decode", unit="img")):
        s, cls, _ = rel.split("/")
        images[i] = np.asarray(Image.open(FER_DIR / rel).convert("L").resize((48, 48)))
        label[i] = LABELS.index(cls)
        split[i] = s
        if rel in votes:
            vote_arr[i], nf[i] = votes[rel]
    with tqdm(total=n, desc="landmarks", unit="img") as bar:
        boxes, lms, scores = detect_landmarks(images, threads=threads, progress=bar.update)
    np.savez_compressed(
        CACHE_FILE, images=images, label=label, split=split, votes=vote_arr, nf_unknown=nf,
        val_dup=np.array([p in dups for p in rel_paths]), path=np.array(rel_paths),
        lm_box=boxes, lm_points=lms, lm_score=scores)
    return CACHE_FILE


def load_cache() -> dict:
    if not CACHE_FILE.exists():
        raise SystemExit(f"{CACHE_FILE} missing: run `python -m masked_fer_train.cache` first")
    with np.load(CACHE_FILE) as z:
        return {k: z[k] for k in z.files}
