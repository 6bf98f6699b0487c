#!/usr/bin/env python3
"""End-to-end latency of masked_fer_node over real ROS 2: an rclpy camera publishes 640x480 rgb8
frames at 30 Hz (best effort, as cameras do) that pan slowly across a photo (2 px a frame, back
and forth over 64 px: video, so that keyframe detection has faces that move), an rclpy consumer
receives ~/detections, and the latency of each frame is (detections received - image
published), both taken in this process. Each case runs once per keyframe interval asked for
(`--intervals`, the node's `detector.keyframe_interval`).
Also reports the share of frames answered, the node's CPU use (/proc/<pid>/stat) and its heap
over the timed frames from its /diagnostics (allocations per frame; live heap at the first and
last report: growth there would be a leak).

Run inside a private network namespace (`make bench-node` does):
  python test/peers/node_latency.py --node target/release/masked_fer_node [--frames 300] [--intervals 1,10]
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import qos_profile_sensor_data
from diagnostic_msgs.msg import DiagnosticArray
from sensor_msgs.msg import Image
from vision_msgs.msg import Detection2DArray

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ros_peer import RELIABLE, node_env, ns, photo, raw_msg, stamp, wait_for  # noqa: E402

CASES = [("1 face", "maksssksksss4.jpg"), ("3 faces", "maksssksksss99.jpg")]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))] if v else float("nan")


def pan(photo_name):
    """The camera's frames: a 640x480 window sliding over the photo scaled to 704x528."""
    big = photo(photo_name, (704, 528))
    offsets = list(range(0, 64, 2)) + list(range(64, 0, -2))
    return [big[24:504, x:x + 640] for x in offsets]


def run_case(peer, node_bin, label, photo_name, frames, rate, interval):
    proc = subprocess.Popen([node_bin, "--ros-args", "-p", "image_topics:=[/camera/image_raw]",
                             "-p", f"detector.keyframe_interval:={interval}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=node_env())
    pub = peer.create_publisher(Image, "/camera/image_raw", qos_profile_sensor_data)
    received = {}
    sub = peer.create_subscription(
        Detection2DArray, "/masked_fer/detections",
        lambda m: received.setdefault(ns(m.header.stamp), (time.monotonic(), len(m.detections))), RELIABLE)
    heap = []  # (time, allocations per frame, live KiB) from the pipeline status

    def on_diag(msg):
        for st in msg.status:
            v = {kv.key: kv.value for kv in st.values}
            if st.name.endswith(": pipeline") and "Heap live (KiB)" in v:
                heap.append((time.monotonic(), v["Heap allocations per frame"], int(v["Heap live (KiB)"])))

    diag = peer.create_subscription(DiagnosticArray, "/diagnostics", on_diag, RELIABLE)
    try:
        wait_for(lambda: pub.get_subscription_count() > 0 and sub.get_publisher_count() > 0, 20, "matching")
        video = pan(photo_name)
        for n in range(10):  # warm-up: first inferences allocate
            pub.publish(raw_msg(video[0], 100_000 + n))
            time.sleep(1 / rate)
        wait_for(lambda: len(received) > 0, 10, "the first detections")
        time.sleep(0.5)
        received.clear()
        sent = {}
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        for n in range(frames):
            due = t0 + n / rate
            time.sleep(max(0.0, due - time.monotonic()))
            m = raw_msg(video[n % len(video)], n)
            sent[ns(stamp(n))] = time.monotonic()
            pub.publish(m)
        time.sleep(0.5)
        cpu1, t1 = cpu_seconds(proc.pid), time.monotonic()
        lat = [(received[k][0] - t) * 1e3 for k, t in sent.items() if k in received]
        timed = [h for h in heap if t0 < h[0] <= t1]
        per_frame = sorted(float(h[1]) for h in timed if h[1] != "n/a")
        faces = sorted(v[1] for v in received.values())
        return {
            "case": label, "photo": photo_name, "keyframe_interval": interval, "frames_sent": frames, "rate_hz": rate,
            "answered": len(lat), "faces_per_frame": faces[len(faces) // 2] if faces else 0,
            "latency_ms_p50": pct(lat, 0.5), "latency_ms_p99": pct(lat, 0.99), "latency_ms_max": max(lat, default=float("nan")),
            "node_cpu_percent": 100 * (cpu1 - cpu0) / (t1 - t0),
            "heap_allocations_per_frame_p50": pct(per_frame, 0.5),
            "heap_live_kib_first_last": [timed[0][2], timed[-1][2]] if timed else None,
        }
    finally:
        proc.send_signal(2)
        proc.wait(timeout=10)
        peer.destroy_publisher(pub)
        peer.destroy_subscription(sub)
        peer.destroy_subscription(diag)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--node", required=True)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--rate", type=float, default=30.0)
    ap.add_argument("--intervals", default="1", help="keyframe intervals to run each case with, comma-separated")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    if args.json:  # a fresh clone has no out/ yet
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    rclpy.init()
    peer = rclpy.create_node("masked_fer_latency_peer")
    ex = SingleThreadedExecutor()
    ex.add_node(peer)
    threading.Thread(target=ex.spin, daemon=True).start()
    try:
        intervals = [int(v) for v in args.intervals.split(",")]
        report(args, [run_case(peer, args.node, label, name, args.frames, args.rate, n)
                      for label, name in CASES for n in intervals])
    except Exception as e:  # noqa: BLE001  one line, then out without rclpy's teardown
        print(f"node benchmark failed: {type(e).__name__}: {e}", file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    # rclpy's teardown with the spinning thread still running can abort; the results are written.
    os._exit(0)


def report(args, rows):
    print(f"| 640x480 rgb8 at {args.rate:g} Hz, panning | keyframe interval | faces/frame | answered | latency p50 | p99 | max | node CPU "
          "| allocations/frame | live heap first → last report |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} ({r['photo']}) | {r['keyframe_interval']} | {r['faces_per_frame']} | {r['answered']}/{r['frames_sent']} | "
              f"{r['latency_ms_p50']:.1f} ms | {r['latency_ms_p99']:.1f} ms | {r['latency_ms_max']:.1f} ms | "
              f"{r['node_cpu_percent']:.0f}% | {r['heap_allocations_per_frame_p50']:.0f} | "
              f"{' → '.join(f'{k} KiB' for k in r['heap_live_kib_first_last'] or [])} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
