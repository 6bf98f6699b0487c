//! From a camera buffer to faces with expressions: decoding ([`image`]), detection ([`detect`]),
//! classification ([`classify`]), the three behind one call ([`pipeline`]); ONNX Runtime and
//! model files ([`runtime`], [`models`]).

pub mod classify;
pub mod detect;
pub mod image;
pub mod models;
pub mod pipeline;
pub mod runtime;
