//! The package as robot teams install it: a throw-away colcon workspace with this repository in
//! `src/`, built by `colcon build` (colcon-ros, colcon-ros-cargo, cargo-ament-build) with the
//! commands of the README's "Install in a ROS 2 workspace"; then the installed node, run from
//! another directory with only `install/local_setup.sh` sourced, must find its models and ONNX
//! Runtime in the install tree and answer an rclpy camera (inside `unshare -rn`).
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[path = "common/ros.rs"]
mod ros;

fn files(root: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.push((rel, meta.len()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn colcon_workspace_build_installs_a_node_that_runs_from_anywhere() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let ws = tempfile::tempdir().unwrap();
    std::fs::create_dir(ws.path().join("src")).unwrap();
    // A clone of the repository after `make setup` (ONNX Runtime in third_party/).
    std::os::unix::fs::symlink(&repo, ws.path().join("src/masked_fer")).unwrap();

    let t = Instant::now();
    let build = Command::new("colcon")
        .args(["build", "--packages-select", "masked_fer"])
        .args(["--cargo-args", "--release", "--features", "ros"])
        .current_dir(ws.path())
        .env_remove("ORT_DYLIB_PATH")
        .output()
        .expect("colcon runs (source third_party/ros/env.sh)");
    let log = std::fs::read_to_string(
        ws.path()
            .join("log/latest_build/masked_fer/stdout_stderr.log"),
    )
    .unwrap_or_default();
    assert!(
        build.status.success(),
        "colcon build failed:\n{}\n{}\n{log}",
        String::from_utf8_lossy(&build.stdout),
        String::from_utf8_lossy(&build.stderr)
    );
    eprintln!("colcon build: {:.0} s", t.elapsed().as_secs_f64());

    let install = ws.path().join("install");
    let tree = files(&install.join("masked_fer"));
    eprintln!("install/masked_fer:");
    for (f, size) in &tree {
        if !f.starts_with("share/masked_fer/rust/") {
            eprintln!("{size:>12}  {f}");
        }
    }
    let has = |f: &str| tree.iter().any(|(p, _)| p == f);
    for f in [
        "lib/masked_fer/masked_fer_node",
        "lib/masked_fer/masked_fer",
        "share/masked_fer/package.xml",
        "share/masked_fer/launch/masked_fer.launch.py",
        "share/masked_fer/params/default.yaml",
        "share/masked_fer/models/retinaface_mnet025.onnx",
        "share/masked_fer/models/blazeface_short_range.onnx",
        "share/masked_fer/models/slim_rgc_masked_fer.onnx",
        "share/masked_fer/models/slim_rgc_masked_fer_int8.onnx",
        "share/masked_fer/onnxruntime/libonnxruntime.so.1.31.1",
        "share/ament_index/resource_index/packages/masked_fer",
    ] {
        assert!(has(f), "{f} not installed");
    }

    // Run the installed node from an unrelated directory with only the workspace sourced: it
    // must load the installed models and runtime, not this checkout's.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("peer");
    let node = install.join("masked_fer/lib/masked_fer/masked_fer_node");
    let setup = format!(". {}/local_setup.sh && ", install.display());
    let run = ros::peer(&setup, &node, "compressed", &out)
        .current_dir(elsewhere.path())
        .env_remove("ORT_DYLIB_PATH")
        .output()
        .expect("the peer runs");
    let result = ros::result(&out, &run);
    let node_log = result["node_log"].as_str().unwrap_or("");
    let answered = result["detections"].as_array().map_or(0, Vec::len);
    assert!(
        answered > 0,
        "the installed node answered no frame:\n{node_log}"
    );
    assert!(result["detections"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| !d["detections"].as_array().unwrap().is_empty()));
    let share = install.join("masked_fer/share/masked_fer");
    for f in [
        share.join("models/retinaface_mnet025.onnx"),
        share.join("models/slim_rgc_masked_fer_int8.onnx"),
        share.join("onnxruntime/libonnxruntime.so.1.31.1"),
    ] {
        assert!(
            node_log.contains(f.to_str().unwrap()),
            "the node did not load {}:\n{node_log}",
            f.display()
        );
    }
}
