#!/usr/bin/env python3
"""rclpy peer for the node's end-to-end tests: cameras, consumers and a parameter client.

Runs one scenario against a real `masked_fer_node` process over real ROS 2 (Fast DDS), meant to
run inside a private network namespace (`unshare -n`, loopback up). It starts the node, waits
until every publisher and subscriber has matched (never a fixed sleep for discovery), publishes
real face photos, records everything the node publishes, stops the node with SIGINT and writes
OUT/result.json; OUT/frames/<camera>.png are the exact pixels sent, so the Rust test can run the
same frames through the library and compare. The Rust side (test/ros_node.rs) makes the
assertions.

Scenarios:
  cameras      two raw cameras (rgb8, bgr8), debug image, ROS4HRI, diagnostics, parameter
               list/describe/get/set/set atomically (live change, refused values, ranges,
               read-only, /parameter_events)
  compressed   JPEG on <topic>/compressed, node renamed and namespaced by remaps, settings from
               --params-file, detections remapped; then the node restarted (face ids change)
  bad_input    malformed frames between good ones, a resolution change, a 4x burst
  qos_mismatch the node asks for reliable images, the camera offers best effort only
  lifecycle    autostart false: the node waits unconfigured; transitions through the lifecycle
               services (a refused one, by id and by label), frames answered only while active,
               the subscription gone and the node's CPU while inactive, transition events,
               shutdown to finalized; then a node whose configure fails (missing model)
  sim_time     use_sim_time with a /clock running at twice real time: diagnostics stamps and
               the input rate follow /clock
  faults       a camera streaming throughout: the node stopped by SIGTERM and restarted; the
               camera vanishes, then returns with another QoS and resolution
  overload     three cameras at 2x and 4x the node's capacity, raw then compressed, with
               malformed frames and parameter requests throughout
  soak         one camera at 30 Hz with changing face counts for MASKED_FER_SOAK_SECONDS
               (default 120; `make soak`: 1800): memory, CPU, latency and counters over time;
               MASKED_FER_SOAK_PARAMS adds node arguments
  replay_parity a params file with non-default tracking and smoothing; frames sent one at a time
               (each after the previous answer, reliable), so every frame is processed; the
               Rust test replays the same frames with the same file and compares
"""
import argparse
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import rclpy
from PIL import Image as PILImage
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy, HistoryPolicy, qos_profile_sensor_data

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from rosgraph_msgs.msg import Clock
from lifecycle_msgs.msg import Transition, TransitionEvent
from lifecycle_msgs.srv import ChangeState, GetAvailableTransitions, GetState
from hri_msgs.msg import Expression, FacialLandmarks, IdsList, NormalizedRegionOfInterest2D
from rcl_interfaces.msg import Parameter, ParameterEvent, ParameterValue, ParameterType
from rcl_interfaces.srv import (DescribeParameters, GetParameters, ListParameters, SetParameters,
                                SetParametersAtomically)
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from tf2_msgs.msg import TFMessage
from vision_msgs.msg import Detection2DArray

ROOT = Path(__file__).resolve().parents[2]
PHOTOS = ROOT / "test" / "data" / "images"
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, history=HistoryPolicy.KEEP_LAST)


def photo(name, size):
    """A bundled CC0 photo resized to `size` (w, h), as an RGB uint8 array."""
    img = PILImage.open(PHOTOS / name).convert("RGB").resize(size, PILImage.BILINEAR)
    return np.asarray(img, dtype=np.uint8)


