//! When a camera's frames go through the full-frame detector, and where to look in between
//! (decision 12): a keyframe every `interval` frames; in between, the detector looks only at a
//! square region around the last box of each live track (also one the detector missed in recent
//! frames, until the tracker retires it). When a face seen in the previous frame is not found in
//! its region (it moved out, turned away, was occluded or left), the same frame goes through the
//! full detector after all, so a followed face is never lost to the regions; and when the regions
//! would cost more than the full frame (a crowd), the frame is a keyframe. New faces are found
//! at keyframes, within `interval - 1` frames.

use crate::perception::detect::{iou, BBox};

/// The keyframe schedule of one camera.
#[derive(Debug, Clone, Default)]
pub struct Keyframes {
    /// Frames since the last keyframe; `None` before the first frame or after a reset.
    since: Option<u32>,
    /// Running means of the detector's time on a full frame and on one region, seconds.
    full_cost: Option<f64>,
    region_cost: Option<f64>,
}

impl Keyframes {
    /// Where to detect in the next frame (`width` x `height`): `None` for the whole frame (a
    /// keyframe), else the regions around `followed` (last frame's faces) widened by `margin`.
    pub fn plan(
        &mut self,
        interval: u32,
        margin: f32,
        followed: &[BBox],
        (width, height): (usize, usize),
    ) -> Option<Vec<BBox>> {
        let due = self.since.is_none_or(|n| n + 1 >= interval);
        let dearer = match (self.full_cost, self.region_cost) {
            (Some(full), Some(region)) => followed.len() as f64 * region >= full,
            _ => false,
        };
        if due || dearer {
            self.keyframe();
            return None;
        }
        self.since = self.since.map(|n| n + 1);
        let (w, h) = (width as f32, height as f32);
        Some(followed.iter().map(|b| region(b, margin, w, h)).collect())
    }

    /// The frame went through the full detector: count from it.
    pub fn keyframe(&mut self) {
        self.since = Some(0);
    }

    /// The detector took `seconds` on the full frame (`regions` = `None`) or on `regions`
    /// regions: the costs that decide between regions and a keyframe.
    pub fn measured(&mut self, regions: Option<usize>, seconds: f64) {
        let (cost, per) = match regions {
            None => (&mut self.full_cost, seconds),
            Some(0) => return,
            Some(n) => (&mut self.region_cost, seconds / n as f64),
        };
        *cost = Some(cost.map_or(per, |c| 0.9 * c + 0.1 * per));
    }

    /// Start again with a keyframe (the camera's resolution changed).
    pub fn reset(&mut self) {
        self.since = None;
    }
}

/// Whether every followed face has a detection overlapping it by at least `min_iou` (the
/// tracker's matching floor): else the frame needs the full detector.
pub fn all_found(followed: &[BBox], found: &[BBox], min_iou: f32) -> bool {
    followed
        .iter()
        .all(|f| found.iter().any(|d| iou(f, d) >= min_iou))
}

/// The square around `face` whose half side is the face's longer side times (0.5 + `margin`),
/// at least 16 px, clamped to the `width` x `height` frame.
pub fn region(face: &BBox, margin: f32, width: f32, height: f32) -> BBox {
    let (cx, cy) = face.center();
    let half = (face.width().max(face.height()) * (0.5 + margin)).max(16.0);
    BBox {
        x0: (cx - half).max(0.0),
        y0: (cy - half).max(0.0),
        x1: (cx + half).min(width),
        y1: (cy + half).min(height),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32) -> BBox {
        BBox {
            x0: x,
            y0: 100.0,
            x1: x + 40.0,
            y1: 150.0,
        }
    }

    #[test]
    fn keyframes_every_interval_and_after_a_loss() {
        let mut k = Keyframes::default();
        let size = (640, 480);
        let faces = [face(100.0)];
        // Interval 1: every frame is a keyframe (the behaviour without keyframes).
        assert!((0..5).all(|_| k.plan(1, 0.5, &faces, size).is_none()));
        // Interval 3: keyframe, two region frames, keyframe...
        let mut k = Keyframes::default();
        let kinds: Vec<bool> = (0..7)
            .map(|_| k.plan(3, 0.5, &faces, size).is_none())
            .collect();
        assert_eq!(kinds, [true, false, false, true, false, false, true]);
        // A region frame that fell back to the full detector restarts the count.
        assert!(k.plan(3, 0.5, &faces, size).is_some());
        k.keyframe();
        assert!(k.plan(3, 0.5, &faces, size).is_some());
        assert!(k.plan(3, 0.5, &faces, size).is_some());
        assert!(k.plan(3, 0.5, &faces, size).is_none());
        // No followed face: nothing to look at until the next keyframe.
        assert_eq!(k.plan(3, 0.5, &[], size), Some(vec![]));
        k.reset();
        assert!(k.plan(3, 0.5, &faces, size).is_none());
    }

    #[test]
    fn regions_dearer_than_the_full_frame_make_a_keyframe() {
        let mut k = Keyframes::default();
        let size = (640, 480);
        assert!(k.plan(10, 0.5, &[face(0.0)], size).is_none());
        k.measured(None, 0.020);
        k.measured(Some(2), 0.004); // 2 ms a region
        let crowd: Vec<BBox> = (0..10).map(|i| face(50.0 * i as f32)).collect();
        assert!(
            k.plan(10, 0.5, &crowd[..9], size).is_some(),
            "9 regions: 18 ms < 20 ms"
        );
        assert!(k.plan(10, 0.5, &crowd, size).is_none(), "10 regions: 20 ms");
        assert!(k.plan(10, 0.5, &crowd[..3], size).is_some());
    }

    #[test]
    fn a_followed_face_without_a_detection_is_lost() {
        let (a, b) = (face(100.0), face(300.0));
        assert!(all_found(&[a, b], &[face(104.0), face(296.0)], 0.3));
        assert!(!all_found(&[a, b], &[face(104.0)], 0.3));
        assert!(
            !all_found(&[a], &[face(130.0)], 0.3),
            "moved too far to be the same face"
        );
        assert!(all_found(&[], &[], 0.3));
    }

    #[test]
    fn regions_are_squares_around_the_face_clamped_to_the_frame() {
        // A 40x50 face, margin 0.5: a 100 px square about its centre (120, 125).
        let r = region(&face(100.0), 0.5, 640.0, 480.0);
        assert_eq!((r.x0, r.y0, r.x1, r.y1), (70.0, 75.0, 170.0, 175.0));
        let r = region(&face(0.0), 0.5, 640.0, 480.0);
        assert_eq!((r.x0, r.x1), (0.0, 70.0));
        // Tiny faces still get 32 px of context.
        let tiny = BBox {
            x0: 300.0,
            y0: 300.0,
            x1: 304.0,
            y1: 304.0,
        };
        assert_eq!(region(&tiny, 0.0, 640.0, 480.0).width(), 32.0);
    }
}
