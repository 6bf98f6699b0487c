"""Synthetic face masks drawn onto 48x48 grey faces, placed by the face's own landmarks.

A mask runs from the nose bridge to below the chin and out to the cheeks, oriented along the
eye line, with a varied style (surgical with pleats, cloth, dark, patterned), shade, outline,
ear loops, lighting taken from the face underneath, blur and noise. Deterministic: the same
(image, landmarks, seed) always gives the same pixels.

Landmarks are RetinaFace's five points (left eye, right eye, nose, left mouth, right mouth) in
48-px coordinates; rows without a detection use the median landmarks of the data set.
"""
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SS = 4  # supersampling factor for anti-aliased edges
SIZE = 48

# (name, luminance range, probability). Luminance is what a colour becomes in a grey image.
STYLES = [
    ("surgical", (150, 215), 0.45),  # light blue / green / white surgical masks
    ("white", (205, 245), 0.15),
    ("dark", (15, 60), 0.15),  # black cloth / KN95
    ("cloth", (70, 180), 0.15),  # coloured cloth, plain
    ("pattern", (60, 200), 0.10),  # stripes or dots
]


def local_frame(lm: np.ndarray):
    le, re, nose, lmo, rmo = lm
    eye_c, mouth_c = (le + re) / 2, (lmo + rmo) / 2
    right = re - le
    ed = max(np.linalg.norm(right), 4.0)
    right = right / ed
    down = np.array([-right[1], right[0]])
    if np.dot(down, mouth_c - eye_c) < 0:
        down = -down
    em = max(np.dot(mouth_c - eye_c, down), 0.6 * ed)
    return eye_c, nose, right, down, ed, em