def stamp(n):
    return Time(sec=1000 + n // 10, nanosec=(n % 10) * 100_000_000)


def raw_msg(rgb, n, encoding="rgb8", frame_id="camera"):
    m = Image()
    m.header.stamp = stamp(n)
    m.header.frame_id = frame_id
    m.height, m.width = rgb.shape[0], rgb.shape[1]
    m.encoding = encoding
    m.is_bigendian = 0
    data = rgb[:, :, ::-1] if encoding == "bgr8" else rgb
    m.step = m.width * 3
    m.data = np.ascontiguousarray(data).tobytes()
    return m


def jpeg_msg(rgb, n):
    buf = io.BytesIO()
    PILImage.fromarray(rgb).save(buf, "JPEG", quality=92)
    m = CompressedImage()
    m.header.stamp = stamp(n)
    m.header.frame_id = "camera"
    m.format = "jpeg"
    m.data = buf.getvalue()
    return m


def ns(t):
    return t.sec * 1_000_000_000 + t.nanosec


class Recorder:
    """Subscribes to everything the node publishes and keeps it as plain data."""

    def __init__(self, node, detections_topic, debug_topic, faces=True):
        self.node = node
        self.follow_faces = faces  # subscribe to each face's ROS4HRI topics
        self.lock = threading.Lock()
        self.detections = []
        self.tracked = []
        self.diagnostics = []
        self.debug = []
        self.faces = {}
        self.tf = []
        self.subs = [
            node.create_subscription(Detection2DArray, detections_topic, self.on_detections, RELIABLE),
            node.create_subscription(IdsList, "/humans/faces/tracked", self.on_tracked, RELIABLE),
            node.create_subscription(DiagnosticArray, "/diagnostics", self.on_diagnostics, RELIABLE),
        ]
        if debug_topic:
            self.subs.append(node.create_subscription(Image, debug_topic, self.on_debug, RELIABLE))
        self.subs.append(node.create_subscription(TFMessage, "/tf", self.on_tf,
                                                  QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)))

    def on_detections(self, m):
        with self.lock:
            self.detections.append({
                "stamp_ns": ns(m.header.stamp),
                "frame_id": m.header.frame_id,
                "received": time.monotonic(),
                "detections": [{
                    "id": d.id,
                    "stamp_ns": ns(d.header.stamp),
                    "cx": d.bbox.center.position.x, "cy": d.bbox.center.position.y,
                    "w": d.bbox.size_x, "h": d.bbox.size_y,
                    "results": [[r.hypothesis.class_id, r.hypothesis.score] for r in d.results],
                } for d in m.detections],
            })

    def on_tf(self, m):
        with self.lock:
            self.tf.extend({"parent": t.header.frame_id, "child": t.child_frame_id,
                            "stamp_ns": ns(t.header.stamp),
                            "t": [t.transform.translation.x, t.transform.translation.y, t.transform.translation.z],
                            "q": [t.transform.rotation.x, t.transform.rotation.y, t.transform.rotation.z,
                                  t.transform.rotation.w]} for t in m.transforms)

    def on_tracked(self, m):
        with self.lock:
            self.tracked.append({"stamp_ns": ns(m.header.stamp), "ids": list(m.ids)})
            new = [i for i in m.ids if i not in self.faces] if self.follow_faces else []
        for i in new:  # subscribe to each new face's topics (reliable, as libhri does)
            rec = {"roi": [], "expression": [], "cropped": [], "aligned": [], "landmarks": []}
            self.faces[i] = rec
            for kind in ["cropped", "aligned"]:  # the first image in full, then a count
                self.subs.append(self.node.create_subscription(
                    Image, f"/humans/faces/{i}/{kind}",
                    lambda m, rec=rec, kind=kind: rec[kind].append(
                        {"stamp_ns": ns(m.header.stamp), "width": m.width, "height": m.height,
                         "encoding": m.encoding,
                         "data": bytes(m.data).hex() if not rec[kind] else None}),
                    RELIABLE))
            self.subs.append(self.node.create_subscription(
                FacialLandmarks, f"/humans/faces/{i}/landmarks",
                lambda m, rec=rec: rec["landmarks"].append(
                    {"stamp_ns": ns(m.header.stamp), "width": m.width, "height": m.height,
                     "points": [[p.x, p.y, p.c] for p in m.landmarks]}),
                RELIABLE))
            self.subs.append(self.node.create_subscription(
                NormalizedRegionOfInterest2D, f"/humans/faces/{i}/roi",
                lambda m, rec=rec: rec["roi"].append([m.xmin, m.ymin, m.xmax, m.ymax, m.c, ns(m.header.stamp)]),
                RELIABLE))
            self.subs.append(self.node.create_subscription(
                Expression, f"/humans/faces/{i}/expression",
                lambda m, rec=rec: rec["expression"].append(
                    {"expression": m.expression, "valence": m.valence, "arousal": m.arousal,
                     "confidence": m.confidence, "stamp_ns": ns(m.header.stamp)}),
                RELIABLE))

    def on_diagnostics(self, m):
        with self.lock:
            self.diagnostics.append([{
                "level": int.from_bytes(s.level, "little") if isinstance(s.level, bytes) else int(s.level),
                "name": s.name, "message": s.message, "hardware_id": s.hardware_id,
                "values": {kv.key: kv.value for kv in s.values},
            } for s in m.status])

    def on_debug(self, m):
        with self.lock:
            self.debug.append({"stamp_ns": ns(m.header.stamp), "width": m.width, "height": m.height,
                               "encoding": m.encoding, "bytes": len(m.data)})

    def count(self):
        with self.lock:
            return len(self.detections)


