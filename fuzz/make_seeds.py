#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, made from the project's real fixtures (CC0 photos of masked
people in test/data/images, params/default.yaml) with PyPI rosbags and Pillow, written into
fuzz/corpus/<target>/ (committed; regenerate with `.venv-test/bin/python fuzz/make_seeds.py`).

Each seed is small (a 24x16 or 32x24 crop of a photo) so that the fuzzers mutate structure, not
pixels. The layouts are the targets' (see fuzz/fuzz_targets/*.rs).
"""
import io
import pathlib
import struct
import tempfile

import numpy as np
from PIL import Image as PILImage
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "fuzz" / "corpus"
TS = get_typestore(Stores.ROS2_HUMBLE)
Image, CImage = TS.types["sensor_msgs/msg/Image"], TS.types["sensor_msgs/msg/CompressedImage"]
Header, Time = TS.types["std_msgs/msg/Header"], TS.types["builtin_interfaces/msg/Time"]


def crop(name, size):
    img = PILImage.open(ROOT / "test/data/images" / name).convert("RGB")
    return np.asarray(img.resize(size, PILImage.BILINEAR), dtype=np.uint8)


def encodings(rgb):
    """(encoding, big endian, bytes per row, data) of one RGB crop in each supported encoding."""
    h, w, _ = rgb.shape
    grey = rgb.mean(axis=2).astype(np.uint8)
    yuyv = np.stack([grey, np.full_like(grey, 128)], axis=2).reshape(h, w * 2)
    bayer = rgb[:, :, 1].copy()
    bayer[0::2, 0::2], bayer[1::2, 1::2] = rgb[0::2, 0::2, 0], rgb[1::2, 1::2, 2]
    out = [("rgb8", False, w * 3, rgb.tobytes()), ("bgr8", False, w * 3, rgb[:, :, ::-1].tobytes()),
           ("rgba8", False, w * 4, np.dstack([rgb, np.full((h, w), 255, np.uint8)]).tobytes()),
           ("bgra8", False, w * 4, np.dstack([rgb[:, :, ::-1], np.full((h, w), 255, np.uint8)]).tobytes()),
           ("mono8", False, w, grey.tobytes()), ("8UC3", False, w * 3, rgb[:, :, ::-1].tobytes()),
           ("mono16", False, w * 2, (grey.astype("<u2") * 257).tobytes()),
           ("16UC1", True, w * 2, (grey.astype(">u2") * 257).tobytes()),
           ("yuyv", False, w * 2, yuyv.tobytes()), ("uyvy", False, w * 2, yuyv[:, ::-1].tobytes()),
           ("bayer_rggb8", False, w, bayer.tobytes()), ("bayer_gbrg8", False, w, bayer.tobytes())]
    # Row padding: 8 bytes after each rgb8 row.
    padded = np.zeros((h, w * 3 + 8), np.uint8)
    padded[:, :w * 3] = rgb.reshape(h, w * 3)
    out.append(("rgb8", False, w * 3 + 8, padded.tobytes()))
    return out


def compressed(rgb):
    """(format, bytes) of the crop as JPEG and PNG, with the format strings cameras send."""
    out = []
    for fmt, kind in [("jpeg", "JPEG"), ("png", "PNG")]:
        buf = io.BytesIO()
        PILImage.fromarray(rgb).save(buf, kind)
        out.append((fmt, buf.getvalue()))
    jpeg, png = out[0][1], out[1][1]
    return out + [("rgb8; jpeg compressed bgr8", jpeg), ("bgr8; png compressed bgr8", png), ("", jpeg)]


def header(n):
    return Header(stamp=Time(sec=1000 + n, nanosec=0), frame_id="camera")


def image_msg(n, enc):
    encoding, big, step, data = enc
    return Image(header=header(n), height=len(data) // step, width=WIDTH, encoding=encoding,
                 is_bigendian=int(big), step=step, data=np.frombuffer(data, np.uint8))


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def bag(storage, msgs):
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "bag"
        plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
        with Writer(path, version=9, storage_plugin=plugin) as w:
            conns = {}
            for t, (topic, msg) in enumerate(msgs):
                if topic not in conns:
                    conns[topic] = w.add_connection(topic, msg.__msgtype__, typestore=TS)
                w.write(conns[topic], 1_000_000_000 * (1000 + t), TS.serialize_cdr(msg, msg.__msgtype__))
        return next(p for p in path.iterdir() if p.suffix in (".mcap", ".db3")).read_bytes()


WIDTH = 24


def main():
    rgb = crop("maksssksksss4.jpg", (WIDTH, 16))
    for i, (encoding, big, step, data) in enumerate(encodings(rgb)):
        e = encoding.encode()
        head = struct.pack("<IIIBB", WIDTH, len(data) // step, step, int(big), len(e))
        write("raw_image", f"{i:02d}_{encoding}", head + e + data)
    small = crop("maksssksksss99.jpg", (32, 24))
    for i, (fmt, data) in enumerate(compressed(small)):
        write("compressed_image", f"{i:02d}", bytes([len(fmt)]) + fmt.encode() + data)
    raws = [image_msg(i, e) for i, e in enumerate(encodings(rgb)[:3])]
    cims = [CImage(header=header(10 + i), format=f, data=np.frombuffer(d, np.uint8))
            for i, (f, d) in enumerate(compressed(small)[:2])]
    for i, m in enumerate(raws):
        write("cdr_message", f"image_{i}", b"\x00" + TS.serialize_cdr(m, m.__msgtype__))
    for i, m in enumerate(cims):
        write("cdr_message", f"compressed_{i}", b"\x01" + TS.serialize_cdr(m, m.__msgtype__))
    msgs = [("/camera/image_raw", m) for m in raws[:2]] + [("/camera/image_raw/compressed", cims[0])]
    write("mcap_bag", "camera", bag("mcap", msgs))
    write("sqlite_bag", "camera", bag("sqlite3", msgs))
    write("labels_csv", "frames", b"frame,x0,y0,x1,y1,expression\n0,10,20,110,140,happy\n1,12,22,112,142,sad\n")
    write("labels_csv", "stamps", b"# labels by stamp\nstamp,topic,expression\n1000.5,/camera/image_raw,scared\n"
                                  b"1001000000000,/camera/image_raw,neutral\n")
    write("params_yaml", "default", (ROOT / "params/default.yaml").read_bytes())
    write("params_yaml", "node", b"masked_fer:\n  ros__parameters:\n    image_topics: [/cam]\n"
                                 b"    detector:\n      keyframe_interval: 10\n    tracker:\n      min_iou: 0.5\n")
    for d in sorted(OUT.iterdir()):
        files = list(d.iterdir())
        print(f"{d.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
