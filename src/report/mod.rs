//! What runs are measured and shown with: ground-truth labels and their scores ([`labels`]),
//! detector and classifier evaluation ([`eval`]), charts ([`plot`]), timing percentiles
//! ([`stats`]) and model figures read from ONNX files ([`onnx_info`]).

pub mod eval;
pub mod labels;
pub mod onnx_info;
pub mod plot;
pub mod stats;
