//! The ROS 2 node's parts (built with the `ros` feature, against a ROS 2 environment):
//! parameters, the newest-frame hand-off, the processing thread, message building, diagnostics
//! and logging. The binary `masked_fer_node` wires them to r2r.

pub mod camera_info;
pub mod diagnostics;
pub mod input_match;
pub mod latest;
pub mod lifecycle;
pub mod logging;
pub mod managed;
pub mod messages;
pub mod param_services;
pub mod params;
pub mod shared_node;
pub mod worker;
