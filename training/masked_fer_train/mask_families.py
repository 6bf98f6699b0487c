"""Lower-face occluders in families, drawn onto 48x48 grey faces at their own landmarks (v2 masks).

Each family is a kind of occluder people wear in front of a robot; leave-one-family-out
training (train.py --hold-out FAMILY) measures whether the model learnt masks or our masks:

  surgical    pleated rectangle, light colours, ear loops
  kn95        cup with a centre seam, pointed at nose and chin, head straps or ear loops
  cloth       contoured cloth with prints: stripes, dots, checks, blotches, knit
  dark        black / dark grey cloth or KN95, little texture, sometimes a sheen
  gaiter      bandana (triangle below the chin) or neck gaiter (band to the frame's bottom)
  below_nose  a surgical or cloth mask worn under the nose: nostrils visible
  hand_scarf  a hand (fingers across the mouth) or a knitted scarf over mouth and chin

Every family draws with placement jitter (shift, rotation, size), lighting (gradient across the
occluder, ambient light from the face underneath, darker curved edges), blur and sensor noise.
Deterministic: the same (face, landmarks, family, seed) always gives the same pixels. The v1
renderer (mask.py) stays as a second, independent renderer for validation.
"""
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .mask import SIZE, area_down, finish, lit_blend, local_frame

SS = 3  # supersampling factor for anti-aliased edges
N = SIZE * SS
FAMILIES = ["surgical", "kn95", "cloth", "dark", "gaiter", "below_nose", "hand_scarf"]

_YY, _XX = (a.astype(np.float32) / SS for a in np.mgrid[0:N, 0:N])


def _to_px(frame, uv: np.ndarray) -> np.ndarray:
    eye_c, _, right, down, _, _ = frame
    return eye_c + uv[:, :1] * right + uv[:, 1:] * down


def _contour(frame, rng, top: float, bottom: float, widths, point_top: float = 0.0,
             point_bottom: float = 0.0) -> np.ndarray:
    """Closed outline in (u, v) face coordinates (u along the eye line, v down from it): a top
    edge at `top` (peaked by `point_top` at the nose), sides through half-widths (top, middle,
    bottom), a bottom at `bottom` (pointed by `point_bottom` at the chin)."""
    _, nose, right, _, ed, _ = frame
    nose_u = float(np.dot(nose - frame[0], right))
    w_top, w_mid, w_bot = (ed * w for w in widths)
    sag = ed * rng.uniform(0.05, 0.2)
    pts = [(nose_u * (1 - abs(t)) + t * w_top, top - point_top * ed * (1 - abs(t)) + sag * t * t)
           for t in np.linspace(-1, 1, 13)]
    side = []
    for t in np.linspace(0, 1, 9)[1:]:
        w = w_top + (w_mid - w_top) * np.sin(np.pi * min(t * 1.5, 1) / 2)
        w -= (w - w_bot) * max(0.0, (t - 0.5) / 0.5) ** 1.5
        side.append((w, top + sag + t * (bottom - top - sag)))
    pts += side
    for t in np.linspace(0, np.pi, 11)[1:-1]:
        drop = point_bottom * ed * (1 - abs(np.cos(t))) + 0.2 * w_bot * np.sin(t)
        pts.append((w_bot * np.cos(t), bottom + drop))
    pts += [(-u, v) for u, v in reversed(side)]
    return np.asarray(pts)


def _jitter(uv: np.ndarray, rng, ed: float) -> np.ndarray:
    """Placement jitter: rotation about the outline's centre, scale, shift (in face units)."""
    c = uv.mean(0)
    a = rng.normal(0, 0.08)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (uv - c) @ rot.T * rng.uniform(0.92, 1.08) + c + rng.normal(0, 0.07 * ed, 2)


def _fill(poly_px: np.ndarray) -> np.ndarray:
    img = Image.new("L", (N, N), 0)
    ImageDraw.Draw(img).polygon([tuple(p) for p in poly_px * SS], fill=255)
    return np.asarray(img, np.float32) / 255.0


def _pattern(kind: str, rng) -> np.ndarray:
    """Zero-mean print in [-1, 1] on the supersampled grid."""
    period = rng.uniform(2.0, 6.0)
    ang = rng.uniform(0, np.pi)
    u = _XX * np.cos(ang) + _YY * np.sin(ang)
    v = -_XX * np.sin(ang) + _YY * np.cos(ang)
    if kind == "stripes":
        return np.sign(np.sin(2 * np.pi * u / period)) * 0.8
    if kind == "dots":
        return (np.sin(2 * np.pi * u / period) * np.sin(2 * np.pi * v / period) > 0.5) * 2.0 - 1.0
    if kind == "checks":
        return np.sign(np.sin(2 * np.pi * u / period) * np.sin(2 * np.pi * v / period))
    if kind == "knit":
        return np.sin(2 * np.pi * u / rng.uniform(1.2, 2.2)) * 0.6 + rng.normal(0, 0.3, (N, N))
    # blotches: a floral / paisley-like print from upsampled noise
    coarse = rng.normal(0, 1, (int(rng.integers(5, 12)),) * 2).astype(np.float32)
    up = np.asarray(Image.fromarray(coarse).resize((N, N), Image.BICUBIC))
    return np.tanh(up * 2)


