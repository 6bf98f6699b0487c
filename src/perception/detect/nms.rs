//! Non-maximum suppression: greedy (RetinaFace) and score-weighted (MediaPipe BlazeFace).

use super::{BBox, Detection};

pub fn iou(a: &BBox, b: &BBox) -> f32 {
    let inter = BBox {
        x0: a.x0.max(b.x0),
        y0: a.y0.max(b.y0),
        x1: a.x1.min(b.x1),
        y1: a.y1.min(b.y1),
    }
    .area();
    let union = a.area() + b.area() - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

fn by_score_desc(faces: &mut [Detection]) {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
}

/// Keep the best box, drop every box overlapping it by more than `threshold`, repeat.
pub fn greedy(mut faces: Vec<Detection>, threshold: f32) -> Vec<Detection> {
    by_score_desc(&mut faces);
    let mut kept: Vec<Detection> = Vec::new();
    for f in faces {
        if kept.iter().all(|k| iou(&k.bbox, &f.bbox) <= threshold) {
            kept.push(f);
        }
    }
    kept
}

/// MediaPipe's weighted NMS: each cluster of boxes overlapping the best remaining box by more
/// than `threshold` is replaced by the score-weighted mean of its boxes and landmarks, with the
/// best box's score.
pub fn weighted(mut faces: Vec<Detection>, threshold: f32) -> Vec<Detection> {
    by_score_desc(&mut faces);
    let mut out = Vec::new();
    while !faces.is_empty() {
        let top = faces.remove(0);
        let (mut cluster, rest): (Vec<Detection>, Vec<Detection>) = faces
            .into_iter()
            .partition(|f| iou(&top.bbox, &f.bbox) > threshold);
        faces = rest;
        cluster.insert(0, top);
        let total: f32 = cluster.iter().map(|f| f.score).sum();
        let mut merged = Detection {
            bbox: BBox {
                x0: 0.0,
                y0: 0.0,
                x1: 0.0,
                y1: 0.0,
            },
            score: cluster[0].score,
            landmarks: [[0.0; 2]; 5],
        };
        for f in &cluster {
            let w = f.score / total;
            merged.bbox.x0 += f.bbox.x0 * w;
            merged.bbox.y0 += f.bbox.y0 * w;
            merged.bbox.x1 += f.bbox.x1 * w;
            merged.bbox.y1 += f.bbox.y1 * w;
            for (m, p) in merged.landmarks.iter_mut().zip(&f.landmarks) {
                m[0] += p[0] * w;
                m[1] += p[1] * w;
            }
        }
        out.push(merged);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x0: f32, y0: f32, x1: f32, y1: f32, score: f32) -> Detection {
        Detection {
            bbox: BBox { x0, y0, x1, y1 },
            score,
            landmarks: [[x0, y0]; 5],
        }
    }

    #[test]
    fn iou_of_known_boxes() {
        let a = BBox {
            x0: 0.0,
            y0: 0.0,
            x1: 10.0,
            y1: 10.0,
        };
        let b = BBox {
            x0: 5.0,
            y0: 0.0,
            x1: 15.0,
            y1: 10.0,
        };
        assert!((iou(&a, &b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(
            iou(
                &a,
                &BBox {
                    x0: 20.0,
                    y0: 20.0,
                    x1: 30.0,
                    y1: 30.0
                }
            ),
            0.0
        );
        assert!((iou(&a, &a) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn greedy_keeps_best_of_overlaps_and_separate_faces() {
        let out = greedy(
            vec![
                det(0., 0., 10., 10., 0.7),
                det(1., 1., 11., 11., 0.9),
                det(50., 50., 60., 60., 0.8),
            ],
            0.4,
        );
        let scores: Vec<f32> = out.iter().map(|d| d.score).collect();
        assert_eq!(scores, vec![0.9, 0.8]);
    }

    #[test]
    fn weighted_averages_a_cluster() {
        let out = weighted(
            vec![
                det(0., 0., 10., 10., 0.75),
                det(2., 0., 12., 10., 0.25),
                det(40., 40., 50., 50., 0.5),
            ],
            0.3,
        );
        assert_eq!(out.len(), 2);
        assert!((out[0].bbox.x0 - 0.5).abs() < 1e-5, "{:?}", out[0].bbox);
        assert_eq!(out[0].score, 0.75);
        assert!((out[0].landmarks[0][0] - 0.5).abs() < 1e-5);
    }
}
