#!/usr/bin/env python3
"""Independent numpy reference for the Rust face detectors (parity test fixture).

Runs the same ONNX files with Python onnxruntime on the committed photos and decodes the outputs
with plain numpy, written from the published decoders (biubug6 RetinaFace priors; MediaPipe
BlazeFace anchors and weighted NMS), not from the Rust code. Images are letterboxed the same
way (RetinaFace: top-left, BlazeFace: centred; aspect kept; Pillow bilinear resize).

  .venv-tools/bin/python test/reference/detect_reference.py > test/data/detector_reference.json
"""
import json
import math
import pathlib
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Lossless PNGs (JPEG decoders differ by a few levels): photo_* are demo photos at their own size
# (letterboxed on both sides), exact_* are already at a network input size (no resizing at all).

IMAGES = sorted((ROOT / "test/data/parity").glob("*.png"))
# (detector, input width, height, NMS on): without NMS every candidate above the threshold is
# compared, which checks decoding and mapping without depending on near-tied scores.
CASES = [(d, w, h, nms) for d, w, h in (("retinaface", 320, 240), ("retinaface", 640, 480), ("blazeface", 128, 128))
         for nms in (True, False)]


def letterbox(img: Image.Image, tw: int, th: int, centred: bool):
    w, h = img.size
    s = min(tw / w, th / h)
    nw, nh = min(max(round(w * s), 1), tw), min(max(round(h * s), 1), th)
    ox, oy = ((tw - nw) // 2, (th - nh) // 2) if centred else (0, 0)
    resized = img if (nw, nh) == (w, h) else img.resize((nw, nh), Image.BILINEAR)
    return np.asarray(resized, np.float32), (nw / w, nh / h, ox, oy)


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def finish(faces, w, h, min_size=8.0, max_faces=1000):
    out = []
    for f in faces:
        b = f["box"]
        b = [min(max(b[0], 0), w), min(max(b[1], 0), h), min(max(b[2], 0), w), min(max(b[3], 0), h)]
        if b[2] - b[0] >= min_size and b[3] - b[1] >= 1:
            out.append({**f, "box": b})
    return out[:max_faces]


def retinaface(sess, img, tw, th, nms, thr=0.6):
    px, (sx, sy, ox, oy) = letterbox(img, tw, th, centred=False)
    x = np.zeros((1, 3, th, tw), np.float32)
    bgr = px[..., ::-1] - np.array([104, 117, 123], np.float32)
    x[0, :, : px.shape[0], : px.shape[1]] = bgr.transpose(2, 0, 1)
    loc, conf, lms = sess.run(["loc", "conf", "landmarks"], {"input": x})
    pri = []
    for step, sizes in ((8, (16, 32)), (16, (64, 128)), (32, (256, 512))):
        for i in range(math.ceil(th / step)):
            for j in range(math.ceil(tw / step)):
                for s in sizes:
                    pri.append(((j + 0.5) * step / tw, (i + 0.5) * step / th, s / tw, s / th))
    pri = np.array(pri, np.float32)
    keep = np.flatnonzero(conf[0, :, 1] >= thr)
    p, l, m = pri[keep], loc[0, keep], lms[0, keep]
    cxy = p[:, :2] + l[:, :2] * 0.1 * p[:, 2:]
    wh = p[:, 2:] * np.exp(l[:, 2:] * 0.2)
    boxes = np.hstack([cxy - wh / 2, cxy + wh / 2]) * [tw, th, tw, th]
    pts = (p[:, None, :2] + m.reshape(-1, 5, 2) * 0.1 * p[:, None, 2:]) * [tw, th]
    to_src = lambda xy: [(xy[0] - ox) / sx, (xy[1] - oy) / sy]
    faces = [{"box": to_src(b[:2]) + to_src(b[2:]), "score": float(conf[0, k, 1]), "landmarks": [to_src(q) for q in pt]}
             for b, k, pt in zip(boxes, keep, pts)]
    faces.sort(key=lambda f: -f["score"])
    kept = []
    for f in faces:  # greedy NMS
        if all(iou(f["box"], k["box"]) <= nms for k in kept):
            kept.append(f)
    return finish(kept, *img.size)


def blazeface(sess, img, nms, thr=0.5):
    px, (sx, sy, ox, oy) = letterbox(img, 128, 128, centred=True)
    x = np.full((1, 3, 128, 128), -1.0, np.float32)
    x[0, :, oy: oy + px.shape[0], ox: ox + px.shape[1]] = (px / 127.5 - 1.0).transpose(2, 0, 1)
    reg, cls = sess.run(["regressors", "classificators"], {sess.get_inputs()[0].name: x})
    anchors = []
    for grid, per in ((16, 2), (8, 6)):
        for yy in range(grid):
            for xx in range(grid):
                anchors += [((xx + 0.5) / grid, (yy + 0.5) / grid)] * per
    anchors = np.array(anchors, np.float32) * 128
    score = 1 / (1 + np.exp(-np.clip(cls[0, :, 0].astype(np.float64), -100, 100)))
    to_src = lambda xy: np.stack([(xy[..., 0] - ox) / sx, (xy[..., 1] - oy) / sy], -1)
    faces = []
    for k in np.flatnonzero(score >= thr):
        r = reg[0, k]
        c = r[:2] + anchors[k]
        box = np.concatenate([to_src(c - r[2:4] / 2), to_src(c + r[2:4] / 2)])
        kp = to_src(r[4:12].reshape(4, 2) + anchors[k])
        faces.append({"box": box, "score": float(score[k]), "landmarks": np.vstack([kp, kp[3:4]])})
    faces.sort(key=lambda f: -f["score"])
    out = []
    while faces:  # MediaPipe weighted NMS
        top, rest = faces[0], faces[1:]
        cluster = [top] + [f for f in rest if iou(top["box"], f["box"]) > nms]
        faces = [f for f in rest if iou(top["box"], f["box"]) <= nms]
        wsum = sum(f["score"] for f in cluster)
        out.append({"box": list(map(float, sum(f["box"] * f["score"] for f in cluster) / wsum)), "score": top["score"],
                    "landmarks": (sum(f["landmarks"] * f["score"] for f in cluster) / wsum).tolist()})
    return finish(out, *img.size)


def main():
    results = []
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sessions = {name: ort.InferenceSession(str(ROOT / "models" / f), so, providers=["CPUExecutionProvider"])
                for name, f in (("retinaface", "retinaface_mnet025.onnx"), ("blazeface", "blazeface_short_range.onnx"))}
    for det, tw, th, use_nms in CASES:
        nms = (0.4 if det == "retinaface" else 0.3) if use_nms else 1.0
        for path in IMAGES:
            img = Image.open(path).convert("RGB")
            faces = retinaface(sessions[det], img, tw, th, nms) if det == "retinaface" else blazeface(sessions[det], img, nms)
            for f in faces:
                f["box"] = [float(v) for v in f["box"]]
                f["landmarks"] = [[float(a), float(b)] for a, b in f["landmarks"]]
            results.append({"detector": det, "input": [tw, th], "nms": use_nms, "image": path.name, "faces": faces})
    json.dump({"generator": "test/reference/detect_reference.py", "onnxruntime": ort.__version__, "cases": results},
              sys.stdout, indent=1)


if __name__ == "__main__":
    main()
