"""Pre-rendered masked variants of every FER2013 face (cached), so training only samples them.

Two renderers:
- `v1` (mask.py): 4 variants per image, seed `base_seed * 1_000_003 + index * 64 + variant`;
  its variant 0 (seed 1) is the masked validation set of every run before the mask families.
- `families` (mask_families.py): one variant per family for every image, so that a family can
  be held out of training and validated on its own. Variant v of image i is drawn from family
  FAMILIES[(i + v) % 7]: the columns mix families, and `family_of` says which is where.
"""
from multiprocessing import Pool

import numpy as np
from tqdm import tqdm

from .fer_data import load_cache
from .mask import median_landmarks, render_mask
from .mask_families import FAMILIES, render_family
from .paths import CACHE_DIR

RENDERERS = ("v1", "families")


def _seed(base_seed: int, index: int, variant: int) -> int:
    return base_seed * 1_000_003 + index * 64 + variant


def family_of(index: np.ndarray, variant: np.ndarray) -> np.ndarray:
    """Family index (into FAMILIES) of variant `variant` of image `index` in the families cache."""
    return (np.asarray(index) + np.asarray(variant)) % len(FAMILIES)


def variant_of(index: np.ndarray, family: int) -> np.ndarray:
    """The variant of each image that holds `family` (inverse of family_of)."""
    return (family - np.asarray(index)) % len(FAMILIES)


def _render_row(args):
    renderer, index, face, lm, variants, base_seed = args
    if renderer == "v1":
        return np.stack([render_mask(face, lm, _seed(base_seed, index, v)) for v in range(variants)])
    return np.stack([render_family(face, lm, FAMILIES[int(family_of(index, v))], _seed(base_seed, index, v))
                     for v in range(variants)])


def masked_cache_file(renderer: str, variants: int, base_seed: int):
    prefix = "masked" if renderer == "v1" else "families"
    return CACHE_DIR / f"{prefix}_v{variants}_s{base_seed}.npy"


def build_masked(renderer: str = "v1", base_seed: int = 1, workers: int = 2) -> np.ndarray:
    """uint8 [N, variants, 48, 48], rendered once and memory-mapped afterwards."""
    if renderer not in RENDERERS:
        raise SystemExit(f"unknown mask renderer {renderer!r}; choose from {RENDERERS}")
    variants = 4 if renderer == "v1" else len(FAMILIES)
    path = masked_cache_file(renderer, variants, base_seed)
    if path.exists():
        return np.load(path, mmap_mode="r")
    data = load_cache()
    lms = data["lm_points"].copy()
    lms[np.isnan(lms[:, 0, 0])] = median_landmarks(lms)
    jobs = [(renderer, i, data["images"][i], lms[i], variants, base_seed) for i in range(len(lms))]
    with Pool(workers) as pool:
        rows = list(tqdm(pool.imap(_render_row, jobs, chunksize=64), total=len(jobs), desc=f"masks ({renderer})",
                         unit="img"))
    out = np.stack(rows).astype(np.uint8)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, out)
    tmp.replace(path)
    return out