def wait_for(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


def call(node, srv_type, name, request, timeout=5.0):
    client = node.create_client(srv_type, name)
    wait_for(client.service_is_ready, 10, f"service {name}")
    fut = client.call_async(request)
    wait_for(fut.done, timeout, f"answer of {name}")
    return fut.result()


def pvalue(v):
    p = ParameterValue()
    if isinstance(v, bool):
        p.type, p.bool_value = ParameterType.PARAMETER_BOOL, v
    elif isinstance(v, int):
        p.type, p.integer_value = ParameterType.PARAMETER_INTEGER, v
    elif isinstance(v, float):
        p.type, p.double_value = ParameterType.PARAMETER_DOUBLE, v
    else:
        p.type, p.string_value = ParameterType.PARAMETER_STRING, v
    return p


def set_param(node, node_name, name, value):
    req = SetParameters.Request(parameters=[Parameter(name=name, value=pvalue(value))])
    r = call(node, SetParameters, f"{node_name}/set_parameters", req).results[0]
    return {"name": name, "value": value, "successful": r.successful, "reason": r.reason}


def set_atomically(node, node_name, pairs):
    req = SetParametersAtomically.Request(parameters=[Parameter(name=n, value=pvalue(v)) for n, v in pairs])
    r = call(node, SetParametersAtomically, f"{node_name}/set_parameters_atomically", req).result
    return {"pairs": pairs, "successful": r.successful, "reason": r.reason}


def descriptor(d):
    return {"name": d.name, "type": d.type, "description": d.description, "read_only": d.read_only,
            "floating_point_range": [[r.from_value, r.to_value, r.step] for r in d.floating_point_range],
            "integer_range": [[r.from_value, r.to_value, r.step] for r in d.integer_range]}


def get_value(v):
    return {ParameterType.PARAMETER_BOOL: v.bool_value, ParameterType.PARAMETER_INTEGER: v.integer_value,
            ParameterType.PARAMETER_DOUBLE: v.double_value, ParameterType.PARAMETER_STRING: v.string_value,
            ParameterType.PARAMETER_STRING_ARRAY: list(v.string_array_value)}.get(v.type)


def get_params(node, node_name, names):
    r = call(node, GetParameters, f"{node_name}/get_parameters", GetParameters.Request(names=names))
    return {n: get_value(v) for n, v in zip(names, r.values)}


class Run:
    def __init__(self, args):
        self.args = args
        self.out = Path(args.out)
        (self.out / "frames").mkdir(parents=True, exist_ok=True)
        self.result = {"scenario": args.scenario}
        self.proc = None
        self.rec = None

    def start_node(self, ros_args):
        cmd = [self.args.node, "--ros-args", *ros_args]
        self.result["node_cmd"] = cmd
        self.stderr = open(self.out / "node.log", "w")
        self.proc = subprocess.Popen(cmd, stdout=self.stderr, stderr=subprocess.STDOUT, env=node_env())

    def stop_node(self, sig=signal.SIGINT):
        if self.proc is None:
            return
        alive = self.proc.poll() is None
        self.result["node_alive_at_end"] = alive
        if alive:
            self.proc.send_signal(sig)
            try:
                self.result["node_exit"] = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.result["node_exit"] = "killed"
        else:
            self.result["node_exit"] = self.proc.returncode
        self.stderr.close()
        self.result["node_log"] = (self.out / "node.log").read_text()[-4000:]

    def save_frame(self, name, rgb):
        PILImage.fromarray(rgb).save(self.out / "frames" / f"{name}.png")


def node_env():
    """The node is a Rust process: it needs the stand-in libraries first on its library path."""
    env = dict(os.environ)
    if "MASKED_FER_NODE_LD_LIBRARY_PATH" in env:
        env["LD_LIBRARY_PATH"] = env["MASKED_FER_NODE_LD_LIBRARY_PATH"]
    return env


def scenario_cameras(run, peer):
    # Keyframe interval 1: each frame is checked against the library's full-frame detection (the
    # sim_time scenario runs the default interval, with regions between keyframes).
    run.start_node(["-p", "image_topics:=[/cam_a, /cam_b]", "-p", "publish_debug_image:=true",
                    "-p", "diagnostics.period:=0.5", "-p", "detector.keyframe_interval:=1"])
    cams = {
        "/cam_a": (peer.create_publisher(Image, "/cam_a", qos_profile_sensor_data), photo("maksssksksss0.jpg", (640, 480)), "rgb8"),
        "/cam_b": (peer.create_publisher(Image, "/cam_b", qos_profile_sensor_data), photo("maksssksksss6.jpg", (640, 480)), "bgr8"),
    }
    # Both cameras' image topics are top-level, so image_transport's sibling is /camera_info.
    info_pub = peer.create_publisher(CameraInfo, "/camera_info", qos_profile_sensor_data)
    info = CameraInfo(width=640, height=480, k=[500.0, 0.0, 320.0, 0.0, 520.0, 240.0, 0.0, 0.0, 1.0])
    rec = Recorder(peer, "/masked_fer/detections", "/masked_fer/debug_image")
    run.rec = rec
    for name, (_, rgb, _) in cams.items():
        run.save_frame(name.strip("/"), rgb)
    wait_for(lambda: all(p.get_subscription_count() > 0 for p, _, _ in cams.values())
             and all(s.get_publisher_count() > 0 for s in rec.subs[:3]), 20, "matching with the node")
    sent = run.result.setdefault("sent", [])
    n = 0
    for i in range(12):  # 10 Hz, both cameras
        for name, (pub, rgb, enc) in cams.items():
            pub.publish(raw_msg(rgb, n, enc, frame_id=name.strip("/")))
            info_pub.publish(info)
            sent.append({"camera": name, "stamp_ns": ns(stamp(n))})
            n += 1
        time.sleep(0.1)
    answered = lambda st: any(d["stamp_ns"] == st for d in list(rec.detections))
    last = [s["stamp_ns"] for s in sent[-2:]]  # the newest frame of each camera is always processed
    wait_for(lambda: all(answered(st) for st in last), 20, "the newest frame of each camera")
    # Parameters over the services rclpy's ros2 param uses.
    events = []
    event_sub = peer.create_subscription(ParameterEvent, "/parameter_events",
                             lambda m: events.append({"node": m.node, "changed": {
                                 p.name: get_value(p.value) for p in m.changed_parameters}}),
                             QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE))
    listed = call(peer, ListParameters, "/masked_fer/list_parameters", ListParameters.Request()).result.names
    listed_detector = call(peer, ListParameters, "/masked_fer/list_parameters",
                           ListParameters.Request(prefixes=["detector"], depth=1)).result
    described = call(peer, DescribeParameters, "/masked_fer/describe_parameters",
                     DescribeParameters.Request(names=["detector.score_threshold", "threads", "image_topics"])
                     ).descriptors
    event_publishers = lambda: peer.get_publishers_info_by_topic("/parameter_events")
    wait_for(lambda: any(i.node_name == "masked_fer" for i in event_publishers())
             and event_sub.get_publisher_count() >= len(event_publishers()), 10, "the node's /parameter_events")
    sets = [
        set_param(peer, "/masked_fer", "detector.score_threshold", 1.0),
        set_param(peer, "/masked_fer", "detector.nms_iou", 3.0),
        set_param(peer, "/masked_fer", "detector.kind", "blazeface"),
        set_param(peer, "/masked_fer", "classifier.smoothing", "high"),
        set_param(peer, "/masked_fer", "tracker.retire_after", 1),  # cam_a's faces leave at once
    ]
    atomic = [  # all or nothing: the bad nms_iou keeps min_iou as it was
        set_atomically(peer, "/masked_fer", [("tracker.min_iou", 0.25), ("detector.nms_iou", 3.0)]),
        set_atomically(peer, "/masked_fer", [("diagnostics.min_rate", 1.0), ("diagnostics.max_rate", 500.0)]),
    ]
    got = get_params(peer, "/masked_fer", ["detector.score_threshold", "detector.nms_iou", "image_topics",
                                            "detector.kind", "tracker.min_iou", "diagnostics.max_rate"])
    before = rec.count()
    for i in range(5):  # with score_threshold 1.0 no face may survive
        cams["/cam_a"][0].publish(raw_msg(cams["/cam_a"][1], 100 + i, "rgb8", frame_id="cam_a_strict"))
        time.sleep(0.1)
    wait_for(lambda: any(d["stamp_ns"] == ns(stamp(104)) for d in list(rec.detections)), 20,
             "detections after the threshold change")
    wait_for(lambda: len(rec.diagnostics) >= 2, 5, "diagnostics")
    time.sleep(0.6)  # one more diagnostics period, so the last window holds the strict frames
    # Retired faces lose their ROS4HRI publishers (the graph takes a moment to tell us).
    roi_publishers = lambda: {i: peer.count_publishers(f"/humans/faces/{i}/roi") for i in list(rec.faces)}
    end = time.monotonic() + 5
    while time.monotonic() < end and any(n and i.startswith("c0f") for i, n in roi_publishers().items()):
        time.sleep(0.05)
    run.result["roi_publishers_after_retirement"] = roi_publishers()
    wait_for(lambda: any("diagnostics.max_rate" in e["changed"] for e in events), 5, "the atomic change's event")
    run.result.update(parameters_listed=list(listed),
                      parameters_listed_detector={"names": list(listed_detector.names),
                                                  "prefixes": list(listed_detector.prefixes)},
                      describe=[descriptor(d) for d in described], sets=sets, atomic=atomic, got=got,
                      parameter_events=events)
    return rec


