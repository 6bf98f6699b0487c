//! Offline input and output: rosbag2 files ([`bag`]) and replaying them through the frame core
//! ([`replay`]).

pub mod bag;
pub mod replay;
