//! Running things over real ROS 2 for the node's tests: inside a private network namespace
//! (`unshare -rn`, loopback only) and with the environment of `third_party/ros/env.sh`.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: source third_party/ros/env.sh (scripts/setup_ros_env.sh) first, as `make test` does")
    })
}

/// A command that runs its arguments in a new network namespace with only loopback up, after
/// the shell prefix `setup` (e.g. `. install/local_setup.sh && `), logging rcl into `log_dir`.
pub fn isolated(setup: &str, log_dir: &Path) -> Command {
    let mut c = Command::new("unshare");
    c.args(["-rn", "--", "sh", "-c"])
        .arg(format!("ip link set lo up && {setup}exec \"$@\""))
        .arg("sh")
        .env("ROS_LOG_DIR", log_dir.join("ros_log"));
    c
}

/// `test/peers/ros_peer.py` running `scenario` against the node binary `node`, writing into
/// `out` (ready to run inside [`isolated`]'s namespace).
pub fn peer(setup: &str, node: &Path, scenario: &str, out: &Path) -> Command {
    let python = format!("{}/bin/python", env("MASKED_FER_ROS_VENV"));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("test/peers/ros_peer.py");
    let mut c = isolated(setup, out);
    c.arg(python)
        .arg(script)
        .arg("--node")
        .arg(node)
        .args(["--scenario", scenario])
        .arg("--out")
        .arg(out)
        // Python must not load the Rust-only stand-in libraries; the node needs them.
        .env("LD_LIBRARY_PATH", env("MASKED_FER_PY_LD_LIBRARY_PATH"))
        .env(
            "MASKED_FER_NODE_LD_LIBRARY_PATH",
            env("MASKED_FER_NODE_LD_LIBRARY_PATH"),
        );
    c
}

/// The peer's `result.json`, after checking that the scenario ran without error.
pub fn result(out: &Path, run: &Output) -> Value {
    let result: Value = std::fs::read_to_string(out.join("result.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_else(|| {
            panic!(
                "peer wrote no result: {}\n{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            )
        });
    assert!(
        result.get("error").is_none() && run.status.success(),
        "scenario {} failed: {}\nnode log:\n{}\npeer stderr:\n{}",
        result["scenario"],
        result["error"],
        result["node_log"].as_str().unwrap_or(""),
        String::from_utf8_lossy(&run.stderr)
    );
    result
}
