//! Each camera's calibration, from its `camera_info` topic (the image topic's sibling,
//! [`crate::params::camera_info_topic`]), for the face frames on /tf. The newest message wins; an
//! uncalibrated one (all-zero `k`) is logged once and clears the camera's calibration.

use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use r2r::sensor_msgs::msg::CameraInfo;

use super::latest::lock;
use crate::tracking::face_frames::Pinhole;

/// The newest usable calibration of each camera, in `image_topics` order.
pub type Calibrations = Arc<Mutex<Vec<Option<Pinhole>>>>;

pub fn calibrations(cameras: usize) -> Calibrations {
    Arc::new(Mutex::new(vec![None; cameras]))
}

/// Keep camera `i`'s calibration up to date from `infos` (published on `topic`).
pub async fn follow(
    mut infos: impl Stream<Item = CameraInfo> + Unpin,
    i: usize,
    topic: String,
    calibrations: Calibrations,
) {
    let mut warned = false;
    while let Some(info) = infos.next().await {
        let model = Pinhole::from_k(&info.k, info.width, info.height);
        if model.is_none() && !warned {
            log::warn!("{topic}: camera_info without a usable k (uncalibrated camera?): no face frames on /tf");
        }
        warned |= model.is_none();
        lock(&calibrations)[i] = model;
    }
}
