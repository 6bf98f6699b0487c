#!/usr/bin/env python3
"""Keyframe detection measured on the video sequences of scripts/make_video_bags.py.

  .venv-test/bin/python scripts/eval_video.py VIDEO_DIR [--intervals 1,2,3,5,10] [--bin PATH]

For each keyframe interval N, replays every sequence through `masked_fer replay` with
`detector.keyframe_interval: N` (one ONNX Runtime thread; the CLI's own frame core, as the node)
and scores its /masked_fer/detections against VIDEO_DIR/ground_truth.json:

- recall: ground-truth faces (at least half inside the frame) matched by a detection with
  IoU >= 0.5, per frame, for faces >= 20 px and >= 32 px wide;
- precision: detections matched to an annotated face (any size or visibility) over all
  detections (the photos do not annotate every visible face, so this is a lower bound);
- new faces: for each face's appearance (its first frame >= 20 px and half inside, or again
  after a cut), frames until a detection matches it (0 = the same frame), mean and worst over
  the faces found, and the share of all appearances found within 3 frames;
- id switches: changes of the matched detection's id between consecutive matched frames of a
  face, per 100 face tracks;
- frames/s: replay's own figure (decode + detect + classify + track, one thread).

Writes VIDEO_DIR/eval.json and prints a Markdown table.
"""
import argparse
import json
import pathlib
import re
import subprocess
import tempfile

from rosbags.highlevel import AnyReader
from rosbags.typesys import Stores, get_typestore

ROOT = pathlib.Path(__file__).resolve().parents[1]


def iou(a, b):
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match(truth, found):
    """Greedy one-to-one matching by IoU >= 0.5: {truth index: found index}."""
    pairs = sorted(((iou(t["box"], f["box"]), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)),
                   reverse=True)
    used_t, used_f, out = set(), set(), {}
    for v, i, j in pairs:
        if v < 0.5:
            break
        if i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
            out[i] = j
    return out


def detections(bag):
    out = {}
    with AnyReader([bag], default_typestore=get_typestore(Stores.EMPTY)) as reader:
        conns = [c for c in reader.connections if c.msgtype == "vision_msgs/msg/Detection2DArray"]
        for conn, _, raw in reader.messages(connections=conns):
            m = reader.deserialize(raw, conn.msgtype)
            stamp = m.header.stamp.sec * 10**9 + m.header.stamp.nanosec
            out[stamp] = [{"id": d.id, "box": [d.bbox.center.position.x - d.bbox.size_x / 2,
                                                d.bbox.center.position.y - d.bbox.size_y / 2,
                                                d.bbox.center.position.x + d.bbox.size_x / 2,
                                                d.bbox.center.position.y + d.bbox.size_y / 2]}
                          for d in m.detections]
    return out


def score(truth, found_by_stamp):
    s = {"faces20": 0, "hit20": 0, "faces32": 0, "hit32": 0, "dets": 0, "true_dets": 0,
         "delays": [], "switches": 0, "tracks": 0}
    appeared, first_hit, last_id, seen = {}, set(), {}, set()
    for k, frame in enumerate(truth["frames"]):
        found = found_by_stamp.get(frame["stamp_ns"], [])
        faces = frame["faces"]
        m = match(faces, found)
        s["dets"] += len(found)
        s["true_dets"] += len(m)
        for i, f in enumerate(faces):
            width = f["box"][2] - f["box"][0]
            counted = f["visible"] >= 0.5
            for size in (20, 32):
                if counted and width >= size:
                    s[f"faces{size}"] += 1
                    s[f"hit{size}"] += i in m
            key = f["face"]
            if counted and width >= 20 and key not in appeared:
                appeared[key] = k
            if key in appeared and key not in first_hit and i in m:
                first_hit.add(key)
                s["delays"].append(k - appeared[key])
            if i in m:
                det_id = found[m[i]]["id"]
                if key not in seen:
                    seen.add(key)
                    s["tracks"] += 1
                elif last_id.get(key) != det_id:
                    s["switches"] += 1
                last_id[key] = det_id
    s["never_found"] = len(set(appeared) - first_hit)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("video", type=pathlib.Path)
    ap.add_argument("--intervals", default="1,2,3,5,10")
    ap.add_argument("--group", default="", help="only the sequences whose name starts with this (few_, crowd_)")
    ap.add_argument("--bin", default=str(ROOT / "target/release/masked_fer"))
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="another node parameter for every run (e.g. detector.region_size=96)")
    args = ap.parse_args()
    truth = json.loads((args.video / "ground_truth.json").read_text())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(v) for v in args.intervals.split(",")):
            params = pathlib.Path(tmp) / f"n{n}.yaml"
            values = dict(kv.split("=", 1) for kv in args.set)
            values["detector.keyframe_interval"] = str(n)
            params.write_text("/**:\n  ros__parameters:\n" + "".join(f"    {k}: {v}\n" for k, v in values.items()))
            total = {}
            frames, seconds = 0, 0.0
            for name, seq in truth["sequences"].items():
                if not name.startswith(args.group):
                    continue
                out = pathlib.Path(tmp) / f"{name}_n{n}.mcap"
                run = subprocess.run([args.bin, "replay", str(args.video / seq["bag"]), "--params", str(params),
                                      "--output", str(out)], capture_output=True, text=True, check=True)
                timing = re.search(r"(\d+) frames in ([\d.]+) s", run.stdout + run.stderr)
                frames += int(timing.group(1))
                seconds += float(timing.group(2))
                for k, v in score(seq, detections(out)).items():
                    total[k] = total.get(k, 0) + v if not isinstance(v, list) else total.get(k, []) + v
            d = total["delays"]
            rows.append({
                "interval": n,
                "recall_20": total["hit20"] / total["faces20"],
                "recall_32": total["hit32"] / total["faces32"],
                "precision": total["true_dets"] / max(total["dets"], 1),
                "new_face_frames_mean": sum(d) / len(d),
                "new_face_frames_max": max(d),
                # Over every appearance: a face never found is not found within 3 frames (else a
                # setting that finds a hard face late would score below one that never finds it).
                "new_faces_within_3": sum(x <= 3 for x in d) / (len(d) + total["never_found"]),
                "new_faces": len(d) + total["never_found"],
                "never_found": total["never_found"],
                "id_switches_per_100_tracks": 100 * total["switches"] / max(total["tracks"], 1),
                "frames_per_s": frames / seconds,
                "faces_20": total["faces20"],
            })
            print(f"N={n}: {rows[-1]}", flush=True)
    (args.video / f"eval{'_' + args.group.strip('_') if args.group else ''}.json").write_text(json.dumps(rows, indent=1))
    ref = rows[0]
    print("\n| N | recall >= 20 px | recall >= 32 px | precision | new face: frames mean / max | within 3 frames |"
          " never found | id switches / 100 tracks | frames/s (1 thread) | vs N = " + str(ref["interval"]) + " |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['interval']} | {r['recall_20']:.3f} | {r['recall_32']:.3f} | {r['precision']:.3f} | "
              f"{r['new_face_frames_mean']:.2f} / {r['new_face_frames_max']} | {r['new_faces_within_3']:.3f} | "
              f"{r['never_found']} of {r['new_faces']} | {r['id_switches_per_100_tracks']:.1f} | "
              f"{r['frames_per_s']:.1f} | {r['frames_per_s'] / ref['frames_per_s']:.2f}x |")


if __name__ == "__main__":
    main()
