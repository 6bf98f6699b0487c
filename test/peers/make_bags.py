#!/usr/bin/env python3
"""Write rosbag2 fixture bags with PyPI `rosbags` (an implementation independent of ours).

  python test/peers/make_bags.py OUT_DIR [--frames N]

For each storage (mcap, sqlite3) writes OUT_DIR/<storage>/ holding `/camera/image_raw`
(sensor_msgs/msg/Image, rgb8 and bgr8 frames alternating, with row padding on bgr8) and
`/camera/image_raw/compressed` (sensor_msgs/msg/CompressedImage, the original JPEG bytes), made
from the CC0 demo photos, plus a `/chatter` std_msgs/msg/String topic that replay must skip.
OUT_DIR/expected.json lists every image message (topic, stamp, size, sha256 of its RGB pixels).
"""
import argparse
import hashlib
import io
import json
import pathlib

import numpy as np
from PIL import Image as PILImage
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=pathlib.Path)
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--size", help="resize every photo to WxH (e.g. 640x480) and re-encode its JPEG")
    ap.add_argument("--demo", action="store_true",
                    help="write only OUT_DIR/demo_bag: MCAP, the compressed topic, each photo twice")
    args = ap.parse_args()
    ts = get_typestore(Stores.ROS2_HUMBLE)
    Image, CImage = ts.types["sensor_msgs/msg/Image"], ts.types["sensor_msgs/msg/CompressedImage"]
    Header, Time, String = ts.types["std_msgs/msg/Header"], ts.types["builtin_interfaces/msg/Time"], ts.types["std_msgs/msg/String"]
    photos = sorted((ROOT / "test/data/images").glob("*.jpg"))
    expected = []
    frames = []
    for i in range(args.frames):
        jpeg = photos[(i // 2) % len(photos)].read_bytes()  # each photo twice: tracks can form
        if args.size:
            w, h = (int(v) for v in args.size.split("x"))
            buf = io.BytesIO()
            PILImage.open(io.BytesIO(jpeg)).convert("RGB").resize((w, h), PILImage.BILINEAR).save(buf, "JPEG", quality=90)
            jpeg = buf.getvalue()
        rgb = np.asarray(PILImage.open(io.BytesIO(jpeg)).convert("RGB"))
        if args.size:  # the same frames as files, for comparing with `masked_fer detect`
            (args.out / "frames").mkdir(parents=True, exist_ok=True)
            (args.out / "frames" / f"frame_{i:04d}.jpg").write_bytes(jpeg)
        stamp = (1_700_000_000 + i, 5_000_000 * i)
        frames.append((stamp, jpeg, rgb))
    args.out.mkdir(parents=True, exist_ok=True)
    storages = [("demo_bag", StoragePlugin.MCAP)] if args.demo else [("mcap", StoragePlugin.MCAP), ("sqlite3", StoragePlugin.SQLITE3)]
    for storage, plugin in storages:
        path = args.out / storage
        with Writer(path, version=9, storage_plugin=plugin) as w:
            if not args.demo:
                raw = w.add_connection("/camera/image_raw", Image.__msgtype__, typestore=ts)
            comp = w.add_connection("/camera/image_raw/compressed", CImage.__msgtype__, typestore=ts)
            if not args.demo:
                chat = w.add_connection("/chatter", String.__msgtype__, typestore=ts)
            for i, ((sec, nsec), jpeg, rgb) in enumerate(frames):
                h, w_ = rgb.shape[:2]
                header = Header(stamp=Time(sec=sec, nanosec=nsec), frame_id="camera")
                if i % 2 == 0:
                    enc, step, data = "rgb8", w_ * 3, rgb.reshape(-1)
                else:  # bgr8 with 4 bytes of padding per row
                    step = w_ * 3 + 4
                    padded = np.zeros((h, step), np.uint8)
                    padded[:, : w_ * 3] = rgb[..., ::-1].reshape(h, -1)
                    enc, data = "bgr8", padded.reshape(-1)
                t = sec * 1_000_000_000 + nsec
                msg = Image(header=header, height=h, width=w_, encoding=enc, is_bigendian=0, step=step, data=data)
                if not args.demo:
                    w.write(raw, t, ts.serialize_cdr(msg, Image.__msgtype__))
                cmsg = CImage(header=header, format="rgb8; jpeg compressed bgr8", data=np.frombuffer(jpeg, np.uint8))
                w.write(comp, t + 1000, ts.serialize_cdr(cmsg, CImage.__msgtype__))
                if not args.demo:
                    w.write(chat, t + 2000, ts.serialize_cdr(String(data=f"frame {i}"), String.__msgtype__))
    for (sec, nsec), jpeg, rgb in frames:
        h, w_ = rgb.shape[:2]
        expected.append({"stamp": [sec, nsec], "width": w_, "height": h,
                         "rgb_sha256": hashlib.sha256(np.ascontiguousarray(rgb).tobytes()).hexdigest()})
    if args.demo:
        return
    (args.out / "expected.json").write_text(json.dumps({"frames": expected}, indent=1))


if __name__ == "__main__":
    main()
