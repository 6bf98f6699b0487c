//! `masked_fer replay BAG`: run recorded camera frames through the pipeline, write a result bag
//! and a report.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use masked_fer::io::bag::{Bag, BagError, BagWriter};
use masked_fer::io::replay::{image_topics, replay, summarise, FrameRecord, ReplayOptions};
use masked_fer::report::{labels, plot};
use serde_json::json;
use std::collections::BTreeMap;

use crate::options::{Global, ModelArgs};

#[derive(ClapArgs)]
pub struct Args {
    /// rosbag2 bag: a directory (MCAP or sqlite3 storage, with or without metadata.yaml) or a
    /// single .mcap / .db3 file.
    #[arg(value_name = "BAG")]
    bag: PathBuf,
    /// Image topic to replay (sensor_msgs/Image or CompressedImage); repeat for several
    /// [default: every image topic in the bag].
    #[arg(long, value_name = "TOPIC")]
    topic: Vec<String>,
    /// Only list the bag's topics and exit.
    #[arg(long)]
    list: bool,
    /// Write results to this MCAP bag: /masked_fer/detections (vision_msgs/Detection2DArray, one
    /// per input frame, stamped like the image) and /humans/faces/<id>/expression (hri_msgs).
    #[arg(long, value_name = "OUT.mcap")]
    output: Option<PathBuf>,
    /// Write report.json and report.md (frames, faces, failures, per-stage latency, expressions,
    /// tracks) into DIR.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Also write every frame with boxes, landmarks and labels drawn to the output bag
    /// (/masked_fer/debug_image, sensor_msgs/Image rgb8).
    #[arg(long, requires = "output")]
    annotate: bool,
    /// Feed frames at their recorded receive times, R x real time (1 = as recorded), and drop
    /// what a live node would (a frame superseded by a newer one while the node was busy):
    /// the report then has latency from arrival to result, and dropped frames
    /// [default: as fast as possible, every frame processed].
    #[arg(long, value_name = "R", value_parser = parse_rate)]
    rate: Option<f64>,
    /// Ground-truth expressions (CSV; header `frame` or `stamp`, optional `topic` and
    /// `x0,y0,x1,y1`, then `expression`): adds accuracy, per-class recall and a confusion
    /// matrix to the report.
    #[arg(long, value_name = "LABELS.csv", requires = "report")]
    labels: Option<PathBuf>,
    #[command(flatten)]
    models: ModelArgs,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 1000.0 => Ok(r),
        _ => Err(format!("{s:?} is not a rate within (0, 1000]")),
    }
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    let bag = Bag::open(&args.bag)?;
    let topics = bag.topics()?;
    let images = image_topics(&topics);
    eprintln!(
        "{} ({} storage): image topics",
        args.bag.display(),
        bag.storage()
    );
    for t in &images {
        eprintln!("  {}  {}  {} messages", t.name, t.type_name, t.count);
    }
    if args.list {
        for t in topics
            .iter()
            .filter(|t| !images.iter().any(|i| i.name == t.name))
        {
            eprintln!(
                "  (other) {}  {}  {} messages",
                t.name, t.type_name, t.count
            );
        }
        return Ok(0);
    }
    for t in &args.topic {
        let found = topics
            .iter()
            .find(|x| &x.name == t)
            .with_context(|| format!("topic {t} is not in the bag"))?;
        anyhow::ensure!(
            images.iter().any(|i| i.name == *t),
            "topic {t} has type {}, not an image",
            found.type_name
        );
    }
    let selected: Vec<String> = if args.topic.is_empty() {
        images.iter().map(|t| t.name.clone()).collect()
    } else {
        args.topic.clone()
    };
    anyhow::ensure!(
        !selected.is_empty(),
        "{} has no image topics (sensor_msgs/msg/Image or CompressedImage)",
        args.bag.display()
    );
    let total: u64 = images
        .iter()
        .filter(|t| selected.contains(&t.name))
        .map(|t| t.count)
        .sum();
    let mut pipeline = args.models.pipeline(global)?;
    let truth = match &args.labels {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Some(labels::parse(&text, pipeline.labels()).with_context(|| p.display().to_string())?)
        }
        None => None,
    };
    let mut writer = args.output.as_deref().map(BagWriter::create).transpose()?;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} frames  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let t0 = Instant::now();
    let selected_names = selected.clone();
    let options = ReplayOptions {
        topics: selected,
        tracker: global.node_params()?.tracker,
        annotate: args.annotate,
        rate: args.rate,
    };
    // SIGINT or SIGTERM stops the replay after the frame in progress; what was done is reported
    // as interrupted, and the output bag stays <name>.partial.
    let signal = Signal::watch()?;
    let (records, outcome) = replay(&bag, &options, &mut pipeline, writer.as_mut(), |_, _| {
        bar.inc(1);
        signal
            .received()
            .map_or(ControlFlow::Continue(()), |_| ControlFlow::Break(()))
    });
    bar.finish_and_clear();
    let elapsed = t0.elapsed().as_secs_f64();
    // A bag that breaks part-way still gets a report, marked incomplete; the output bag is then
    // left as <name>.partial, never under its final name.
    let summary = summarise(&records);
    let frames: usize = summary.values().map(|s| s.frames).sum();
    let (skipped, stopped) = match outcome {
        Ok(skipped) => (skipped, None),
        Err(BagError::Stopped) => (
            Vec::new(),
            signal
                .received()
                .map(|(_, name)| format!("interrupted by {name}")),
        ),
        Err(e) => (Vec::new(), Some(masked_fer::chain(&e))),
    };
    for s in &skipped {
        eprintln!("masked_fer: corrupt part of the bag passed over: {s}");
    }
    // A bag whose image topics hold no message is reported as such, not as a clean empty run.
    let incomplete = stopped.or_else(|| {
        (frames == 0).then(|| format!("no image messages on {}", selected_names.join(", ")))
    });
    if incomplete.is_none() {
        if let Some(w) = writer {
            let path = w.finish()?;
            eprintln!("results: {}", path.display());
        }
    }
    if let Some(dir) = &args.report {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let label_score = truth
            .as_ref()
            .map(|t| labels::score(t, &records, pipeline.labels()));
        if let Some(sc) = &label_score {
            plot::confusion_matrix(
                &sc.confusion,
                pipeline.labels(),
                &format!(
                    "labelled faces: accuracy {:.3} ({} / {})",
                    sc.accuracy, sc.correct, sc.labels
                ),
                &dir.join("confusion.png"),
            )?;
        }
        let report = json!({
            "labels": label_score,
            "bag": args.bag.display().to_string(),
            "storage": bag.storage(),
            "complete": incomplete.is_none(),
            "error": incomplete,
            "skipped": skipped,
            "frames": frames,
            "seconds": elapsed,
            "frames_per_second": frames as f64 / elapsed.max(1e-9),
            "rate": args.rate,
            "models": pipeline.model_files(),
            "topics": summary,
        });
        std::fs::write(
            dir.join("report.json"),
            serde_json::to_string_pretty(&report)?,
        )?;
        let plots = plots(dir, &records, pipeline.labels())?;
        std::fs::write(
            dir.join("report.md"),
            markdown(&args.bag.display().to_string(), &report, &plots),
        )?;
        eprintln!("report: {}", dir.join("report.md").display());
    }
    eprintln!(
        "{frames} frames in {elapsed:.2} s ({:.1} frames/s)",
        frames as f64 / elapsed.max(1e-9)
    );
    if let Some(e) = incomplete {
        eprintln!("masked_fer: replay stopped: {e}");
        // A shell's convention for a signal (130 on SIGINT, 143 on SIGTERM); 1 otherwise.
        return Ok(signal.received().map_or(1, |(sig, _)| 128 + sig));
    }
    Ok(if skipped.is_empty() { 0 } else { 1 })
}

