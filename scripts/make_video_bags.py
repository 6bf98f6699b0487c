#!/usr/bin/env python3
"""Video test sequences of masked faces, made from the real CC0 photos in test/data/face_mask.

  .venv-test/bin/python scripts/make_video_bags.py OUT_DIR [--fps 30] [--seconds 3]

No real video of masked faces is available here, so a virtual 640x480 camera looks at the photos
and moves smoothly: it pans across a photo (faces enter and leave the frame), zooms in and out,
rolls a few degrees, and cuts from one photo to the next (every face new). Each sequence is
written as a rosbag2 MCAP bag, OUT_DIR/<sequence>/, with `/camera/image_raw/compressed`
(sensor_msgs/msg/CompressedImage, JPEG quality 95) stamped at --fps, and every sequence's ground
truth goes into OUT_DIR/ground_truth.json:

  {"fps": 30, "width": 640, "height": 480, "sequences": {"<name>": {"bag": "<name>",
   "frames": [{"stamp_ns": ..., "faces": [{"face": "<photo>#<box>", "box": [x0, y0, x1, y1],
   "visible": 0.0-1.0}]}]}}}

A ground-truth box is the photo's annotated box carried through the camera's motion (its four
corners mapped into the frame, then their bounding box), clipped to the frame; `visible` is the
fraction of the mapped box inside the frame (faces entering or leaving are partly outside).
The same arguments give the same bags, byte for byte: the motion is a function of time only.
"""
import argparse
import io
import json
import math
import pathlib
import xml.etree.ElementTree as ET

import numpy as np
from PIL import Image as PILImage
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

ROOT = pathlib.Path(__file__).resolve().parents[1]
DATA = ROOT / "test/data/face_mask"
W, H = 640, 480


