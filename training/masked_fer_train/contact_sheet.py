"""python -m masked_fer_train.contact_sheet: one PNG per mask family (and one for the v1
renderer) in docs/masks/, each a grid of real unmasked faces with that family drawn on them.

The faces are the `without_mask` faces of at least 28 px in ../shared/datasets/face_mask (CC0
photos, so the sheets can be committed; FER2013 images may not be). Each is cropped square
around its annotated box, turned grey and resized to FER2013's 48x48; RetinaFace (the same
landmark step as for FER2013, face_landmarks.py) places the mask.
"""
import argparse
import pathlib
import re

import numpy as np
from PIL import Image

from .face_landmarks import detect_landmarks
from .mask import median_landmarks, render_mask
from .mask_families import FAMILIES, render_family
from .paths import REPO_DIR, TRAINING_DIR

FACE_MASK_DIR = REPO_DIR.parent / "shared" / "datasets" / "face_mask"


def unmasked_faces(min_side: int = 28) -> np.ndarray:
    """uint8 [N,48,48]: the data set's unmasked faces, sorted by file for a stable sheet."""
    faces = []
    for xml in sorted((FACE_MASK_DIR / "annotations").glob("*.xml")):
        text = xml.read_text()
        photo = None
        for obj in re.findall(r"<object>(.*?)</object>", text, re.S):
            if "<name>without_mask</name>" not in obj:
                continue
            x0, y0, x1, y1 = (int(re.search(f"<{k}>(\\d+)</{k}>", obj).group(1)) for k in ("xmin", "ymin", "xmax", "ymax"))
            side = max(x1 - x0, y1 - y0)
            if side < min_side:
                continue
            photo = photo or Image.open(FACE_MASK_DIR / "images" / f"{xml.stem}.jpg").convert("L")
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            box = (round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2))
            faces.append(np.asarray(photo.crop(box).resize((48, 48), Image.BILINEAR)))
    if not faces:
        raise SystemExit(f"no unmasked faces found under {FACE_MASK_DIR}")
    return np.stack(faces)


def sheet(faces: np.ndarray, render, cols: int, cell: int = 96, pad: int = 4) -> Image.Image:
    rows = -(-len(faces) // cols)
    out = Image.new("L", (cols * (cell + pad) + pad, rows * (cell + pad) + pad), 255)
    for k, face in enumerate(faces):
        r, c = divmod(k, cols)
        out.paste(Image.fromarray(render(k, face)).resize((cell, cell), Image.NEAREST),
                  (pad + c * (cell + pad), pad + r * (cell + pad)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(TRAINING_DIR / "docs" / "masks"), help="folder for the PNGs")
    ap.add_argument("--cols", type=int, default=9)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    faces = unmasked_faces()
    _, lms, _ = detect_landmarks(faces)
    lms[np.isnan(lms[:, 0, 0])] = median_landmarks(lms)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sheet(faces, lambda k, f: f, args.cols).save(out / "unmasked.png")
    sheet(faces, lambda k, f: render_mask(f, lms[k], args.seed * 1000 + k), args.cols).save(out / "v1.png")
    for family in FAMILIES:
        sheet(faces, lambda k, f: render_family(f, lms[k], family, args.seed * 1000 + k), args.cols).save(
            out / f"{family}.png")
    print(f"{len(faces)} faces, sheets in {out}")


if __name__ == "__main__":
    main()
