//! Stable face ids across frames of one camera, and per-track smoothing of expression
//! probabilities.
//!
//! Faces are matched to tracks greedily by IoU (best pairs first, IoU >= `min_iou`). As in
//! ROS4HRI's hri_face_detect, a track becomes visible (gets published) after `confirm_after`
//! consecutive detections and is retired after `retire_after` consecutive frames without one.
//! Probabilities are smoothed per track with an exponential moving average:
//! `p = smoothing * p_previous + (1 - smoothing) * p_new` (0 = off).

use serde::Serialize;

use crate::config::{ConfigError, Range};
use crate::perception::detect::{iou, BBox};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrackerConfig {
    pub min_iou: f32,
    pub confirm_after: u32,
    pub retire_after: u32,
    pub smoothing: f32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self {
            min_iou: 0.3,
            confirm_after: 2,
            retire_after: 5,
            smoothing: 0.5,
        }
    }
}

impl TrackerConfig {
    /// Accepted ranges (see [`Range`]).
    pub const MIN_IOU: Range = Range::Float(0.0, 0.99);
    pub const SMOOTHING: Range = Range::Float(0.0, 0.99);
    pub const CONFIRM_AFTER: Range = Range::Int(1, 100);
    pub const RETIRE_AFTER: Range = Range::Int(1, 1000);

    pub fn validate(&self) -> Result<(), ConfigError> {
        Self::MIN_IOU.check_f32("tracker.min_iou", self.min_iou)?;
        Self::SMOOTHING.check_f32("classifier.smoothing", self.smoothing)?;
        Self::CONFIRM_AFTER.check("tracker.confirm_after", f64::from(self.confirm_after))?;
        Self::RETIRE_AFTER.check("tracker.retire_after", f64::from(self.retire_after))
    }
}

/// A face's track after this frame.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedFace {
    /// Stable id (unique per tracker, never reused).
    pub id: u64,
    /// Whether the track has been seen often enough to be published.
    pub confirmed: bool,
    /// Smoothed probabilities (empty when the face has none).
    pub probabilities: Vec<f32>,
}

#[derive(Debug, Clone)]
struct Track {
    id: u64,
    bbox: BBox,
    hits: u32,
    misses: u32,
    confirmed: bool,
    probabilities: Vec<f32>,
}

#[derive(Debug, Clone, Default)]
pub struct Tracker {
    config: TrackerConfig,
    tracks: Vec<Track>,
    next_id: u64,
}

impl Tracker {
    pub fn new(config: TrackerConfig) -> Self {
        Self {
            config,
            tracks: Vec::new(),
            next_id: 1,
        }
    }

    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// New matching and smoothing settings, applied from the next frame; tracks are kept.
    pub fn set_config(&mut self, config: TrackerConfig) {
        self.config = config;
    }

    /// Forget every track (after a camera changes resolution); ids are never reused.
    pub fn clear(&mut self) {
        self.tracks.clear();
    }

    /// Ids of the confirmed tracks still alive (for `/humans/faces/tracked`).
    pub fn confirmed_ids(&self) -> Vec<u64> {
        self.tracks
            .iter()
            .filter(|t| t.confirmed)
            .map(|t| t.id)
            .collect()
    }

    /// The last box of every live track, and whether it was seen in the last frame (the faces
    /// to follow into the next one).
    pub fn followed(&self) -> Vec<(BBox, bool)> {
        self.tracks
            .iter()
            .map(|t| (t.bbox, t.misses == 0))
            .collect()
    }

