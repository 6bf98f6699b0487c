"""python -m masked_fer_train.contact_sheet: a PNG grid of masked training samples (original | masked)."""
import argparse

import numpy as np
from PIL import Image

from .fer_data import load_cache
from .mask import median_landmarks, render_mask
from .paths import TRAINING_DIR


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(TRAINING_DIR / "docs" / "mask_contact_sheet.png"))
    ap.add_argument("--rows", type=int, default=6)
    ap.add_argument("--cols", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    data = load_cache()
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(np.flatnonzero(data["split"] == "train"), args.rows * args.cols, replace=False)
    fallback = median_landmarks(data["lm_points"])
    cell, pad = 96, 4
    sheet = Image.new("L", (args.cols * (2 * cell + pad) + pad, args.rows * (cell + pad) + pad), 255)
    for k, i in enumerate(picks):
        lm = data["lm_points"][i]
        lm = fallback if np.isnan(lm[0, 0]) else lm
        masked = render_mask(data["images"][i], lm, seed=args.seed * 100_000 + int(i))
        pair = np.hstack([data["images"][i], masked])
        r, c = divmod(k, args.cols)
        sheet.paste(Image.fromarray(pair).resize((2 * cell, cell), Image.NEAREST),
                    (pad + c * (2 * cell + pad), pad + r * (cell + pad)))
    sheet.save(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
