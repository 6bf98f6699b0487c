"""A camera on Eclipse Cyclone DDS (PyPI `cyclonedds`, no ROS 2 libraries): publishes
sensor_msgs/Image frames on a ROS 2 topic as raw DDS, with the type and topic names ROS 2 uses
(`sensor_msgs::msg::dds_::Image_` on `rt/<topic>`), and reads the node's answers
(vision_msgs/Detection2DArray) the same way. Written from the ROS 2 DDS naming rules and the
message definitions, not from masked_fer's code.

Usage: cyclone_camera.py --node BIN --topic /cam --photo FILE --out DIR
starts the node (Fast DDS, its environment as given) on --topic, sends --frames frames, collects
the answers on /masked_fer/detections, stops the node with SIGINT and writes DIR/result.json and
DIR/frame.png (the frame as sent).
"""

import argparse
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image as PILImage
from cyclonedds.core import Qos, Policy
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl.types import array, float64, int32, sequence, uint8, uint32
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration


@dataclass
class Time(IdlStruct, typename="builtin_interfaces::msg::dds_::Time_"):
    sec: int32
    nanosec: uint32


@dataclass
class Header(IdlStruct, typename="std_msgs::msg::dds_::Header_"):
    stamp: Time
    frame_id: str


@dataclass
class Image(IdlStruct, typename="sensor_msgs::msg::dds_::Image_"):
    header: Header
    height: uint32
    width: uint32
    encoding: str
    is_bigendian: uint8
    step: uint32
    data: sequence[uint8]


@dataclass
class Point2D(IdlStruct, typename="vision_msgs::msg::dds_::Point2D_"):
    x: float64
    y: float64


@dataclass
class Pose2D(IdlStruct, typename="vision_msgs::msg::dds_::Pose2D_"):
    position: Point2D
    theta: float64


@dataclass
class BoundingBox2D(IdlStruct, typename="vision_msgs::msg::dds_::BoundingBox2D_"):
    center: Pose2D
    size_x: float64
    size_y: float64


@dataclass
class ObjectHypothesis(IdlStruct, typename="vision_msgs::msg::dds_::ObjectHypothesis_"):
    class_id: str
    score: float64


@dataclass
class Point(IdlStruct, typename="geometry_msgs::msg::dds_::Point_"):
    x: float64
    y: float64
    z: float64


@dataclass
class Quaternion(IdlStruct, typename="geometry_msgs::msg::dds_::Quaternion_"):
    x: float64
    y: float64
    z: float64
    w: float64


@dataclass
class Pose(IdlStruct, typename="geometry_msgs::msg::dds_::Pose_"):
    position: Point
    orientation: Quaternion


@dataclass
class PoseWithCovariance(IdlStruct, typename="geometry_msgs::msg::dds_::PoseWithCovariance_"):
    pose: Pose
    covariance: array[float64, 36]


@dataclass
class ObjectHypothesisWithPose(IdlStruct, typename="vision_msgs::msg::dds_::ObjectHypothesisWithPose_"):
    hypothesis: ObjectHypothesis
    pose: PoseWithCovariance


@dataclass
class Detection2D(IdlStruct, typename="vision_msgs::msg::dds_::Detection2D_"):
    header: Header
    results: sequence[ObjectHypothesisWithPose]
    bbox: BoundingBox2D
    id: str


@dataclass
class Detection2DArray(IdlStruct, typename="vision_msgs::msg::dds_::Detection2DArray_"):
    header: Header
    detections: sequence[Detection2D] = field(default_factory=list)


def dds_topic(ros_topic):
    return "rt" + ros_topic


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--node", required=True, help="path of the masked_fer_node binary")
    ap.add_argument("--topic", required=True, help="ROS 2 image topic to publish on")
    ap.add_argument("--answers", default="/masked_fer/detections", help="the node's Detection2DArray topic")
    ap.add_argument("--photo", required=True, help="image file to send (resized to --size)")
    ap.add_argument("--size", default="160x120", help="frame size WxH (default 160x120)")
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--rate", type=float, default=5.0, help="frames per second")
    ap.add_argument("--match-timeout", type=float, default=20.0)
    ap.add_argument("--out", required=True, help="directory for result.json, frame.png and node.log")
    args = ap.parse_args()
    out = Path(args.out)
    w, h = (int(v) for v in args.size.split("x"))
    frame = PILImage.open(args.photo).convert("RGB").resize((w, h))
    frame.save(out / "frame.png")
    rgb = np.asarray(frame)
    log = open(out / "node.log", "w")
    env = dict(os.environ, LD_LIBRARY_PATH=os.environ.get("MASKED_FER_NODE_LD_LIBRARY_PATH", ""))
    # Keyframe interval 1: every answer is checked against the library's full-frame detection.
    node = subprocess.Popen([args.node, "--ros-args", "-p", f"image_topics:=[{args.topic}]",
                             "-p", "detector.keyframe_interval:=1"],
                            stdout=log, stderr=subprocess.STDOUT, env=env)

    dp = DomainParticipant(0)
    # Best effort and volatile, as a camera driver's sensor-data QoS.
    camera_qos = Qos(Policy.Reliability.BestEffort, Policy.Durability.Volatile, Policy.History.KeepLast(5))
    writer = DataWriter(dp, Topic(dp, dds_topic(args.topic), Image), qos=camera_qos)
    answers_qos = Qos(Policy.Reliability.Reliable(max_blocking_time=duration(milliseconds=100)), Policy.History.KeepLast(100))
    reader = DataReader(dp, Topic(dp, dds_topic(args.answers), Detection2DArray), qos=answers_qos)

    result = {"sent": [], "answers": [], "matched": False}
    end = time.monotonic() + args.match_timeout
    while time.monotonic() < end:
        if writer.get_matched_subscriptions() and reader.get_matched_publications():
            result["matched"] = True
            break
        time.sleep(0.05)
    if result["matched"]:
        data = rgb.tobytes()
        for n in range(args.frames):
            stamp = Time(sec=2000 + n, nanosec=0)
            writer.write(Image(header=Header(stamp=stamp, frame_id="cyclone_camera"), height=h, width=w,
                               encoding="rgb8", is_bigendian=0, step=w * 3, data=list(data)))
            result["sent"].append(stamp.sec * 10**9)
            time.sleep(1.0 / args.rate)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            for m in reader.take(N=100):
                if not isinstance(m, Detection2DArray):
                    continue
                result["answers"].append({
                    "stamp_ns": m.header.stamp.sec * 10**9 + m.header.stamp.nanosec,
                    "frame_id": m.header.frame_id,
                    "faces": [{"id": d.id, "cx": d.bbox.center.position.x, "cy": d.bbox.center.position.y,
                               "w": d.bbox.size_x, "h": d.bbox.size_y,
                               "best": d.results[0].hypothesis.class_id if d.results else None}
                              for d in m.detections],
                })
            if result["answers"] and result["answers"][-1]["stamp_ns"] == result["sent"][-1]:
                break
            time.sleep(0.05)
    result["node_alive_at_end"] = node.poll() is None
    node.send_signal(signal.SIGINT)
    try:
        result["node_exit"] = node.wait(timeout=10)
    except subprocess.TimeoutExpired:
        node.kill()
        result["node_exit"] = "killed"
    log.close()
    result["node_log"] = (out / "node.log").read_text()[-4000:]
    (out / "result.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