def _loops(poly_px: np.ndarray, rng, head_straps: bool) -> np.ndarray:
    """Ear loops from the outline's side towards the ears (or head straps up and down)."""
    img = Image.new("L", (N, N), 0)
    d = ImageDraw.Draw(img)
    width = int(rng.integers(2, 5))
    xs = poly_px[:, 0]
    for k, out in ((int(np.argmin(xs)), -1), (int(np.argmax(xs)), 1)):
        x0, y0 = poly_px[k] * SS
        for dy in ((-rng.uniform(8, 14), rng.uniform(2, 6)) if head_straps else (-rng.uniform(3, 10),)):
            d.line([(x0, y0), (x0 + out * rng.uniform(4, 10) * SS, y0 + dy * SS)], fill=255, width=width)
    return np.asarray(img, np.float32) / 255.0


def _fingers(frame, rng) -> tuple:
    """A hand over the mouth: 3-4 fingers across it from one side, joined by a palm."""
    _, nose, right, down, ed, em = frame
    img = Image.new("L", (N, N), 0)
    gaps = Image.new("L", (N, N), 0)
    d, g = ImageDraw.Draw(img), ImageDraw.Draw(gaps)
    side = rng.choice([-1, 1])
    fw = ed * rng.uniform(0.28, 0.36)  # finger width
    v0 = em * rng.uniform(0.55, 0.85)
    tilt = rng.normal(0, 0.25)
    n = int(rng.integers(3, 5))
    for k in range(n):
        v = v0 + k * fw * 1.02
        tip = -side * ed * rng.uniform(0.5, 1.0)
        a = _to_px(frame, np.array([[tip, v + tilt * tip], [side * ed * 2.5, v + tilt * side * ed * 2.5]]))
        d.line([tuple(p * SS) for p in a], fill=255, width=int(fw * SS))
        d.ellipse([*(a[0] * SS - fw * SS / 2), *(a[0] * SS + fw * SS / 2)], fill=255)
        if k:
            b = _to_px(frame, np.array([[tip * 0.7, v - fw * 0.51], [side * ed * 2.5, v - fw * 0.51]]))
            g.line([tuple(p * SS) for p in b], fill=255, width=max(2, SS))
    palm = _to_px(frame, np.array([[side * ed * 0.9, v0 - fw], [side * ed * 2.5, v0 - fw],
                                   [side * ed * 2.5, v0 + n * fw * 1.2], [side * ed * 0.9, v0 + n * fw * 1.1]]))
    d.polygon([tuple(p * SS) for p in palm], fill=255)
    return np.asarray(img, np.float32) / 255.0, np.asarray(gaps, np.float32) / 255.0


def _skin(face: np.ndarray, frame) -> float:
    eye_c, _, right, down, ed, _ = frame
    pts = _to_px(frame, np.array([[-ed * 0.6, ed * 0.6], [ed * 0.6, ed * 0.6]]))
    vals = [face[int(np.clip(y, 0, SIZE - 1)), int(np.clip(x, 0, SIZE - 1))] for x, y in pts]
    return float(np.mean(vals))


