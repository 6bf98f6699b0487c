//! `masked_fer replay` on bags written by PyPI `rosbags`: one Detection2DArray per input frame
//! with the image's stamp, output readable by rosbags, byte-identical across runs, and a
//! truncated bag reported as incomplete without a finished-looking output file.
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

use serde_json::Value;

/// Run `masked_fer` with `args` and require success.
fn replay_ok(args: &[&str]) {
    let run = common::masked_fer(args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

fn report_json(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

#[test]
fn replay_writes_one_detection_array_per_frame_for_both_storages() {
    let dir = tempfile::tempdir().unwrap();
    let expected = common::make_bags(dir.path());
    let mut outputs = Vec::new();
    for storage in ["mcap", "sqlite3"] {
        let out_bag = dir.path().join(format!("{storage}_out.mcap"));
        let report = dir.path().join(format!("{storage}_report"));
        replay_ok(&[
            "replay",
            dir.path().join(storage).to_str().unwrap(),
            "--topic",
            "/camera/image_raw",
            "--output",
            out_bag.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ]);
        let msgs = common::read_bag(&out_bag);
        let arrays: Vec<&Value> = msgs
            .iter()
            .filter(|m| m["type"] == "vision_msgs/msg/Detection2DArray")
            .collect();
        let frames = expected["frames"].as_array().unwrap();
        assert_eq!(arrays.len(), frames.len(), "{storage}");
        for (a, f) in arrays.iter().zip(frames) {
            assert_eq!(a["msg"]["header"]["stamp"]["sec"], f["stamp"][0]);
            assert_eq!(a["msg"]["header"]["stamp"]["nanosec"], f["stamp"][1]);
            for d in a["msg"]["detections"].as_array().unwrap() {
                assert_eq!(d["results"].as_array().unwrap().len(), 7);
                let scores: Vec<f64> = d["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["hypothesis"]["score"].as_f64().unwrap())
                    .collect();
                assert!(
                    scores.windows(2).all(|w| w[0] >= w[1]),
                    "hypotheses not best first: {scores:?}"
                );
                assert!(d["bbox"]["size_x"].as_f64().unwrap() > 8.0);
            }
        }
        assert!(
            arrays
                .iter()
                .map(|a| a["msg"]["detections"].as_array().unwrap().len())
                .sum::<usize>()
                >= 12
        );
        assert!(msgs.iter().any(|m| m["type"] == "hri_msgs/msg/Expression"));
        let report = report_json(&report);
        assert_eq!(report["complete"], true);
        assert_eq!(report["topics"]["/camera/image_raw"]["frames"], 6);
        assert_eq!(report["topics"]["/camera/image_raw"]["failed"], 0);
        outputs.push(std::fs::read(&out_bag).unwrap());
    }
    // Same frames, same models: the two storages give byte-identical result bags.
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn truncated_bag_is_reported_incomplete_and_no_output_looks_finished() {
    let dir = tempfile::tempdir().unwrap();
    common::make_bags(dir.path());
    let bytes = std::fs::read(dir.path().join("mcap/mcap.mcap")).unwrap();
    let cut = dir.path().join("cut.mcap");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let out_bag = dir.path().join("out.mcap");
    let report = dir.path().join("report");
    let run = common::masked_fer(&[
        "replay",
        cut.to_str().unwrap(),
        "--output",
        out_bag.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        !out_bag.exists(),
        "a partial output must not carry the final name"
    );
    let r = report_json(&report);
    assert_eq!(r["complete"], false);
    assert!(r["error"].as_str().unwrap().contains("cut.mcap"));
    assert!(r["frames"].as_u64().unwrap() > 0);
    assert!(std::fs::read_to_string(report.join("report.md"))
        .unwrap()
        .contains("Incomplete"));
}

#[test]
fn bags_without_images_or_with_wrong_topics_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    common::make_bags(dir.path());
    let bag = dir.path().join("mcap");
    for (args, want) in [
        (vec!["--topic", "/nope"], "/nope is not in the bag"),
        (vec!["--topic", "/chatter"], "not an image"),
    ] {
        let mut all = vec!["replay", bag.to_str().unwrap()];
        all.extend(args);
        let run = common::masked_fer(&all);
        assert_eq!(run.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&run.stderr).contains(want));
    }
    let text = dir.path().join("x.bag");
    std::fs::write(&text, "not a bag").unwrap();
    let run = common::masked_fer(&["replay", text.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("unknown bag storage"));
}

#[test]
fn annotate_writes_one_debug_image_per_frame() {
    let dir = tempfile::tempdir().unwrap();
    common::make_bags(dir.path());
    let out_bag = dir.path().join("annotated.mcap");
    replay_ok(&[
        "replay",
        dir.path().join("mcap").to_str().unwrap(),
        "--topic",
        "/camera/image_raw/compressed",
        "--output",
        out_bag.to_str().unwrap(),
        "--annotate",
    ]);
    let msgs = common::read_bag(&out_bag);
    let images: Vec<&Value> = msgs
        .iter()
        .filter(|m| m["topic"] == "/masked_fer/debug_image")
        .collect();
    assert_eq!(images.len(), 6);
    for m in images {
        let (w, h) = (
            m["msg"]["width"].as_u64().unwrap(),
            m["msg"]["height"].as_u64().unwrap(),
        );
        assert_eq!(m["msg"]["encoding"], "rgb8");
        assert_eq!(m["msg"]["data"].as_array().unwrap().len() as u64, w * h * 3);
    }
}

#[test]
fn labels_give_the_accuracy_known_by_construction() {
    let dir = tempfile::tempdir().unwrap();
    common::make_bags(dir.path());
    let bag = dir.path().join("mcap");
    let first = dir.path().join("first.mcap");
    replay_ok(&[
        "replay",
        bag.to_str().unwrap(),
        "--topic",
        "/camera/image_raw",
        "--output",
        first.to_str().unwrap(),
    ]);
    // Labels from the first run's output: every other face labelled with what was predicted
    // (right), the rest with another class (wrong), plus one box where there is no face.
    let classes = [
        "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise",
    ];
    let mut csv = String::from("frame,x0,y0,x1,y1,expression\n");
    let (mut total, mut right) = (0, 0);
    let arrays: Vec<Value> = common::read_bag(&first)
        .into_iter()
        .filter(|m| m["type"] == "vision_msgs/msg/Detection2DArray")
        .collect();
    for (frame, a) in arrays.iter().enumerate() {
        for d in a["msg"]["detections"].as_array().unwrap() {
            let (cx, cy) = (
                d["bbox"]["center"]["position"]["x"].as_f64().unwrap(),
                d["bbox"]["center"]["position"]["y"].as_f64().unwrap(),
            );
            let (w, h) = (
                d["bbox"]["size_x"].as_f64().unwrap(),
                d["bbox"]["size_y"].as_f64().unwrap(),
            );
            let predicted = d["results"][0]["hypothesis"]["class_id"].as_str().unwrap();
            let label = if total % 2 == 0 {
                right += 1;
                predicted
            } else {
                classes.iter().find(|c| **c != predicted).unwrap()
            };
            csv += &format!(
                "{frame},{},{},{},{},{label}\n",
                cx - w / 2.0,
                cy - h / 2.0,
                cx + w / 2.0,
                cy + h / 2.0
            );
            total += 1;
        }
    }
    csv += "0,0,0,3,3,happy\n";
    total += 1;
    let labels = dir.path().join("labels.csv");
    std::fs::write(&labels, csv).unwrap();
    let report = dir.path().join("report");
    replay_ok(&[
        "replay",
        bag.to_str().unwrap(),
        "--topic",
        "/camera/image_raw",
        "--report",
        report.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
    ]);
    let r = report_json(&report);
    assert_eq!(r["labels"]["labels"], total);
    assert_eq!(r["labels"]["correct"], right);
    assert_eq!(r["labels"]["no_face"], 1);
    assert!((r["labels"]["accuracy"].as_f64().unwrap() - right as f64 / total as f64).abs() < 1e-9);
    assert!(report.join("confusion.png").exists());
    assert!(std::fs::read_to_string(report.join("report.md"))
        .unwrap()
        .contains("Against the labels"));
}

#[test]
fn rate_pacing_drops_what_a_live_node_would_and_still_writes_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let bag = common::data("demo_bag");
    let out_bag = dir.path().join("paced.mcap");
    let report = dir.path().join("report");
    // Frames 1 s apart at 1000x speed arrive every millisecond: far faster than processing.
    replay_ok(&[
        "replay",
        bag.to_str().unwrap(),
        "--rate",
        "1000",
        "--output",
        out_bag.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let r = report_json(&report);
    let t = &r["topics"]["/camera/image_raw/compressed"];
    assert_eq!(t["frames"], 12);
    let dropped = t["dropped"].as_u64().unwrap();
    assert!((1..12).contains(&dropped), "dropped {dropped}");
    assert!(t["latency_ms"]["p50"].as_f64().unwrap() > 0.0);
    let arrays = common::read_bag(&out_bag)
        .iter()
        .filter(|m| m["type"] == "vision_msgs/msg/Detection2DArray")
        .count();
    assert_eq!(arrays, 12);
    assert_eq!(
        common::masked_fer(&["replay", bag.to_str().unwrap(), "--rate", "0"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn image_topics_without_messages_are_reported_not_passed_off_as_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let bag = dir.path().join("empty");
    let script = format!(
        "from rosbags.rosbag2 import StoragePlugin, Writer\nfrom rosbags.typesys import Stores, get_typestore\nts = get_typestore(Stores.ROS2_HUMBLE)\nwith Writer({:?}, version=9, storage_plugin=StoragePlugin.MCAP) as w:\n    w.add_connection('/camera/image_raw', 'sensor_msgs/msg/Image', typestore=ts)\n",
        bag.to_str().unwrap()
    );
    common::peer_python(&["-c", &script]);
    let report = dir.path().join("report");
    let run = common::masked_fer(&[
        "replay",
        bag.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1));
    let r = report_json(&report);
    assert_eq!(r["complete"], false);
    assert!(r["error"].as_str().unwrap().contains("no image messages"));
}