/// SIGINT and SIGTERM, noted (the last to arrive) instead of ending the process.
struct Signal(Arc<AtomicUsize>);

impl Signal {
    fn watch() -> Result<Self> {
        let flag = Arc::new(AtomicUsize::new(0));
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register_usize(sig, flag.clone(), sig as usize)
                .with_context(|| format!("installing a handler for signal {sig}"))?;
        }
        Ok(Self(flag))
    }

    /// The signal that arrived, if one did: its number and name.
    fn received(&self) -> Option<(i32, &'static str)> {
        let sig = self.0.load(Ordering::Relaxed) as i32;
        (sig != 0).then(|| {
            let name = signal_hook::low_level::signal_name(sig).unwrap_or("a signal");
            (sig, name)
        })
    }
}

/// Latency histogram and class distribution over all topics, expression timeline per topic.
/// Returns the file names written, for the Markdown report.
fn plots(
    dir: &std::path::Path,
    records: &[FrameRecord],
    labels: &[String],
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let ok: Vec<&FrameRecord> = records.iter().filter(|r| r.error.is_none()).collect();
    let latency: Vec<f64> = ok
        .iter()
        .map(|r| r.decode_ms + r.detect_ms + r.classify_ms)
        .collect();
    plot::latency_histogram(
        &latency,
        "processing time per frame",
        &dir.join("latency.png"),
    )?;
    out.push((
        "Processing time per frame".to_string(),
        "latency.png".to_string(),
    ));
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for f in ok.iter().flat_map(|r| &r.expressions) {
        *counts.entry(f.expression.clone()).or_default() += 1;
    }
    plot::class_distribution(
        &counts,
        labels,
        "expressions (best class per face)",
        &dir.join("classes.png"),
    )?;
    out.push(("Expressions".to_string(), "classes.png".to_string()));
    let topics: Vec<String> = ok
        .iter()
        .map(|r| r.topic.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for (k, topic) in topics.iter().enumerate() {
        let frames: Vec<&&FrameRecord> = ok.iter().filter(|r| &r.topic == topic).collect();
        let t0 = frames.iter().map(|r| r.stamp_ns).min().unwrap_or(0);
        let mut tracks: BTreeMap<u64, Vec<(f64, usize)>> = BTreeMap::new();
        for r in &frames {
            for f in &r.expressions {
                if let Some(c) = labels.iter().position(|l| *l == f.expression) {
                    tracks
                        .entry(f.track)
                        .or_default()
                        .push(((r.stamp_ns - t0) as f64 / 1e9, c));
                }
            }
        }
        let name = format!("timeline_{k}.png");
        plot::expression_timeline(
            &tracks,
            labels,
            &format!("expression per track, {topic}"),
            &dir.join(&name),
        )?;
        out.push((format!("Expression timeline, {topic}"), name));
    }
    Ok(out)
}

fn markdown(bag: &str, r: &serde_json::Value, plots: &[(String, String)]) -> String {
    let mut s = format!("# Replay of `{bag}`\n\n");
    if r["complete"] == false {
        s += &format!(
            "**Incomplete:** {}\n\n",
            r["error"].as_str().unwrap_or_default()
        );
    }
    let skipped = r["skipped"].as_array().cloned().unwrap_or_default();
    if !skipped.is_empty() {
        s += "**Corrupt parts passed over** (their frames are lost; the frames before and after were replayed):\n\n";
        for k in &skipped {
            s += &format!(
                "- `{}`: {} bytes at offset {}: {}\n",
                k["file"].as_str().unwrap_or_default(),
                k["bytes"],
                k["offset"],
                k["reason"].as_str().unwrap_or_default()
            );
        }
        s += "\n";
    }
    s += &format!(
        "{} frames in {:.2} s ({:.1} frames/s).\n\n",
        r["frames"],
        r["seconds"].as_f64().unwrap_or(0.0),
        r["frames_per_second"].as_f64().unwrap_or(0.0)
    );
    s += "| topic | frames | with faces | faces | failed | dropped | total ms p50 / p95 / max | detect ms p50 | classify ms p50 | latency ms p50 / p95 (with --rate) |\n|---|---|---|---|---|---|---|---|---|---|\n";
    let topics = r["topics"].as_object().cloned().unwrap_or_default();
    for (name, t) in &topics {
        let p = |k: &str, q: &str| t[k][q].as_f64().unwrap_or(0.0);
        let latency = if r["rate"].is_null() {
            "-".to_string()
        } else {
            format!(
                "{:.1} / {:.1}",
                p("latency_ms", "p50"),
                p("latency_ms", "p95")
            )
        };
        s += &format!(
            "| {name} | {} | {} | {} | {} | {} | {:.1} / {:.1} / {:.1} | {:.1} | {:.1} | {} |\n",
            t["frames"],
            t["frames_with_faces"],
            t["faces"],
            t["failed"],
            t["dropped"],
            p("total_ms", "p50"),
            p("total_ms", "p95"),
            p("total_ms", "max"),
            p("detect_ms", "p50"),
            p("classify_ms", "p50"),
            latency
        );
    }
    if let Some(l) = r["labels"].as_object() {
        s += &format!(
            "\n## Against the labels\n\nAccuracy {:.3} ({} of {} labelled faces; {} not detected).\n\n| class | recall |\n|---|---|\n",
            l["accuracy"].as_f64().unwrap_or(0.0), l["correct"], l["labels"], l["no_face"]
        );
        for rc in l["recall"].as_array().into_iter().flatten() {
            let v = rc[1]
                .as_f64()
                .map_or("-".to_string(), |v| format!("{v:.3}"));
            s += &format!("| {} | {v} |\n", rc[0].as_str().unwrap_or_default());
        }
        s += "\n![Confusion matrix](confusion.png)\n";
    }
    for (title, file) in plots {
        s += &format!("\n![{title}]({file})\n");
    }
    for (name, t) in &topics {
        s += &format!("\n## {name}\n\nExpressions (best class per face): ");
        let ex: Vec<String> = t["expressions"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| format!("{k} {v}")).collect())
            .unwrap_or_default();
        s += &(if ex.is_empty() {
            "none".to_string()
        } else {
            ex.join(", ")
        } + "\n");
        if let Some(f) = t["failures"].as_array().filter(|f| !f.is_empty()) {
            s += "\nFrames that could not be processed:\n\n";
            for x in f {
                s += &format!(
                    "- stamp {} ns: {}\n",
                    x[0],
                    x[1].as_str().unwrap_or_default()
                );
            }
        }
    }
    s
}
