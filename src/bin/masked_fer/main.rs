//! `masked_fer`: the command-line face + expression tool.

mod bench;
mod detect_cmd;
mod eval_classifier_cmd;
mod eval_detector_cmd;
mod options;
mod replay_cmd;

use anyhow::Result;
use clap::{Parser, Subcommand};
use masked_fer::alloc_count::CountingAlloc;

/// Counts allocations so `bench` can report the heap traffic per frame.
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Find faces in images and classify each face's expression, masked or not.
///
/// Models and ONNX Runtime are found automatically (see --models-dir and --ort-lib); run
/// `make setup` once in a fresh clone to fetch ONNX Runtime.
#[derive(Parser)]
#[command(
    name = "masked_fer",
    version,
    about,
    long_about,
    propagate_version = true
)]
struct Cli {
    #[command(flatten)]
    global: options::Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Detect faces and classify expressions in image files (JPEG or PNG).
    Detect(detect_cmd::Args),
    /// Score a detector against Pascal VOC face boxes (recall by size, precision, ms/image).
    EvalDetector(eval_detector_cmd::Args),
    /// Score the expression classifier on labelled face crops, one folder per class (FER2013's
    /// layout): accuracy, per-class recall, confusion matrix.
    EvalClassifier(eval_classifier_cmd::Args),
    /// Run every camera frame of a rosbag2 bag (MCAP or sqlite3) through the pipeline; write
    /// a result bag and a report.
    Replay(replay_cmd::Args),
    /// Measure classification and integrated (decode + detect + classify) speed of every
    /// expression model and both detectors on bundled photos: the paper's Table 2 on this
    /// machine, as Markdown (and --json, --report DIR with a chart).
    Bench(bench::Args),
}

fn main() {
    // Die quietly on a closed pipe (`masked_fer detect ... | head`), as command-line tools do,
    // instead of panicking on the next print.
    // SAFETY: called before any other thread exists; restores the default disposition.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or(if cli.global.verbose {
            "info"
        } else {
            "warn"
        }),
    )
    .init();
    let result: Result<i32> = match cli.command {
        Command::Detect(args) => detect_cmd::run(&cli.global, args),
        Command::EvalDetector(args) => eval_detector_cmd::run(&cli.global, args),
        Command::EvalClassifier(args) => eval_classifier_cmd::run(&cli.global, args),
        Command::Replay(args) => replay_cmd::run(&cli.global, args),
        Command::Bench(args) => bench::run(&cli.global, args),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // One line that names the culprit (anyhow's context chain, outermost first).
            eprintln!("masked_fer: {e:#}");
            std::process::exit(2);
        }
    }
}
