"""Pre-rendered masked variants of every FER2013 face (cached), so training only samples them.

`variants` masks per image, each from seed `base_seed * 1_000_003 + index * 64 + variant`.
Validation uses variant 0: the masked validation set is fixed by `base_seed`.
"""
from multiprocessing import Pool

import numpy as np
from tqdm import tqdm

from .fer_data import load_cache
from .mask import median_landmarks, render_mask
from .paths import CACHE_DIR


def _seed(base_seed: int, index: int, variant: int) -> int:
    return base_seed * 1_000_003 + index * 64 + variant


def _render_row(args):
    index, face, lm, variants, base_seed = args
    return np.stack([render_mask(face, lm, _seed(base_seed, index, v)) for v in range(variants)])


def masked_cache_file(variants: int, base_seed: int):
    return CACHE_DIR / f"masked_v{variants}_s{base_seed}.npy"


def build_masked(variants: int = 4, base_seed: int = 1, workers: int = 2) -> np.ndarray:
    path = masked_cache_file(variants, base_seed)
    if path.exists():
        return np.load(path, mmap_mode="r")
    data = load_cache()
    lms = data["lm_points"].copy()
    fallback = median_landmarks(lms)
    lms[np.isnan(lms[:, 0, 0])] = fallback
    jobs = [(i, data["images"][i], lms[i], variants, base_seed) for i in range(len(lms))]
    with Pool(workers) as pool:
        rows = list(tqdm(pool.imap(_render_row, jobs, chunksize=64), total=len(jobs), desc="masks", unit="img"))
    out = np.stack(rows).astype(np.uint8)
    np.save(path, out)
    return out
