//! masked_fer: face detection and masked-face expression classification on CPU.
//!
//! The folders follow the data flow: [`perception`] (camera buffers to RGB, faces, expressions,
//! all three behind [`Pipeline`]) → [`tracking`] (per camera: tracks, face ids, what a frame
//! publishes, and those outputs as ROS 2 messages) → [`ros`] (the live node) or [`io`]
//! (rosbag2 in and out, replay) → [`report`] (scores, charts, timings, model figures).
//! Settings: [`config`] (types and ranges) and [`params`] (every parameter once). No r2r
//! types live outside [`ros`].

pub mod alloc_count;
pub mod config;
mod error;
pub mod io;
pub mod params;
pub mod perception;
pub mod report;
#[cfg(feature = "ros")]
pub mod ros;
pub mod tracking;

pub use error::{chain, Cause, Error};
pub use perception::pipeline::{Face, FrameResult, Pipeline};
