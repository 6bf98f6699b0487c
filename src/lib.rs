//! masked_fer: face detection and masked-face expression classification on CPU.
//!
//! Data flow: [`image`] (camera buffers to RGB) → [`detect`] (faces) → [`classify`]
//! (expressions) → [`pipeline`] (all three behind one call) → [`frame`] (per camera: tracks,
//! face ids, what a frame publishes) → [`messages`] (as ROS 2 messages, for the node and for
//! bags). No r2r types live outside [`ros`].

pub mod alloc_count;
pub mod annotate;
pub mod bag;
pub mod classify;
pub mod config;
pub mod detect;
mod error;
pub mod eval;
pub mod expression;
pub mod frame;
pub mod image;
pub mod labels;
pub mod messages;
pub mod models;
pub mod onnx_info;
pub mod params;
pub mod pipeline;
pub mod plot;
pub mod replay;
#[cfg(feature = "ros")]
pub mod ros;
pub mod runtime;
pub mod stats;
pub mod track;

pub use error::Error;
pub use pipeline::{Face, FrameResult, Pipeline};
