//! Result bags written by us are read back by an independent implementation (PyPI `rosbags`,
//! using only the message definitions embedded in the file), with the values we wrote.
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

use masked_fer::io::bag::msgs::{
    BoundingBox2D, Detection2D, Detection2DArray, Expression, Header, ObjectHypothesis,
    ObjectHypothesisWithPose, Point2D, Pose2D, Time,
};
use masked_fer::io::bag::BagWriter;
use serde_json::Value;

#[test]
fn rosbags_reads_our_detections_and_expressions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.mcap");
    let header = Header {
        stamp: Time {
            sec: 1_700_000_000,
            nanosec: 42,
        },
        frame_id: "camera".into(),
    };
    let hyp = |c: &str, s: f64| ObjectHypothesisWithPose {
        hypothesis: ObjectHypothesis {
            class_id: c.into(),
            score: s,
        },
        ..Default::default()
    };
    let det = Detection2D {
        header: header.clone(),
        results: vec![hyp("happy", 0.75), hyp("neutral", 0.25)],
        bbox: BoundingBox2D {
            center: Pose2D {
                position: Point2D { x: 100.5, y: 80.25 },
                theta: 0.0,
            },
            size_x: 40.0,
            size_y: 52.0,
        },
        id: "7".into(),
    };
    let mut w = BagWriter::create(&path).unwrap();
    assert!(dir.path().join("out.mcap.partial").exists() && !path.exists());
    w.write(
        "/masked_fer/detections",
        1_700_000_000_000_000_042,
        &Detection2DArray {
            header: header.clone(),
            detections: vec![det],
        },
    )
    .unwrap();
    w.write(
        "/masked_fer/detections",
        1_700_000_000_100_000_000,
        &Detection2DArray {
            header: header.clone(),
            detections: vec![],
        },
    )
    .unwrap();
    w.write(
        "/humans/faces/7/expression",
        1_700_000_000_000_000_042,
        &Expression {
            header,
            expression: "happy".into(),
            valence: 0.5,
            arousal: 0.25,
            confidence: 0.75,
        },
    )
    .unwrap();
    assert_eq!(w.finish().unwrap(), path);
    assert!(!dir.path().join("out.mcap.partial").exists());

    let msgs = common::read_bag(&path);
    assert_eq!(msgs.len(), 3);
    let arrays: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["type"] == "vision_msgs/msg/Detection2DArray")
        .collect();
    assert_eq!(arrays.len(), 2);
    let d = &arrays[0]["msg"]["detections"][0];
    assert_eq!(d["id"], "7");
    assert_eq!(d["results"][0]["hypothesis"]["class_id"], "happy");
    assert_eq!(d["results"][1]["hypothesis"]["score"], 0.25);
    assert_eq!(d["bbox"]["center"]["position"]["x"], 100.5);
    assert_eq!(d["bbox"]["size_y"], 52.0);
    assert_eq!(d["results"][0]["pose"]["pose"]["orientation"]["w"], 1.0);
    assert_eq!(d["header"]["stamp"]["nanosec"], 42);
    assert_eq!(arrays[1]["msg"]["detections"].as_array().unwrap().len(), 0);
    let e = &msgs
        .iter()
        .find(|m| m["type"] == "hri_msgs/msg/Expression")
        .unwrap()["msg"];
    assert_eq!(
        (
            e["expression"].as_str(),
            e["valence"].as_f64(),
            e["confidence"].as_f64()
        ),
        (Some("happy"), Some(0.5), Some(0.75))
    );
}