def scenario_compressed(run, peer):
    params = run.out / "params.yaml"
    params.write_text(
        "fer:\n  ros__parameters:\n    image_topics: [/robot/camera/image]\n"
        "    input_transport: compressed\n    classifier:\n      smoothing: 0.0\n"
        "    detector:\n      keyframe_interval: 1\n"  # frames checked against full-frame detection
        "    diagnostics:\n      period: 0.5\n")
    run.start_node(["--params-file", str(params), "-r", "__node:=fer", "-r", "__ns:=/robot",
                    "-r", "~/detections:=/robot/faces"])
    rgb = photo("maksssksksss4.jpg", (640, 480))
    run.save_frame("robot_camera_image", rgb)
    pub = peer.create_publisher(CompressedImage, "/robot/camera/image/compressed", qos_profile_sensor_data)
    rec = Recorder(peer, "/robot/faces", None)
    run.rec = rec
    wait_for(lambda: pub.get_subscription_count() > 0 and rec.subs[0].get_publisher_count() > 0, 20,
             "matching with the node")
    sent = run.result.setdefault("sent", [])
    for n in range(10):
        m = jpeg_msg(rgb, n)
        pub.publish(m)
        sent.append({"camera": "/robot/camera/image", "stamp_ns": ns(stamp(n))})
        time.sleep(0.1)
    (run.out / "frames" / "robot_camera_image.jpg").write_bytes(bytes(jpeg_msg(rgb, 0).data))
    wait_for(lambda: any(d["stamp_ns"] == sent[-1]["stamp_ns"] for d in list(rec.detections)), 20,
             "the newest frame")
    got = get_params(peer, "/robot/fer", ["input_transport", "classifier.smoothing", "image_topics"])
    wait_for(lambda: len(rec.diagnostics) >= 1, 5, "diagnostics")
    run.result.update(got=got)
    # The node restarts while the camera goes on (later stamps): the same faces get other ids.
    run.stop_node()
    run.result["first_node_exit"] = run.result["node_exit"]
    wait_for(lambda: pub.get_subscription_count() == 0, 10, "the stopped node leaving the graph")
    run.start_node(["--params-file", str(params), "-r", "__node:=fer", "-r", "__ns:=/robot",
                    "-r", "~/detections:=/robot/faces"])
    wait_for(lambda: pub.get_subscription_count() > 0 and rec.subs[0].get_publisher_count() > 0, 20,
             "matching with the restarted node")
    for n in range(10, 20):
        pub.publish(jpeg_msg(rgb, n))
        sent.append({"camera": "/robot/camera/image", "stamp_ns": ns(stamp(n)), "after_restart": True})
        time.sleep(0.1)
    wait_for(lambda: any(d["stamp_ns"] == sent[-1]["stamp_ns"] for d in list(rec.detections)), 20,
             "the newest frame after the restart")
    return rec