    /// Update with one frame's faces (`boxes[i]` with `probabilities[i]`); returns one entry per
    /// face, in the same order.
    pub fn update(&mut self, boxes: &[BBox], probabilities: &[Vec<f32>]) -> Vec<TrackedFace> {
        // Greedy matching: all (track, face) pairs above the IoU floor, best first.
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (t, track) in self.tracks.iter().enumerate() {
            for (f, b) in boxes.iter().enumerate() {
                let v = iou(&track.bbox, b);
                if v >= self.config.min_iou {
                    pairs.push((v, t, f));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut face_track: Vec<Option<usize>> = vec![None; boxes.len()];
        let mut track_used = vec![false; self.tracks.len()];
        for (_, t, f) in pairs {
            if !track_used[t] && face_track[f].is_none() {
                track_used[t] = true;
                face_track[f] = Some(t);
            }
        }
        for (t, used) in track_used.iter().enumerate() {
            if !used {
                self.tracks[t].misses += 1;
                self.tracks[t].hits = 0;
            }
        }
        let a = self.config.smoothing;
        let mut out = Vec::with_capacity(boxes.len());
        for (f, b) in boxes.iter().enumerate() {
            let p_new = probabilities.get(f).cloned().unwrap_or_default();
            let t = match face_track[f] {
                Some(t) => {
                    let tr = &mut self.tracks[t];
                    tr.bbox = *b;
                    tr.hits += 1;
                    tr.misses = 0;
                    if tr.probabilities.len() == p_new.len() {
                        for (p, n) in tr.probabilities.iter_mut().zip(&p_new) {
                            *p = a * *p + (1.0 - a) * n;
                        }
                    } else {
                        tr.probabilities = p_new;
                    }
                    t
                }
                None => {
                    self.tracks.push(Track {
                        id: self.next_id,
                        bbox: *b,
                        hits: 1,
                        misses: 0,
                        confirmed: false,
                        probabilities: p_new,
                    });
                    self.next_id += 1;
                    self.tracks.len() - 1
                }
            };
            let tr = &mut self.tracks[t];
            tr.confirmed |= tr.hits >= self.config.confirm_after;
            out.push(TrackedFace {
                id: tr.id,
                confirmed: tr.confirmed,
                probabilities: tr.probabilities.clone(),
            });
        }
        let retire = self.config.retire_after;
        self.tracks.retain(|t| t.misses < retire);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32) -> BBox {
        BBox {
            x0: x,
            y0: 10.0,
            x1: x + 40.0,
            y1: 60.0,
        }
    }

    #[test]
    fn ids_follow_moving_faces_and_confirm_after_n_frames() {
        let mut t = Tracker::new(TrackerConfig {
            smoothing: 0.0,
            ..Default::default()
        });
        let f1 = t.update(&[b(0.0), b(200.0)], &[vec![], vec![]]);
        assert_eq!((f1[0].id, f1[1].id), (1, 2));
        assert!(!f1[0].confirmed);
        assert!(t.confirmed_ids().is_empty());
        // Order swapped and moved a little: same ids, now confirmed.
        let f2 = t.update(&[b(205.0), b(4.0)], &[vec![], vec![]]);
        assert_eq!((f2[0].id, f2[1].id), (2, 1));
        assert!(f2[0].confirmed && f2[1].confirmed);
        assert_eq!(t.confirmed_ids(), vec![1, 2]);
    }

    #[test]
    fn tracks_retire_after_m_misses_and_ids_are_not_reused() {
        let cfg = TrackerConfig {
            retire_after: 3,
            smoothing: 0.0,
            ..Default::default()
        };
        let mut t = Tracker::new(cfg);
        t.update(&[b(0.0)], &[vec![]]);
        t.update(&[b(0.0)], &[vec![]]);
        for _ in 0..2 {
            t.update(&[], &[]);
            assert_eq!(t.confirmed_ids(), vec![1]);
        }
        t.update(&[], &[]);
        assert!(t.confirmed_ids().is_empty());
        assert_eq!(t.update(&[b(0.0)], &[vec![]])[0].id, 2);
    }

    #[test]
    fn probabilities_are_smoothed_per_track() {
        let mut t = Tracker::new(TrackerConfig {
            smoothing: 0.5,
            ..Default::default()
        });
        t.update(&[b(0.0)], &[vec![1.0, 0.0]]);
        let f = t.update(&[b(1.0)], &[vec![0.0, 1.0]]);
        assert_eq!(f[0].probabilities, vec![0.5, 0.5]);
        let f = t.update(&[b(2.0)], &[vec![0.0, 1.0]]);
        assert_eq!(f[0].probabilities, vec![0.25, 0.75]);
        assert!(TrackerConfig {
            smoothing: 1.0,
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
