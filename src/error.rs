//! The crate's error: a bad frame (recoverable, per frame), a model problem, or settings that
//! cannot work (start-up); and [`Cause`], the foreign error underneath one of ours.

use std::sync::Arc;

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

/// A foreign error (ONNX Runtime, I/O, MCAP, SQLite) kept whole as the `source` of one of ours;
/// shared so that our errors stay `Clone` (the runtime's load result is cached and handed out).
/// Our messages do not repeat it: print the chain ([`chain`], or `{:#}` of an `anyhow` error).
#[derive(Debug, Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Cause(Arc::new(e))
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Causes compare by their message (what a frame error's equality in tests needs).
impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// An error and its sources, `: `-separated (what a log line or a frame record shows).
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        text.push_str(": ");
        text.push_str(&s.to_string());
        next = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_shows_every_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = ModelError::ModelLoad {
            path: "m.onnx".into(),
            source: Cause::new(io),
        };
        assert_eq!(chain(&e), "cannot load model m.onnx: no such file");
    }
}
