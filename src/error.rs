//! The crate's error: a bad frame (recoverable, per frame), a model problem, or settings that
//! cannot work (start-up).

use crate::config::ConfigError;
use crate::perception::image::FrameError;
use crate::perception::runtime::ModelError;

#[derive(Debug, thiserror::Error, Clone)]
pub enum Error {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("invalid settings: {0}")]
    Config(#[from] ConfigError),
}