def _outline(lm: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mask polygon in 48-px coordinates (top edge over the nose bridge, round bottom below chin)."""
    eye_c, nose, right, down, ed, em = local_frame(lm)
    nose_v = float(np.dot(nose - eye_c, down))
    nose_u = float(np.dot(nose - eye_c, right))
    top = nose_v * rng.uniform(0.25, 0.6)  # distance below the eye line at the bridge
    bottom = em * rng.uniform(1.45, 1.9)  # below the chin
    half_top = ed * rng.uniform(0.85, 1.1)
    half_mid = ed * rng.uniform(1.0, 1.3)
    half_bot = ed * rng.uniform(0.45, 0.75)
    sag = ed * rng.uniform(0.08, 0.25)  # top edge dips from the bridge towards the cheeks
    pts = []
    for t in np.linspace(-1, 1, 15):  # top edge, left to right, peaked at the nose
        pts.append((nose_u * (1 - abs(t)) + t * half_top, top + sag * t * t))
    for t in np.linspace(0, 1, 8)[1:]:  # right side, bulging to the cheek
        w = half_top + (half_mid - half_top) * np.sin(np.pi * min(t * 1.4, 1) / 2)
        w = w - (w - half_bot) * max(0.0, (t - 0.55) / 0.45) ** 1.5
        pts.append((w, top + sag + t * (bottom - top - sag)))
    for t in np.linspace(0, np.pi, 12)[1:-1]:  # rounded bottom under the chin
        pts.append((half_bot * np.cos(t), bottom + 0.25 * half_bot * np.sin(t)))
    for u, v in reversed(pts[15:22]):  # left side mirrors the right
        pts.append((-u, v))
    shift = rng.normal(0, 0.6, 2)
    angle = rng.normal(0, 0.05)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    uv = np.asarray(pts) @ rot.T
    return eye_c + shift + uv[:, :1] * right + uv[:, 1:] * down


def _style(rng: np.random.Generator):
    names = [s[0] for s in STYLES]
    probs = np.array([s[2] for s in STYLES])
    k = rng.choice(len(STYLES), p=probs / probs.sum())
    lo, hi = STYLES[k][1]
    return names[k], rng.uniform(lo, hi)


def _texture(style: str, lum: float, poly: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mask shade at supersampled resolution, before lighting."""
    n = SIZE * SS
    tex = np.full((n, n), lum, np.float32)
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / SS
    top_y, bot_y = poly[:, 1].min(), poly[:, 1].max()
    rel = (yy - top_y) / max(bot_y - top_y, 1.0)
    if style == "surgical":  # pleats: 2-3 darker bands with a light edge
        for c in np.sort(rng.uniform(0.2, 0.75, rng.integers(2, 4))):
            band = np.exp(-((rel - c) / 0.03) ** 2)
            tex -= band * rng.uniform(15, 35)
            tex += np.exp(-((rel - c - 0.05) / 0.03) ** 2) * rng.uniform(5, 15)
    elif style == "pattern":
        period = rng.uniform(2.5, 6.0)
        phase = rng.uniform(0, 2 * np.pi)
        if rng.random() < 0.5:
            wave = np.sin(2 * np.pi * (xx * rng.uniform(-0.5, 0.5) + yy) / period + phase)
        else:
            wave = np.sin(2 * np.pi * xx / period + phase) * np.sin(2 * np.pi * yy / period)
        tex += wave * rng.uniform(20, 50)
    elif style == "cloth":
        tex += rng.normal(0, rng.uniform(2, 8), (n, n)).astype(np.float32)
    # Lighting: a linear gradient across the mask, as from a side light.
    g = rng.normal(0, 12, 2)
    tex += g[0] * (xx / SIZE - 0.5) + g[1] * (yy / SIZE - 0.5)
    return tex


def render_mask(face: np.ndarray, lm: np.ndarray, seed: int) -> np.ndarray:
    """Return a masked copy of `face` (uint8 [48,48]); `lm` is float [5,2] in pixel coordinates."""
    rng = np.random.default_rng(seed)
    poly = _outline(lm, rng)
    style, lum = _style(rng)
    n = SIZE * SS
    cover = Image.new("L", (n, n), 0)
    ImageDraw.Draw(cover).polygon([tuple(p) for p in poly * SS], fill=255)
    loops = Image.new("L", (n, n), 0)
    if rng.random() < 0.8:  # ear loops from the mask's upper and lower corners towards the ears
        d = ImageDraw.Draw(loops)
        width = int(rng.integers(2, 5))
        for side in (0, 14):
            x0, y0 = poly[side] * SS
            out = -1 if side == 0 else 1
            x1, y1 = x0 + out * rng.uniform(4, 10) * SS, y0 - rng.uniform(0, 4) * SS
            d.line([(x0, y0), (x1, y1)], fill=255, width=width)
        # Outline order: top edge 0-14, right side 15-21, bottom 22-31, left side 32-38.
        for (x0, y0), out in ((poly[35] * SS, -1), (poly[18] * SS, 1)):
            d.line([(x0, y0), (x0 + out * rng.uniform(4, 9) * SS, y0 - rng.uniform(6, 14) * SS)],
                   fill=255, width=width)
    alpha_hi = np.asarray(cover, np.float32) / 255.0
    tex = _texture(style, lum, poly, rng)
    # Edge shading: masks are darker where they curve away from the camera.
    edge = np.asarray(cover.filter(ImageFilter.GaussianBlur(1.5 * SS)), np.float32) / 255.0
    tex *= 0.8 + 0.2 * edge
    loop_a = np.asarray(loops, np.float32) / 255.0 * (1 - alpha_hi)
    loop_lum = np.clip(lum + rng.normal(0, 15), 0, 255)
    alpha = area_down(alpha_hi, SS)
    tex48 = area_down(tex * alpha_hi, SS) / np.maximum(alpha, 1e-6)
    return finish(lit_blend(face, alpha, tex48, rng), area_down(loop_a, SS), loop_lum, rng, max_blur=0.7)


def area_down(a: np.ndarray, ss: int) -> np.ndarray:
    """A supersampled [48*ss, 48*ss] array averaged by area down to 48x48."""
    return a.reshape(SIZE, ss, SIZE, ss).mean(axis=(1, 3))


def lit_blend(face: np.ndarray, alpha: np.ndarray, tex48: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The occluder's shade `tex48` lit like the face region it covers (ambient light) plus
    sensor noise, blended over `face` by coverage `alpha` (float [48,48])."""
    blurred = np.asarray(Image.fromarray(face).filter(ImageFilter.GaussianBlur(6)), np.float32)
    light = np.clip(blurred / max(float(blurred.mean()), 1.0), 0.6, 1.4) ** rng.uniform(0.3, 0.8)
    shade = tex48 * light + rng.normal(0, rng.uniform(1, 6), tex48.shape)
    return face.astype(np.float32) * (1 - alpha) + shade * alpha


def finish(out: np.ndarray, straps48: np.ndarray, strap_lum: float, rng: np.random.Generator,
           max_blur: float) -> np.ndarray:
    """Straps (ear loops) at 80% opacity, then half the time a slight blur; uint8 [48,48]."""
    out = out * (1 - straps48 * 0.8) + strap_lum * straps48 * 0.8
    img = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, max_blur)))
    return np.asarray(img)


def median_landmarks(lm_points: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(lm_points[:, 0, 0])
    return np.median(lm_points[ok], axis=0)