def _shape(family: str, face: np.ndarray, frame, rng):
    """(coverage alpha, texture, straps alpha) on the supersampled grid."""
    _, nose, right, down, ed, em = frame
    nose_v = float(np.dot(nose - frame[0], down))
    straps = np.zeros((N, N), np.float32)
    gaps = np.zeros((N, N), np.float32)
    if family in ("surgical", "below_nose", "cloth", "dark", "kn95"):
        if family == "below_nose":
            top = nose_v + (em - nose_v) * rng.uniform(0.15, 0.45)
        else:
            top = nose_v * rng.uniform(0.2, 0.6)
        bottom = em * rng.uniform(1.45, 1.9)
        if family == "kn95" or (family == "dark" and rng.random() < 0.4):
            uv = _contour(frame, rng, top, bottom, (rng.uniform(0.8, 1.0), rng.uniform(1.05, 1.3),
                          rng.uniform(0.35, 0.55)), point_top=rng.uniform(0.15, 0.3),
                          point_bottom=rng.uniform(0.2, 0.45))
        else:
            uv = _contour(frame, rng, top, bottom, (rng.uniform(0.85, 1.15), rng.uniform(1.0, 1.35),
                          rng.uniform(0.45, 0.8)))
        poly = _to_px(frame, _jitter(uv, rng, ed))
        alpha = _fill(poly)
        if rng.random() < 0.85:
            straps = _loops(poly, rng, head_straps=family == "kn95" and rng.random() < 0.5)
    elif family == "gaiter":
        top = nose_v * rng.uniform(0.3, 0.9)
        wide = ed * rng.uniform(1.6, 2.4)
        if rng.random() < 0.5:  # bandana: a triangle hanging below the chin
            uv = np.array([[-wide, top], [0, top - 0.1 * ed], [wide, top], [wide * 0.7, em * 1.6],
                           [0, em * rng.uniform(2.3, 3.0)], [-wide * 0.7, em * 1.6]])
        else:  # gaiter: a band down to the bottom of the frame
            uv = np.array([[-wide, top + 0.1 * ed], [0, top - 0.05 * ed], [wide, top + 0.1 * ed],
                           [wide, em * 4], [-wide, em * 4]])
        alpha = _fill(_to_px(frame, _jitter(uv, rng, ed)))
    elif family == "hand_scarf":
        if rng.random() < 0.5:
            alpha, gaps = _fingers(frame, rng)
        else:
            top = nose_v + (em - nose_v) * rng.uniform(-0.2, 0.5)
            wide = ed * rng.uniform(1.5, 2.3)
            slope = rng.normal(0, 0.15)
            uv = np.array([[-wide, top - slope * wide], [wide, top + slope * wide],
                           [wide, em * 3.5], [-wide, em * 3.5]])
            alpha = _fill(_to_px(frame, _jitter(uv, rng, ed)))
    else:
        raise ValueError(f"unknown mask family {family!r}; choose from {FAMILIES}")

    # Shade and print per family (grey luminance of the colour).
    if family == "surgical" or (family == "below_nose" and rng.random() < 0.6):
        lum = rng.uniform(150, 240)
        tex = np.full((N, N), lum, np.float32)
        top_y = np.min(np.nonzero(alpha.any(1))[0]) / SS if alpha.any() else 0
        bot_y = np.max(np.nonzero(alpha.any(1))[0]) / SS if alpha.any() else SIZE
        rel = (_YY - top_y) / max(bot_y - top_y, 1.0)
        for c in np.sort(rng.uniform(0.2, 0.75, rng.integers(2, 4))):  # pleats
            tex -= np.exp(-((rel - c) / 0.03) ** 2) * rng.uniform(15, 35)
            tex += np.exp(-((rel - c - 0.05) / 0.03) ** 2) * rng.uniform(5, 15)
    elif family == "kn95":
        lum = rng.uniform(60, 245) if rng.random() < 0.8 else rng.uniform(20, 60)
        tex = np.full((N, N), lum, np.float32)
        u = (_XX - frame[0][0]) * right[0] + (_YY - frame[0][1]) * right[1]
        tex += np.tanh(u / (0.3 * ed)) * rng.uniform(5, 20) * rng.choice([-1, 1])  # two cup halves
        tex -= np.exp(-(u / 0.25) ** 2) * rng.uniform(20, 45)  # centre seam
    elif family == "dark":
        lum = rng.uniform(10, 65)
        tex = np.full((N, N), lum, np.float32) + rng.normal(0, 2, (N, N)).astype(np.float32)
        if rng.random() < 0.4:  # sheen of synthetic fabric
            c = rng.uniform(10, 38, 2)
            tex += 40 * np.exp(-(((_XX - c[0]) ** 2 + (_YY - c[1]) ** 2) / rng.uniform(10, 40)))
    elif family == "hand_scarf" and gaps.any():
        tex = np.full((N, N), np.clip(_skin(face, frame) * rng.uniform(0.85, 1.2), 30, 240), np.float32)
        tex -= gaps * rng.uniform(30, 60)
    else:  # cloth, gaiter, scarf, cloth worn below the nose: a print
        lum = rng.uniform(40, 210)
        kinds = ["stripes", "dots", "checks", "knit", "blotches"]
        if family == "hand_scarf":
            kinds = ["knit", "stripes", "checks"]
        kind = kinds[int(rng.integers(len(kinds)))] if rng.random() < 0.8 else None
        tex = np.full((N, N), lum, np.float32) + rng.normal(0, rng.uniform(2, 8), (N, N)).astype(np.float32)
        if kind:
            tex += _pattern(kind, rng) * rng.uniform(15, 55)
    g = rng.normal(0, 14, 2)  # side light: a gradient across the occluder
    tex += g[0] * (_XX / SIZE - 0.5) + g[1] * (_YY / SIZE - 0.5)
    return alpha, tex, straps


def render_family(face: np.ndarray, lm: np.ndarray, family: str, seed: int) -> np.ndarray:
    """A copy of `face` (uint8 [48,48]) with an occluder of `family`; `lm` float [5,2] pixels."""
    rng = np.random.default_rng(seed)
    frame = local_frame(lm)
    alpha_hi, tex, straps = _shape(family, face, frame, rng)
    # Curved surfaces are darker towards their edges.
    edge = np.asarray(Image.fromarray((alpha_hi * 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(1.5 * SS)), np.float32) / 255.0
    tex = tex * (0.75 + 0.25 * edge)
    alpha = area_down(alpha_hi, SS)
    tex48 = area_down(tex * alpha_hi, SS) / np.maximum(alpha, 1e-6)
    out = lit_blend(face, alpha, tex48, rng)
    return finish(out, area_down(straps * (1 - alpha_hi), SS), rng.uniform(60, 240), rng, max_blur=0.8)
