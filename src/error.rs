//! The crate's error: a bad frame (recoverable, per frame) or a model problem.

use crate::image::FrameError;
use crate::runtime::ModelError;

#[derive(Debug, thiserror::Error, Clone)]
pub enum Error {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Model(#[from] ModelError),
}
