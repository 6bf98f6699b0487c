//! Faults around `masked_fer replay` (issue 18, RELIABILITY.md's fault table): a corrupt chunk in
//! the middle of a bag, SIGINT and SIGTERM during inference, a full disk under the output. In
//! each, what was read is reported and nothing unfinished carries the output's final name.
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use masked_fer::io::bag::Bag;
use serde_json::Value;

fn report_json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

/// The demo bag's 12 frames rewritten by the `mcap` crate with one message per zstd chunk (as
/// a long rosbag2 recording has many chunks); returns the file and each chunk's (offset, length)
/// as a plain scan of the file's records finds them.
fn chunked_demo_bag(dir: &Path) -> (PathBuf, Vec<(usize, usize)>) {
    let path = dir.join("chunked.mcap");
    let mut messages = Vec::new();
    let bag = Bag::open(&common::data("demo_bag")).unwrap();
    let skipped = bag
        .for_each(|m| {
            messages.push(m);
            Ok(())
        })
        .unwrap();
    assert!(skipped.is_empty());
    common::write_mcap(&path, Some(1), &messages);
    // Records after the 8-byte magic: opcode u8, length u64, body; 0x06 is a chunk.
    let bytes = std::fs::read(&path).unwrap();
    let mut chunks = Vec::new();
    let mut at = 8;
    while at + 9 <= bytes.len() {
        let len = u64::from_le_bytes(bytes[at + 1..at + 9].try_into().unwrap()) as usize;
        if bytes[at] == 0x06 {
            chunks.push((at, len));
        }
        if bytes[at] == 0x0f {
            break;
        }
        at += 9 + len;
    }
    (path, chunks)
}

#[test]
fn a_corrupt_chunk_in_the_middle_is_passed_over_and_named_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let (bag, chunks) = chunked_demo_bag(dir.path());
    let mut bytes = std::fs::read(&bag).unwrap();
    // The chunk of the 6th frame (the first chunk holds the schema and channel): garbage over
    // the middle of its compressed records.
    assert_eq!(chunks.len(), 13, "{chunks:?}");
    let (at, len) = chunks[6];
    for b in &mut bytes[at + len / 2..at + len / 2 + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&bag, &bytes).unwrap();
    let out = dir.path().join("out.mcap");
    let report = dir.path().join("report");
    let run = common::masked_fer(&[
        "replay",
        bag.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "some frames are lost: {stderr}");
    assert!(
        stderr.contains(&format!("{len} bytes at offset {at} skipped")),
        "{stderr}"
    );
    let r = report_json(&report);
    assert_eq!(r["complete"], true, "read to the end of the bag: {r}");
    assert_eq!(r["frames"], 11, "the frames before and after the chunk");
    let skipped = r["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["offset"], at as u64);
    assert_eq!(skipped[0]["bytes"], len as u64);
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("Corrupt parts passed over"), "{md}");
    // The result bag is finished: one array per frame read, the 6th frame's stamp missing.
    let stamps = |path: &Path| -> Vec<(u64, u64)> {
        common::read_bag(path)
            .iter()
            .filter(|m| {
                m["type"] == "vision_msgs/msg/Detection2DArray"
                    || m["type"] == "sensor_msgs/msg/CompressedImage"
            })
            .map(|m| {
                let s = &m["msg"]["header"]["stamp"];
                (s["sec"].as_u64().unwrap(), s["nanosec"].as_u64().unwrap())
            })
            .collect()
    };
    let mut want = stamps(&common::data("demo_bag/demo_bag.mcap"));
    want.remove(5);
    assert_eq!(stamps(&out), want);
}

/// Start a replay of the demo bag with debug images (slow enough to be caught in inference),
/// wait for its first frame, send `signal`, and return its exit code and the output and report
/// paths.
fn interrupted(signal: &str, dir: &Path) -> (Option<i32>, String, PathBuf, PathBuf) {
    let out = dir.join("out.mcap");
    let report = dir.join("report");
    let child = Command::new(env!("CARGO_BIN_EXE_masked_fer"))
        .args(["replay", common::data("demo_bag").to_str().unwrap()])
        .args(["--rate", "1", "--annotate", "--output"])
        .args([&out, Path::new("--report"), &report])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // --rate 1 spreads the 12 frames over 11 s; a partial file appears at once, frames follow.
    let t0 = Instant::now();
    while std::fs::metadata(dir.join("out.mcap.partial")).map_or(0, |m| m.len()) < 100_000 {
        assert!(t0.elapsed() < Duration::from_secs(60), "no frame written");
        std::thread::sleep(Duration::from_millis(50));
    }
    let kill = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        out,
        report,
    )
}

#[test]
fn sigint_and_sigterm_stop_a_replay_with_a_report_and_no_finished_looking_output() {
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let dir = tempfile::tempdir().unwrap();
        let (status, stderr, out, report) = interrupted(signal, dir.path());
        assert_eq!(status, Some(code), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains(&format!("replay stopped: interrupted by SIG{signal}")),
            "{stderr}"
        );
        assert!(
            !out.exists(),
            "an interrupted output keeps its .partial name"
        );
        assert!(dir.path().join("out.mcap.partial").exists());
        let r = report_json(&report);
        assert_eq!(r["complete"], false);
        let frames = r["frames"].as_u64().unwrap();
        assert!((1..12).contains(&frames), "SIG{signal}: {frames} frames");
    }
}

#[test]
fn a_full_disk_under_the_output_is_a_clear_error_and_nothing_takes_the_final_name() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    let report = dir.path().join("report");
    std::fs::create_dir(&disk).unwrap();
    // A 256 KiB tmpfs in a private mount namespace (a debug image is 900 KB); what the disk
    // holds afterwards is listed before the namespace, and the disk with it, goes.
    let listing = dir.path().join("listing");
    let script = format!(
        "mount -t tmpfs -o size=256k none {disk} || exit 99; {bin} replay {bag} --annotate \
         --output {disk}/out.mcap --report {report}; rc=$?; ls {disk} > {listing}; exit $rc",
        disk = disk.display(),
        listing = listing.display(),
        bin = env!("CARGO_BIN_EXE_masked_fer"),
        bag = common::data("demo_bag").display(),
        report = report.display(),
    );
    let run = Command::new("unshare")
        .args(["-rm", "sh", "-c", &script])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("replay stopped") && stderr.contains("No space left on device"),
        "{stderr}"
    );
    let r = report_json(&report);
    assert_eq!(r["complete"], false);
    assert!(
        r["error"].as_str().unwrap().contains("out.mcap.partial"),
        "the error names the file: {r}"
    );
    let files = std::fs::read_to_string(&listing).unwrap();
    assert_eq!(files, "out.mcap.partial\n", "nothing under the final name");
}
