//! Ground-truth expression labels for replay evaluation, from a small CSV file.
//!
//! Format: a header row naming the columns, then one row per labelled face; `#` lines and
//! blank lines are skipped, fields are plain (no quoting).
//! - `frame` (0-based index among the replayed frames of the topic) or `stamp` (the image header
//!   stamp: integer nanoseconds or `sec.nanosec`): which frame;
//! - `topic` (optional; needed when several topics are replayed);
//! - `x0,y0,x1,y1` (optional): the face box in pixels; without it the label is for the largest face;
//! - `expression`: a FER name (angry, disgust, fear, happy, neutral, sad, surprise) or the ROS4HRI
//!   word (disgusted, scared, surprised).
//!
//! A label matches the detected face that overlaps its box most (IoU >= 0.5); a label with no
//! matching face counts as wrong, in the "no face" column of the confusion matrix.

use serde::Serialize;

use crate::io::replay::FrameRecord;
use crate::perception::detect::{iou, BBox};
use crate::tracking::expression::fer_name;

/// Why a labels file cannot be read: the line (1-based; 0 for the file as a whole) and what.
#[derive(Debug, Clone, thiserror::Error)]
#[error("labels line {line}: {what}")]
pub struct LabelsError {
    pub line: usize,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum When {
    Frame(usize),
    Stamp(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub topic: Option<String>,
    pub when: When,
    pub bbox: Option<BBox>,
    pub expression: String,
}

/// `sec.nanosec` (digits after the point, nanoseconds past the ninth dropped) or integer
/// nanoseconds; `None` for anything else, a stamp past i64 nanoseconds included (fuzzing found
/// the overflow).
fn parse_stamp(s: &str) -> Option<i64> {
    match s.split_once('.') {
        Some((sec, ns)) => {
            if !ns.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let frac: i64 = format!("{ns:0<9}").get(..9)?.parse().ok()?;
            sec.parse::<i64>()
                .ok()?
                .checked_mul(1_000_000_000)?
                .checked_add(frac)
        }
        None => s.parse().ok(),
    }
}

/// Parse the CSV text; errors name the line.
pub fn parse(text: &str, classes: &[String]) -> Result<Vec<Label>, LabelsError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let whole = |what: &str| LabelsError {
        line: 0,
        what: what.into(),
    };
    let (_, header) = lines.next().ok_or_else(|| whole("labels file is empty"))?;
    let cols: Vec<String> = header
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let col = |name: &str| cols.iter().position(|c| c == name);
    let expr_col =
        col("expression").ok_or_else(|| whole("labels header has no `expression` column"))?;
    let (frame_col, stamp_col, topic_col) = (col("frame"), col("stamp"), col("topic"));
    if frame_col.is_none() && stamp_col.is_none() {
        return Err(whole("labels header needs a `frame` or a `stamp` column"));
    }
    let box_cols = match (col("x0"), col("y0"), col("x1"), col("y1")) {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    };
    let mut out = Vec::new();
    for (n, line) in lines {
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let bad = |what: &str| LabelsError {
            line: n + 1,
            what: what.into(),
        };
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let when = match (
            frame_col.map(get).filter(|s| !s.is_empty()),
            stamp_col.map(get).filter(|s| !s.is_empty()),
        ) {
            (Some(fr), _) => When::Frame(fr.parse().map_err(|_| bad("bad frame index"))?),
            (None, Some(st)) => When::Stamp(parse_stamp(st).ok_or_else(|| bad("bad stamp"))?),
            _ => return Err(bad("no frame or stamp")),
        };
        let bbox = match box_cols {
            Some(c) if c.iter().all(|&i| !get(i).is_empty()) => {
                let v: Vec<f32> = c
                    .iter()
                    .map(|&i| get(i).parse::<f32>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad("bad box"))?;
                Some(BBox {
                    x0: v[0],
                    y0: v[1],
                    x1: v[2],
                    y1: v[3],
                })
            }
            _ => None,
        };
        let expression = fer_name(get(expr_col));
        if !classes.contains(&expression) {
            return Err(bad(&format!(
                "unknown expression {:?} (classes: {})",
                get(expr_col),
                classes.join(", ")
            )));
        }
        out.push(Label {
            topic: topic_col
                .map(get)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            when,
            bbox,
            expression,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct LabelScore {
    pub labels: usize,
    pub correct: usize,
    pub no_face: usize,
    pub accuracy: f64,
    /// Per class: recall among its labels (None when the class has no label).
    pub recall: Vec<(String, Option<f64>)>,
    /// rows: true class; columns: predicted class, then "no face" (replay: labels without a
    /// detected face; absent when scoring ready-cropped faces).
    pub confusion: Vec<Vec<usize>>,
}

/// Score `labels` against replayed frames.
pub fn score(labels: &[Label], records: &[FrameRecord], classes: &[String]) -> LabelScore {
    let k = classes.len();
    let mut confusion = vec![vec![0usize; k + 1]; k];
    for l in labels {
        let mut frames = records
            .iter()
            .filter(|r| l.topic.as_ref().is_none_or(|t| *t == r.topic));
        let frame = match l.when {
            When::Frame(i) => frames.nth(i),
            When::Stamp(s) => frames.find(|r| r.stamp_ns == s),
        };
        let face = frame.and_then(|r| match &l.bbox {
            Some(b) => r
                .expressions
                .iter()
                .map(|f| (iou(b, &f.bbox), f))
                .filter(|(v, _)| *v >= 0.5)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, f)| f),
            None => r
                .expressions
                .iter()
                .max_by(|a, b| a.bbox.area().total_cmp(&b.bbox.area())),
        });
        let truth = classes.iter().position(|c| *c == l.expression).unwrap_or(0);
        let predicted = face
            .and_then(|f| classes.iter().position(|c| *c == f.expression))
            .unwrap_or(k);
        confusion[truth][predicted] += 1;
    }
    LabelScore::from_confusion(confusion, classes)
}

impl LabelScore {
    /// Accuracy and per-class recall from a confusion matrix: rows true classes, columns
    /// predicted classes, optionally followed by a "no face" column.
    pub fn from_confusion(confusion: Vec<Vec<usize>>, classes: &[String]) -> Self {
        let k = classes.len();
        let labels: usize = confusion.iter().flatten().sum();
        let correct = (0..k).map(|i| confusion[i][i]).sum();
        let no_face = confusion.iter().filter_map(|row| row.get(k)).sum();
        let recall = classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let n: usize = confusion[i].iter().sum();
                (
                    c.clone(),
                    (n > 0).then(|| confusion[i][i] as f64 / n as f64),
                )
            })
            .collect();
        LabelScore {
            labels,
            correct,
            no_face,
            accuracy: if labels == 0 {
                0.0
            } else {
                correct as f64 / labels as f64
            },
            recall,
            confusion,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::replay::FaceRecord;

    fn classes() -> Vec<String> {
        [
            "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise",
        ]
        .map(String::from)
        .to_vec()
    }

    fn rec(stamp: i64, faces: &[(f32, &str)]) -> FrameRecord {
        FrameRecord {
            topic: "/cam".into(),
            stamp_ns: stamp,
            faces: faces.len(),
            error: None,
            decode_ms: 0.0,
            detect_ms: 0.0,
            classify_ms: 0.0,
            dropped: false,
            latency_ms: None,
            expressions: faces
                .iter()
                .enumerate()
                .map(|(i, &(x, e))| FaceRecord {
                    track: i as u64,
                    bbox: BBox {
                        x0: x,
                        y0: 0.0,
                        x1: x + 50.0 + i as f32 * 10.0,
                        y1: 50.0,
                    },
                    expression: e.into(),
                    confidence: 0.9,
                })
                .collect(),
        }
    }

    #[test]
    fn parses_and_scores_labels() {
        let csv = "# test\nframe,stamp,x0,y0,x1,y1,expression\n0,,0,0,50,50,happy\n,1.000000002,,,,,scared\n1,,300,0,350,50,sad\n";
        let labels = parse(csv, &classes()).unwrap();
        assert_eq!(labels[1].when, When::Stamp(1_000_000_002));
        assert_eq!(labels[1].expression, "fear");
        let records = vec![
            rec(5, &[(0.0, "happy"), (100.0, "sad")]),
            rec(1_000_000_002, &[(0.0, "neutral"), (100.0, "fear")]),
        ];
        let s = score(&labels, &records, &classes());
        // happy right; the larger face of frame 2 (fear) right; the sad label's box has no face.
        assert_eq!((s.labels, s.correct, s.no_face), (3, 2, 1));
        assert!((s.accuracy - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.confusion[5][7], 1);
        assert_eq!(s.recall[3], ("happy".to_string(), Some(1.0)));
        assert_eq!(s.recall[0].1, None);
    }

    #[test]
    fn bad_label_files_name_the_line() {
        assert!(parse("frame,expression\n0,joyful\n", &classes())
            .unwrap_err()
            .to_string()
            .contains("line 2"));
        assert!(parse("x,expression\n0,happy\n", &classes()).is_err());
        assert!(parse("frame,expression\nzero,happy\n", &classes())
            .unwrap_err()
            .to_string()
            .contains("frame"));
        assert!(parse("", &classes()).is_err());
        // Found by fuzzing (fuzz/artifacts, labels_csv): seconds past i64 nanoseconds overflowed.
        for stamp in ["10010000000000.0", "9223372036.854775808", "1.-5", "1.5e3"] {
            let e = parse(&format!("stamp,expression\n{stamp},happy\n"), &classes());
            assert!(e.unwrap_err().to_string().contains("line 2"), "{stamp}");
        }
        assert_eq!(parse_stamp("9223372036.854775807"), Some(i64::MAX));
    }
}
