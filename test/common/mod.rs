//! Helpers shared by the integration tests: run the real `masked_fer` binary.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A data set that is not ours to redistribute (FER2013), found in `$MASKED_FER_DATASETS`
/// (default `../shared/datasets` beside the checkout) and checked to hold `must_hold`. Absent,
/// the calling test says it is skipped, naming itself and the reason, and gets `None`.
pub fn outside_dataset(test: &str, name: &str, must_hold: &str) -> Option<PathBuf> {
    let root = std::env::var_os("MASKED_FER_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/datasets"));
    let dir = root.join(name);
    if dir.join(must_hold).exists() {
        return Some(dir);
    }
    // Straight to the process's stderr: the test harness captures eprintln! of passing tests,
    // and a skip must be seen in `make test`.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: data set {name} not found ({} is missing; set MASKED_FER_DATASETS to \
         the folder that holds {name}/)",
        dir.join(must_hold).display()
    );
    None
}

pub fn data(rel: &str) -> PathBuf {
    repo().join("test/data").join(rel)
}

pub fn demo_images() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data("images"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jpg"))
        .collect();
    v.sort();
    v
}

pub fn masked_fer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_masked_fer"))
        .args(args)
        .output()
        .expect("masked_fer runs")
}

pub fn masked_fer_paths(args: &[&str], paths: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_masked_fer"))
        .args(args)
        .args(paths)
        .output()
        .expect("masked_fer runs")
}

pub fn stdout_json_lines(out: &Output) -> Vec<serde_json::Value> {
    assert!(
        out.status.success(),
        "masked_fer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

pub fn file_name(p: &str) -> String {
    Path::new(p)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Run the test peers' Python (`.venv-test`, made by `make setup-test`) with `args`; its stdout.
pub fn peer_python<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let python = repo().join(".venv-test/bin/python");
    assert!(
        python.exists(),
        "{} missing: run `make setup-test`",
        python.display()
    );
    let out = Command::new(python)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Write the rosbags fixture bags (test/peers/make_bags.py) into `dir`; returns expected.json.
pub fn make_bags(dir: &Path) -> serde_json::Value {
    peer_python(&[
        repo().join("test/peers/make_bags.py").as_os_str(),
        dir.as_os_str(),
    ]);
    serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap()
}

/// Every message of a bag as PyPI rosbags reads it (test/peers/read_bag.py).
pub fn read_bag(path: &Path) -> Vec<serde_json::Value> {
    peer_python(&[
        repo().join("test/peers/read_bag.py").as_os_str(),
        path.as_os_str(),
    ])
    .lines()
    .map(|l| serde_json::from_str(l).expect("JSON line"))
    .collect()
}

/// Messages (topic, ROS type, receive time, CDR bytes as given) written to an MCAP file by the
/// `mcap` crate, in chunks of at most `chunk_size` bytes (one message per chunk when small).
pub fn write_mcap(
    path: &Path,
    chunk_size: Option<u64>,
    messages: &[masked_fer::io::bag::BagMessage],
) {
    let mut w = mcap::WriteOptions::new()
        .chunk_size(chunk_size)
        .create(std::io::BufWriter::new(
            std::fs::File::create(path).unwrap(),
        ))
        .unwrap();
    let mut channels = std::collections::BTreeMap::new();
    for (sequence, m) in (0u32..).zip(messages) {
        let id = *channels.entry(m.topic.clone()).or_insert_with(|| {
            let schema = w.add_schema(&m.type_name, "ros2msg", b"").unwrap();
            w.add_channel(schema, &m.topic, "cdr", &std::collections::BTreeMap::new())
                .unwrap()
        });
        let header = mcap::records::MessageHeader {
            channel_id: id,
            sequence,
            log_time: m.log_time,
            publish_time: m.log_time,
        };
        w.write_to_known_channel(&header, &m.data).unwrap();
    }
    w.finish().unwrap();
}

/// Exit code, stderr and peak resident memory (KiB, from the kernel's rusage of this child
/// alone) of a command run to its end.
#[allow(clippy::zombie_processes)] // reaped by wait4, which also gives its rusage
pub fn peak_rss(cmd: &mut Command) -> (Option<i32>, String, u64) {
    use std::io::Read;
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills; the pid is our own unwaited child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32, "wait4");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, reader.join().unwrap(), usage.ru_maxrss as u64)
}