def boxes(photo):
    root = ET.parse(DATA / "annotations" / f"{photo}.xml").getroot()
    out = []
    for obj in root.iter("object"):
        b = obj.find("bndbox")
        out.append([float(b.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax")])
    return out


# Each shot: a photo and the camera's path over normalised time u in [0, 1]: (cx, cy) the photo
# point at the frame centre as a fraction of the photo's size, zoom (1 = the photo just covers
# the frame), roll in degrees.
def pan(u):
    return 0.28 + 0.44 * u, 0.5, 1.8, 0.0


def zoom(u):
    return 0.5, 0.5, 1.0 + 0.8 * math.sin(math.pi * u), 0.0


def roll(u):
    return 0.5 + 0.05 * math.sin(2 * math.pi * u), 0.5, 1.3, 6.0 * math.sin(2 * math.pi * u)


def drift(u):
    return 0.45 + 0.1 * u, 0.5 - 0.05 * u, 1.2, 0.0


def sweep(u):  # close up, across the photo: faces enter one after another while others are followed
    return 0.2 + 0.6 * u, 0.5, 2.4, 0.0


def walk(u):
    return 0.3 + 0.4 * u, 0.45 + 0.1 * math.sin(math.pi * u), 1.2 + 0.5 * u, 3.0 * math.sin(math.pi * u)


# (name, [(photo, path, share of the sequence)]): several faces per photo, masked and not.
SEQUENCES = [
    # A service robot's usual view: one to three people.
    ("few_pan_pair", [("maksssksksss39", pan, 1.0)]),
    ("few_zoom_one", [("maksssksksss6", zoom, 1.0)]),
    ("few_roll_three", [("maksssksksss81", roll, 1.0)]),
    ("few_walk_three", [("maksssksksss83", walk, 1.0)]),
    ("few_cuts", [("maksssksksss69", drift, 1 / 3), ("maksssksksss26", drift, 1 / 3), ("maksssksksss99", drift, 1 / 3)]),
    ("few_sweep_a", [("maksssksksss29", sweep, 1 / 2), ("maksssksksss45", sweep, 1 / 2)]),
    ("few_sweep_b", [("maksssksksss86", sweep, 1 / 2), ("maksssksksss44", sweep, 1 / 2)]),
    # Crowds.
    ("crowd_pan", [("maksssksksss61", pan, 1.0)]),
    ("crowd_zoom", [("maksssksksss42", zoom, 1.0)]),
    ("crowd_roll", [("maksssksksss30", roll, 1.0)]),
    ("crowd_walk", [("maksssksksss11", walk, 1.0)]),
    ("crowd_cuts", [("maksssksksss2", drift, 1 / 3), ("maksssksksss21", drift, 1 / 3), ("maksssksksss90", drift, 1 / 3)]),
    ("crowd_sweep_a", [("maksssksksss91", sweep, 1 / 2), ("maksssksksss94", sweep, 1 / 2)]),
    ("crowd_sweep_b", [("maksssksksss70", sweep, 1 / 2), ("maksssksksss19", sweep, 1 / 2)]),
]


def camera(photo_size, cx, cy, zoom_, roll_deg):
    """The affine map frame pixel -> photo pixel (PIL's AFFINE data) and its inverse as a 2x3."""
    pw, ph = photo_size
    scale = min(pw / W, ph / H) / zoom_  # photo pixels per frame pixel
    a = math.radians(roll_deg)
    c, s = math.cos(a) * scale, math.sin(a) * scale
    px, py = cx * pw, cy * ph
    # photo = R*scale*(frame - centre) + p
    fwd = np.array([[c, -s, px - c * W / 2 + s * H / 2], [s, c, py - s * W / 2 - c * H / 2]])
    m = np.vstack([fwd, [0, 0, 1]])
    inv = np.linalg.inv(m)[:2]
    return fwd.flatten().tolist(), inv


def frame_boxes(photo, inv):
    out = []
    for i, (x0, y0, x1, y1) in enumerate(boxes(photo)):
        corners = np.array([[x0, y0, 1], [x1, y0, 1], [x0, y1, 1], [x1, y1, 1]]).T
        fx, fy = inv @ corners
        bx0, by0, bx1, by1 = fx.min(), fy.min(), fx.max(), fy.max()
        area = (bx1 - bx0) * (by1 - by0)
        cx0, cy0, cx1, cy1 = max(bx0, 0), max(by0, 0), min(bx1, W), min(by1, H)
        if cx1 <= cx0 or cy1 <= cy0 or area <= 0:
            continue
        visible = (cx1 - cx0) * (cy1 - cy0) / area
        out.append({"face": f"{photo}#{i}", "box": [round(v, 2) for v in (cx0, cy0, cx1, cy1)],
                    "visible": round(visible, 3)})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=pathlib.Path)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=3.0, help="length of each sequence")
    args = ap.parse_args()
    ts = get_typestore(Stores.ROS2_HUMBLE)
    CImage = ts.types["sensor_msgs/msg/CompressedImage"]
    Header, Time = ts.types["std_msgs/msg/Header"], ts.types["builtin_interfaces/msg/Time"]
    n = round(args.fps * args.seconds)
    truth = {"fps": args.fps, "width": W, "height": H, "sequences": {}}
    args.out.mkdir(parents=True, exist_ok=True)
    for s, (name, shots) in enumerate(SEQUENCES):
        photos = {p: PILImage.open(DATA / "images" / f"{p}.jpg").convert("RGB") for p, _, _ in shots}
        frames = []
        path = args.out / name
        if path.exists():
            for f in path.iterdir():
                f.unlink()
            path.rmdir()
        with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as w:
            conn = w.add_connection("/camera/image_raw/compressed", CImage.__msgtype__, typestore=ts)
            for k in range(n):
                t = k / n
                start = 0.0
                for i, (photo, motion, share) in enumerate(shots):  # this frame's shot
                    if t < start + share or i == len(shots) - 1:
                        break
                    start += share
                u = min((t - start) / share, 1.0)
                img = photos[photo]
                fwd, inv = camera(img.size, *motion(u))
                rendered = img.transform((W, H), PILImage.AFFINE, fwd, resample=PILImage.BILINEAR)
                buf = io.BytesIO()
                rendered.save(buf, "JPEG", quality=95)
                stamp_ns = (1_800_000_000 + s * 100) * 10**9 + k * 10**9 // args.fps
                sec, nsec = divmod(stamp_ns, 10**9)
                msg = CImage(header=Header(stamp=Time(sec=sec, nanosec=nsec), frame_id="video_camera"),
                             format="jpeg", data=np.frombuffer(buf.getvalue(), dtype=np.uint8))
                w.write(conn, stamp_ns, ts.serialize_cdr(msg, CImage.__msgtype__))
                frames.append({"stamp_ns": stamp_ns, "faces": frame_boxes(photo, inv)})
        truth["sequences"][name] = {"bag": name, "frames": frames}
        faces = sum(len(f["faces"]) for f in frames)
        print(f"{name}: {n} frames, {faces} face boxes")
    (args.out / "ground_truth.json").write_text(json.dumps(truth, indent=1))


if __name__ == "__main__":
    main()
