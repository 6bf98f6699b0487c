//! From one camera's frames to what it publishes: face ids and smoothing ([`track`]), the frame
//! core ([`frame`]) and its keyframe schedule ([`keyframes`]), the expression vocabulary ([`expression`]), the debug image ([`annotate`]),
//! ROS4HRI's face images ([`face_images`]) and face frames ([`face_frames`]), and one conversion
//! per ROS 2 message type ([`messages`]).

pub mod annotate;
pub mod expression;
pub mod face_frames;
pub mod face_images;
pub mod frame;
pub mod keyframes;
pub mod messages;
pub mod track;
