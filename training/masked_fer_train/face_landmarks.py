"""RetinaFace-MobileNet0.25 landmarks on FER2013 faces, used to place synthetic masks.

FER2013 faces fill their 48x48 frame, which RetinaFace handles badly, so each face is upscaled
3x and padded by edge replication before detection. The decode follows the published priors
(steps 8/16/32, variances 0.1/0.2) and runs on the same ONNX file that the Rust node uses.
"""
import math

import numpy as np
import onnxruntime as ort

from .paths import RETINAFACE_ONNX

SCALE = 3
PAD = 56
MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)


def priors(height: int, width: int) -> np.ndarray:
    rows = []
    for step, sizes in ((8, (16, 32)), (16, (64, 128)), (32, (256, 512))):
        for i in range(math.ceil(height / step)):
            for j in range(math.ceil(width / step)):
                for s in sizes:
                    rows.append(((j + 0.5) * step / width, (i + 0.5) * step / height, s / width, s / height))
    return np.asarray(rows, dtype=np.float32)


def _canvas(gray48: np.ndarray) -> np.ndarray:
    up = np.kron(gray48.astype(np.float32), np.ones((SCALE, SCALE), np.float32))  # nearest, exact
    return np.pad(up, PAD, mode="edge")


def detect_landmarks(images: np.ndarray, batch: int = 64, threads: int = 1, progress=None):
    """images: uint8 [N,48,48]. Returns (boxes [N,4] x0,y0,x1,y1, landmarks [N,5,2], scores [N])
    in 48-px coordinates of the original image; NaN rows where no face scored >= 0.5."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(RETINAFACE_ONNX), opts, providers=["CPUExecutionProvider"])
    side = 48 * SCALE + 2 * PAD
    pri = priors(side, side)
    n = len(images)
    boxes = np.full((n, 4), np.nan, np.float32)
    lms = np.full((n, 5, 2), np.nan, np.float32)
    scores = np.zeros(n, np.float32)
    for start in range(0, n, batch):
        chunk = images[start:start + batch]
        canv = np.stack([_canvas(g) for g in chunk])  # [B,H,W]
        x = np.repeat(canv[:, None], 3, axis=1) - MEAN_BGR[None, :, None, None]
        loc, conf, lm = sess.run(None, {"input": x.astype(np.float32)})
        for b in range(len(chunk)):
            k = int(np.argmax(conf[b, :, 1]))
            if conf[b, k, 1] < 0.5:
                continue
            p = pri[k]
            cx = p[0] + loc[b, k, 0] * 0.1 * p[2]
            cy = p[1] + loc[b, k, 1] * 0.1 * p[3]
            w = p[2] * np.exp(loc[b, k, 2] * 0.2)
            h = p[3] * np.exp(loc[b, k, 3] * 0.2)
            box = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]) * side
            pts = (p[:2] + lm[b, k].reshape(5, 2) * 0.1 * p[2:]) * side
            boxes[start + b] = (box - PAD) / SCALE
            lms[start + b] = (pts - PAD) / SCALE
            scores[start + b] = conf[b, k, 1]
        if progress:
            progress(len(chunk))
    return boxes, lms, scores
