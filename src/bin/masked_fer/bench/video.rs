//! Keyframe detection on video: a bundled photo under a slowly panning camera, as raw rgb8
//! 640x480 frames (what a camera driver publishes), through the frame core the node and replay
//! drive ([`CameraSession`]: convert, detect on keyframes or in regions, classify, track), once
//! per keyframe interval.

use anyhow::{Context, Result};
use masked_fer::perception::image::RawImage;
use masked_fer::tracking::frame::{CameraSession, FrameImages, FrameInput};
use masked_fer::tracking::track::TrackerConfig;
use masked_fer::Pipeline;
use ndarray::{s, Array3};

use super::measure::sample;

/// The camera's frames: a 640x480 window sliding 2 px a frame over the photo scaled to 704x528,
/// there and back (64 frames, about 2 s at 30 Hz).
pub fn pan(jpeg: &[u8]) -> Result<Vec<Array3<u8>>> {
    let big = Array3::from_shape_vec((528, 704, 3), super::scaled(jpeg, 704, 528)?.into_raw())?;
    let offsets = (0..64).step_by(2).chain((1..=32).rev().map(|k| 2 * k));
    Ok(offsets
        .map(|x| big.slice(s![24..504, x..x + 640, ..]).to_owned())
        .collect())
}

/// One interval's figures on one video.
pub struct VideoRun {
    /// Milliseconds per frame, sorted.
    pub ms: Vec<f64>,
    /// Share of the frames that went through the full-frame detector.
    pub keyframe_share: f64,
    /// Faces reported per frame, on average.
    pub faces: f64,
}

/// Process `video` over and over for `seconds` through one camera session of `p`.
pub fn run(p: &mut Pipeline, video: &[Array3<u8>], seconds: f64) -> Result<VideoRun> {
    let mut session = CameraSession::new(0, 1, TrackerConfig::default());
    let (mut n, mut keyframes, mut faces) = (0usize, 0usize, 0usize);
    let images = FrameImages::default();
    let ms = sample(seconds, || {
        let frame = &video[n % video.len()];
        let (h, w, _) = frame.dim();
        let data = frame
            .as_slice()
            .context("a video frame is not contiguous")?;
        let raw = RawImage {
            width: w as u32,
            height: h as u32,
            step: 3 * w as u32,
            encoding: "rgb8",
            is_bigendian: false,
            data,
        };
        let stamp = 1_000_000_000 + n as i64 * 33_333_333;
        let out = session.process(p, &FrameInput::Raw(raw), stamp, &images)?;
        n += 1;
        keyframes += usize::from(out.keyframe);
        faces += out.faces.len();
        Ok(())
    })?;
    Ok(VideoRun {
        ms,
        keyframe_share: keyframes as f64 / n as f64,
        faces: faces as f64 / n as f64,
    })
}