def scenario_bad_input(run, peer):
    run.start_node(["-p", "image_topics:=[/cam]", "-p", "diagnostics.period:=0.5"])
    pub = peer.create_publisher(Image, "/cam", QoSProfile(depth=50, reliability=ReliabilityPolicy.BEST_EFFORT))
    cpub = peer.create_publisher(CompressedImage, "/cam/compressed", qos_profile_sensor_data)
    rec = Recorder(peer, "/masked_fer/detections", None)
    run.rec = rec
    wait_for(lambda: pub.get_subscription_count() > 0 and rec.subs[0].get_publisher_count() > 0, 20,
             "matching with the node")
    good = photo("maksssksksss0.jpg", (640, 480))
    small = photo("maksssksksss0.jpg", (320, 240))
    run.save_frame("cam", good)
    run.save_frame("cam_small", small)
    bad = []
    m = raw_msg(good, 0); m.encoding = "rgb16_unknown"; bad.append(("unknown encoding", m))
    m = raw_msg(good, 0); m.data = m.data[: len(m.data) // 2]; bad.append(("short data", m))
    m = raw_msg(good, 0); m.width, m.height, m.step, m.data = 0, 0, 0, b""; bad.append(("zero size", m))
    m = raw_msg(good, 0); m.step = 10; bad.append(("step too small", m))
    m = raw_msg(good, 0); m.encoding = "yuv422"; m.width = 639; m.step = 639 * 2
    m.data = m.data[: 639 * 2 * 480]; bad.append(("odd-width yuv", m))
    sent = run.result.setdefault("sent", [])
    n = 0

    def send(msg, kind):
        nonlocal n
        msg.header.stamp = stamp(n)
        pub.publish(msg)
        sent.append({"kind": kind, "stamp_ns": ns(stamp(n))})
        n += 1
        time.sleep(0.1)

    for kind, msg in bad:
        send(raw_msg(good, 0), "good")
        send(msg, kind)
        send(msg, kind)  # the same reason again: counted, logged once
    send(raw_msg(good, 0), "good")
    for _ in range(3):
        send(raw_msg(small, 0), "good_small")  # resolution change mid-stream
    wait_for(lambda: any(d["stamp_ns"] == sent[-1]["stamp_ns"] for d in list(rec.detections)), 20,
             "the newest frame")
    # A burst at many times the processing rate: the node keeps only the newest frames.
    burst_start = n
    for _ in range(40):
        m = raw_msg(good, n)
        pub.publish(m)
        sent.append({"kind": "burst", "stamp_ns": ns(stamp(n))})
        n += 1
        time.sleep(0.004)
    last_stamp = ns(stamp(n - 1))
    wait_for(lambda: any(d["stamp_ns"] == last_stamp for d in list(rec.detections)), 15,
             "the last frame of the burst")
    time.sleep(1.2)  # two diagnostics periods after the burst
    run.result.update(burst_first_stamp_ns=ns(stamp(burst_start)), last_stamp_ns=last_stamp)
    return rec


def scenario_qos_mismatch(run, peer):
    run.start_node(["-p", "image_topics:=[/cam]", "-p", "qos.reliability:=reliable",
                    "-p", "diagnostics.period:=0.5"])
    pub = peer.create_publisher(Image, "/cam", qos_profile_sensor_data)  # best effort
    rec = Recorder(peer, "/masked_fer/detections", None)
    run.rec = rec
    wait_for(lambda: rec.subs[0].get_publisher_count() > 0 and rec.subs[2].get_publisher_count() > 0, 20,
             "the node's publishers")
    rgb = photo("maksssksksss0.jpg", (320, 240))
    deadline = time.monotonic() + 1.5
    n = 0
    while time.monotonic() < deadline:
        pub.publish(raw_msg(rgb, n))
        n += 1
        time.sleep(0.05)
    wait_for(lambda: len(rec.diagnostics) >= 2, 5, "diagnostics")
    run.result.update(sent=[{"stamp_ns": ns(stamp(i))} for i in range(n)], matched_subscriptions=pub.get_subscription_count())
    return rec


def scenario_replay_parity(run, peer):
    params = run.out / "params.yaml"
    params.write_text(
        "/**:\n  ros__parameters:\n    image_topics: [/cam]\n    qos:\n      reliability: reliable\n"
        "    classifier:\n      smoothing: 0.8\n"
        "    tracker:\n      min_iou: 0.5\n      confirm_after: 3\n      retire_after: 2\n")
    run.start_node(["--params-file", str(params)])
    pub = peer.create_publisher(Image, "/cam", RELIABLE)
    rec = Recorder(peer, "/masked_fer/detections", None)
    run.rec = rec
    wait_for(lambda: pub.get_subscription_count() > 0 and rec.subs[0].get_publisher_count() > 0, 20,
             "matching with the node")
    # Faces that drift (tracks continue, smoothing builds up), an empty stretch longer than
    # retire_after (tracks end), then other faces (new ids).
    a, b = photo("maksssksksss0.jpg", (720, 540)), photo("maksssksksss6.jpg", (640, 480))
    frames = [a[4 * i:4 * i + 480, 6 * i:6 * i + 640] for i in range(8)]
    frames += [np.full((480, 640, 3), 90, np.uint8)] * 3 + [b] * 5
    sent = run.result.setdefault("sent", [])
    for n, rgb in enumerate(frames):
        run.save_frame(f"{n:03d}", np.ascontiguousarray(rgb))
        pub.publish(raw_msg(np.ascontiguousarray(rgb), n))
        sent.append({"camera": "/cam", "stamp_ns": ns(stamp(n)), "frame": f"frames/{n:03d}.png"})
        wait_for(lambda: any(d["stamp_ns"] == sent[-1]["stamp_ns"] for d in list(rec.detections)), 20,
                 f"the answer to frame {n}")
    return rec


def lifecycle_call(peer, srv_type, service, request=None, node="masked_fer"):
    return call(peer, srv_type, f"/{node}/{service}", request or srv_type.Request())


def change(peer, id=0, label="", node="masked_fer"):
    req = ChangeState.Request(transition=Transition(id=id, label=label))
    return call(peer, ChangeState, f"/{node}/change_state", req, timeout=30).success


def node_cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scenario_lifecycle(run, peer):
    run.start_node(["-p", "autostart:=false", "-p", "image_topics:=[/cam]", "-p", "diagnostics.period:=0.5"])
    events = []
    peer.create_subscription(TransitionEvent, "/masked_fer/transition_event",
                             lambda m: events.append([m.transition.id, m.start_state.label, m.goal_state.label]),
                             QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
    state = lambda node="masked_fer": lifecycle_call(peer, GetState, "get_state", node=node).current_state.label
    steps = run.result.setdefault("steps", [])
    steps.append(["start", state()])
    wait_for(lambda: any(i.node_name == "masked_fer" for i in peer.get_publishers_info_by_topic(
        "/masked_fer/transition_event")), 10, "the transition event publisher")
    time.sleep(0.5)  # let the event subscription match
    run.result["available_unconfigured"] = [
        t.transition.label for t in lifecycle_call(peer, GetAvailableTransitions, "get_available_transitions")
        .available_transitions]
    run.result["graph_size"] = len(lifecycle_call(peer, GetAvailableTransitions, "get_transition_graph")
                                   .available_transitions)
    pub = peer.create_publisher(Image, "/cam", qos_profile_sensor_data)
    rec = Recorder(peer, "/masked_fer/detections", None)
    run.rec = rec
    rgb = photo("maksssksksss0.jpg", (640, 480))
    n = [0]

    def send(k, phase):
        for _ in range(k):
            pub.publish(raw_msg(rgb, n[0]))
            run.result.setdefault("sent", []).append({"stamp_ns": ns(stamp(n[0])), "phase": phase})
            n[0] += 1
            time.sleep(0.1)

    steps.append(["subscribers while unconfigured", pub.get_subscription_count()])
    steps.append(["activate", change(peer, id=Transition.TRANSITION_ACTIVATE), state()])  # refused
    steps.append(["configure", change(peer, id=Transition.TRANSITION_CONFIGURE), state()])
    steps.append(["activate", change(peer, label="activate"), state()])
    wait_for(lambda: pub.get_subscription_count() > 0 and rec.subs[0].get_publisher_count() > 0, 20,
             "matching with the active node")
    send(5, "active")
    wait_for(lambda: any(d["stamp_ns"] == run.result["sent"][-1]["stamp_ns"] for d in list(rec.detections)), 20,
             "answers while active")
    steps.append(["deactivate", change(peer, id=Transition.TRANSITION_DEACTIVATE), state()])
    send(3, "inactive")  # the first frame after deactivation lets r2r drop the subscription
    wait_for(lambda: pub.get_subscription_count() == 0, 10, "the subscription gone while inactive")
    steps.append(["subscribers while inactive", pub.get_subscription_count()])
    cpu0, t0 = node_cpu_seconds(run.proc.pid), time.monotonic()
    send(20, "inactive")
    run.result["inactive_cpu_percent"] = 100 * (node_cpu_seconds(run.proc.pid) - cpu0) / (time.monotonic() - t0)
    steps.append(["activate", change(peer, id=Transition.TRANSITION_ACTIVATE), state()])
    wait_for(lambda: pub.get_subscription_count() > 0, 20, "the subscription back")
    send(5, "active again")
    wait_for(lambda: any(d["stamp_ns"] == run.result["sent"][-1]["stamp_ns"] for d in list(rec.detections)), 20,
             "answers after reactivation")
    steps.append(["deactivate", change(peer, id=Transition.TRANSITION_DEACTIVATE), state()])
    steps.append(["cleanup", change(peer, label="cleanup"), state()])
    steps.append(["shutdown", change(peer, label="shutdown"), state()])
    steps.append(["configure", change(peer, id=Transition.TRANSITION_CONFIGURE), state()])  # refused
    time.sleep(0.3)
    run.result["transition_events"] = list(events)
    # A configure that fails (the model file is missing) returns to unconfigured; the node stays up.
    run.stop_node()
    run.result["first_node_exit"] = run.result["node_exit"]
    run.start_node(["-p", "autostart:=false", "-p", "classifier.model:=/nonexistent/model.onnx",
                    "-r", "__node:=masked_fer_bad"])
    steps.append(["bad configure", change(peer, id=Transition.TRANSITION_CONFIGURE, node="masked_fer_bad"),
                  state("masked_fer_bad")])
    return rec


def scenario_sim_time(run, peer):
    run.start_node(["-p", "use_sim_time:=true", "-p", "image_topics:=[/cam]", "-p", "diagnostics.period:=1.0"])
    clock = peer.create_publisher(Clock, "/clock", QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    start, t0, stop = 7000.0, time.monotonic(), threading.Event()

    def tick():  # simulated time at twice real time, from 7000 s
        while not stop.is_set():
            sim = start + 2 * (time.monotonic() - t0)
            clock.publish(Clock(clock=Time(sec=int(sim), nanosec=int(sim % 1 * 1e9))))
            time.sleep(0.01)

    threading.Thread(target=tick, daemon=True).start()
    stamps = []
    peer.create_subscription(DiagnosticArray, "/diagnostics",
                             lambda m: stamps.append(m.header.stamp.sec + m.header.stamp.nanosec * 1e-9), RELIABLE)
    pub = peer.create_publisher(Image, "/cam", qos_profile_sensor_data)
    rec = Recorder(peer, "/masked_fer/detections", None)
    run.rec = rec
    wait_for(lambda: pub.get_subscription_count() > 0 and clock.get_subscription_count() > 0, 20,
             "matching with the node")
    # One face: regions are cheaper than the whole frame (with four faces at 320x240 they are
    # not, and every frame is a keyframe).
    rgb = photo("maksssksksss4.jpg", (320, 240))
    run.save_frame("cam", rgb)
    n = 0
    end = time.monotonic() + 4.5
    while time.monotonic() < end:  # 10 Hz of wall time: 5 Hz of simulated time
        pub.publish(raw_msg(rgb, n))
        n += 1
        time.sleep(0.1)
    stop.set()
    run.result.update(diagnostics_stamps=list(stamps), sim_time_at_end=start + 2 * (time.monotonic() - t0))
    return rec


def scenario_faults(run, peer):
    args = ["-p", "image_topics:=[/cam]", "-p", "diagnostics.period:=0.5",
            "-p", "detector.keyframe_interval:=1"]  # frames checked against full-frame detection
    run.start_node(args)
    rec = Recorder(peer, "/masked_fer/detections", None)
    run.rec = rec
    big, small = photo("maksssksksss0.jpg", (640, 480)), photo("maksssksksss0.jpg", (320, 240))
    run.save_frame("cam", big)
    run.save_frame("cam_small", small)
    sent = run.result.setdefault("sent", [])
    lock = threading.Lock()
    camera = {"pub": peer.create_publisher(Image, "/cam", qos_profile_sensor_data), "rgb": big,
              "phase": "first"}
    stop = threading.Event()

    def stream():  # the camera at 15 Hz, whatever happens to the node
        n = 0
        while not stop.is_set():
            with lock:
                if camera["pub"] is not None:
                    camera["pub"].publish(raw_msg(camera["rgb"], n))
                    sent.append({"stamp_ns": ns(stamp(n)), "phase": camera["phase"]})
                    n += 1
            time.sleep(1 / 15)

    def phase(name, **change):
        with lock:
            camera.update(phase=name, **change)

    def answered(name, count):
        def enough():
            stamps = {s["stamp_ns"] for s in list(sent) if s["phase"] == name}
            return sum(d["stamp_ns"] in stamps for d in list(rec.detections)) >= count
        wait_for(enough, 30, f"{count} answers in phase {name}")

    threading.Thread(target=stream, daemon=True).start()
    answered("first", 5)
    # SIGTERM while frames arrive and are processed: a clean exit.
    run.stop_node(signal.SIGTERM)
    run.result["sigterm_exit"] = run.result["node_exit"]
    phase("down")
    wait_for(lambda: camera["pub"].get_subscription_count() == 0, 10, "the node leaving the graph")
    time.sleep(0.5)
    # Restarted while the camera goes on.
    phase("restarted")
    run.start_node(args)
    answered("restarted", 5)
    # The camera vanishes...
    with lock:
        peer.destroy_publisher(camera["pub"])
        camera.update(pub=None, phase="gone")
    time.sleep(2.5)
    with rec.lock:
        run.result["vanished_status"] = next(
            (s for s in rec.diagnostics[-1] if s["name"] == "masked_fer: input /cam"), None)
    # ...and returns reliable instead of best effort, at another resolution.
    phase("returned", pub=peer.create_publisher(Image, "/cam", RELIABLE), rgb=small)
    answered("returned", 5)
    stop.set()
    time.sleep(1.2)  # two diagnostics periods
    return rec


def node_rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


def input_counters(rec, cameras):
    """The latest /diagnostics input status of each camera, its counters as integers."""
    with rec.lock:
        last = rec.diagnostics[-1]
    out = {}
    for cam in cameras:
        v = next(s for s in last if s["name"] == f"masked_fer: input {cam}")["values"]
        out[cam] = {k: int(v[key]) for k, key in [
            ("received", "Events since startup"), ("processed", "Frames processed"),
            ("superseded", "Frames dropped (superseded)"), ("rejected", "Frames rejected"),
            ("failed", "Frames failed (inference)")]}
    return out


class Stamps:
    """Unique header stamps across cameras and phases, with each frame's camera and send time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.n = 0
        self.sent = {}

    def next(self, camera, phase):
        with self.lock:
            self.n += 1
            t = stamp(self.n)
            self.sent[ns(t)] = (camera, phase, time.monotonic())
            return t


def scenario_overload(run, peer):
    """Three cameras at 2x and 4x what the node can process, raw then compressed; every 20th
    frame malformed; parameter requests throughout. Counters come from /diagnostics before and
    after each phase, latency from the answers' arrival against each frame's send time."""
    cams = ["/cam0", "/cam1", "/cam2"]
    photos = ["maksssksksss0.jpg", "maksssksksss4.jpg", "maksssksksss6.jpg"]  # 5, 1 and 1 faces
    rec = Recorder(peer, "/masked_fer/detections", None, faces=False)  # see scenario_soak
    run.rec = rec
    stamps = Stamps()
    phases = run.result.setdefault("phases", [])
    for transport in ["raw", "compressed"]:
        run.start_node(["-p", f"image_topics:=[{','.join(cams)}]", "-p", f"input_transport:={transport}",
                        "-p", "qos.reliability:=reliable", "-p", "diagnostics.period:=0.5"])
        if transport == "raw":
            kind, topics = Image, cams
        else:
            kind, topics = CompressedImage, [c + "/compressed" for c in cams]
        pubs = [peer.create_publisher(kind, t, RELIABLE) for t in topics]
        wait_for(lambda: all(p.get_subscription_count() > 0 for p in pubs)
                 and rec.subs[0].get_publisher_count() > 0, 20, "matching with the node")
        good = []
        for name in photos:
            rgb = photo(name, (640, 480))
            good.append(raw_msg(rgb, 0) if transport == "raw" else jpeg_msg(rgb, 0))
        bad = raw_msg(np.zeros((480, 640, 3), np.uint8), 0)
        bad.encoding = "bogus"
        if transport == "compressed":
            bad = jpeg_msg(np.zeros((8, 8, 3), np.uint8), 0)
            bad.data = b"\xff\xd8 not a jpeg"

        def flood(i, rate, seconds, phase, counts):
            if rate <= 0:
                return
            period, t0, k = 1.0 / rate, time.monotonic(), 0
            while time.monotonic() - t0 < seconds:
                m = bad if k % 20 == 19 else good[i]
                m.header.stamp = stamps.next(cams[i], f"{transport} {phase}")
                pubs[i].publish(m)
                counts[i] += 1
                k += 1
                time.sleep(max(0.0, t0 + k * period - time.monotonic()))

        def quiet_counters():
            """Counters from a /diagnostics message sent after two quiet periods (nothing waits)."""
            time.sleep(1.0)
            n = len(rec.diagnostics)
            wait_for(lambda: len(rec.diagnostics) > n, 5, "diagnostics")
            return input_counters(rec, cams)

        def run_phase(phase, rates, seconds, params):
            before = quiet_counters()
            rss0, counts, calls = node_rss_kib(run.proc.pid), [0, 0, 0], []
            threads = [threading.Thread(target=flood, args=(i, rates[i], seconds, phase, counts))
                       for i in range(3)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            while params and any(t.is_alive() for t in threads):
                c0 = time.monotonic()
                v = [0.0, 0.5][len(calls) % 2]
                done = set_param(peer, "/masked_fer", "classifier.smoothing", v)
                got = get_params(peer, "/masked_fer", ["classifier.smoothing"])["classifier.smoothing"]
                calls.append({"ms": (time.monotonic() - c0) * 1e3, "ok": done["successful"] and got == v,
                              "reason": done["reason"], "got": got})
                time.sleep(0.3)
            for t in threads:
                t.join()
            sent_for = time.monotonic() - t0
            after = quiet_counters()
            delta = {c: {k: after[c][k] - before[c][k] for k in after[c]} for c in cams}
            for i, c in enumerate(cams):
                delta[c]["sent"] = counts[i]
            phases.append({"transport": transport, "phase": phase, "rates_hz": rates,
                           "seconds": sent_for, "counters": delta, "param_calls": calls,
                           "rss_kib": [rss0, node_rss_kib(run.proc.pid)]})
            return delta

        # Capacity: frames sent one at a time, each when the previous one is answered.
        t0, k = time.monotonic(), 0
        while time.monotonic() - t0 < 3.0:
            m = good[k % 3]
            m.header.stamp = stamps.next(cams[k % 3], "capacity")
            pubs[k % 3].publish(m)
            wait_for(lambda: any(d["stamp_ns"] == ns(m.header.stamp) for d in list(rec.detections)[-3:]),
                     10, "the answer")
            k += 1
        # The round trip through this peer takes about as long as the node's work: the node
        # processes about twice as fast when frames wait for it (measured: ~25 vs ~50 per second
        # on the 2-core dev machine). The phases offer 2x and 4x that; the test reports the
        # factor reached (offered / processed per second).
        capacity = 2 * k / (time.monotonic() - t0)
        run.result.setdefault("capacity_hz", {})[transport] = capacity
        for factor in [2, 4]:
            run_phase(f"{factor}x", [factor * capacity / 3] * 3, 8.0, True)
        for p in pubs:
            peer.destroy_publisher(p)
        if transport == "raw":
            run.stop_node()
            run.result["raw_node_exit"] = run.result["node_exit"]
    run.result["stamps"] = {str(k): v for k, v in stamps.sent.items()}
    return rec


def scenario_soak(run, peer):
    """One camera at 30 Hz for MASKED_FER_SOAK_SECONDS (default 120), the face count changing
    every 5 s (0, 1, 3, 5 and 6 faces, the camera panning back and forth), reliable; every 5 s
    the node's resident memory and CPU, the latency of that window's answers and the counters."""
    seconds = float(os.environ.get("MASKED_FER_SOAK_SECONDS", "120"))
    run.start_node(["-p", "image_topics:=[/cam]", "-p", "qos.reliability:=reliable",
                    "-p", "diagnostics.period:=1.0", *os.environ.get("MASKED_FER_SOAK_PARAMS", "").split()])
    pub = peer.create_publisher(Image, "/cam", RELIABLE)
    # Not following the faces' topics: 6 faces at 30 Hz are ~900 messages/s (and the node makes
    # face images only for a subscriber), more than this Python peer takes in on time.
    rec = Recorder(peer, "/masked_fer/detections", None, faces=False)
    run.rec = rec
    wait_for(lambda: pub.get_subscription_count() > 0 and rec.subs[0].get_publisher_count() > 0, 20,
             "matching with the node")
    scenes = []  # (faces in the photo, frames of a slow pan over it)
    for name in [None, "maksssksksss4.jpg", "maksssksksss99.jpg", "maksssksksss0.jpg", "maksssksksss71.jpg"]:
        big = np.full((540, 720, 3), 110, np.uint8) if name is None else photo(name, (720, 540))
        # 2 px a frame down and right, inside the photo: every frame 640x480 (a frame of
        # another size restarts the tracks, every face a new id).
        pan = [np.ascontiguousarray(big[2 * i:2 * i + 480, 2 * i:2 * i + 640]) for i in range(30)]
        assert all(f.shape == (480, 640, 3) for f in pan)
        # Back and forth (the same messages on the way back): jumping back to the pan's start
        # would be a cut, every face a new one.
        msgs = [raw_msg(f, 0) for f in pan]
        scenes.append(msgs + msgs[-2:0:-1])
    stamps = Stamps()
    samples, sent_at = [], {}
    t0 = time.monotonic()
    k, last_sample, window = 0, t0, []
    while time.monotonic() - t0 < seconds:
        now = time.monotonic()
        scene = scenes[int((now - t0) / 5) % len(scenes)]
        m = scene[k % len(scene)]
        m.header.stamp = stamps.next("/cam", "soak")
        sent_at[ns(m.header.stamp)] = now
        pub.publish(m)
        k += 1
        if now - last_sample >= 5.0:
            with rec.lock:
                answered = [(d["received"] - sent_at[d["stamp_ns"]]) * 1e3
                            for d in rec.detections[len(window):] if d["stamp_ns"] in sent_at]
                window = list(rec.detections)
            answered.sort()
            with rec.lock:
                pipeline = next((st for st in rec.diagnostics[-1] if st["name"] == "masked_fer: pipeline"),
                                {"values": {}}) if rec.diagnostics else {"values": {}}
            heap = pipeline["values"].get("Heap live (KiB)")
            samples.append({"t": now - t0, "rss_kib": node_rss_kib(run.proc.pid),
                            "heap_live_kib": int(heap) if heap else None,
                            "cpu_s": node_cpu_seconds(run.proc.pid), "answers": len(answered),
                            "latency_p50_ms": answered[len(answered) // 2] if answered else None,
                            "latency_p99_ms": answered[int(len(answered) * 0.99)] if answered else None})
            last_sample = now
        time.sleep(max(0.0, t0 + k / 30.0 - time.monotonic()))
    time.sleep(2.5)  # two diagnostics periods: nothing left waiting
    n = len(rec.diagnostics)
    wait_for(lambda: len(rec.diagnostics) > n, 5, "diagnostics")
    run.result.update(samples=samples, sent=k, seconds=seconds, counters=input_counters(rec, ["/cam"])["/cam"])
    return rec


SCENARIOS = {"cameras": scenario_cameras, "compressed": scenario_compressed,
             "bad_input": scenario_bad_input, "qos_mismatch": scenario_qos_mismatch,
             "replay_parity": scenario_replay_parity, "lifecycle": scenario_lifecycle,
             "sim_time": scenario_sim_time, "faults": scenario_faults,
             "overload": scenario_overload, "soak": scenario_soak}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--node", required=True, help="path of the masked_fer_node binary")
    ap.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    ap.add_argument("--out", required=True, help="directory for result.json and frames/")
    args = ap.parse_args()
    rclpy.init()
    peer = rclpy.create_node("masked_fer_test_peer")
    ex = SingleThreadedExecutor()
    ex.add_node(peer)
    spinner = threading.Thread(target=ex.spin, daemon=True)
    spinner.start()
    run = Run(args)
    try:
        SCENARIOS[args.scenario](run, peer)
    except Exception as e:  # reported in result.json; the Rust test shows it
        run.result["error"] = f"{type(e).__name__}: {e}"
    finally:
        run.stop_node()
        rec = run.rec
        if rec is not None:
            with rec.lock:
                run.result.update(detections=rec.detections, tracked=rec.tracked,
                                  diagnostics=rec.diagnostics, debug=rec.debug, faces=rec.faces,
                                  tf=rec.tf)
        (run.out / "result.json").write_text(json.dumps(run.result, indent=1))
    # rclpy's teardown with the spinning thread still running can abort; the results are written.
    sys.stdout.flush()
    os._exit(0 if "error" not in run.result else 1)


if __name__ == "__main__":
    main()
