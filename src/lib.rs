//! masked_fer: face detection and masked-face expression classification on CPU.
//!
//! Data flow: [`image`] (camera buffers to RGB) → [`detect`] (faces) → [`classify`]
//! (expressions) → [`pipeline`] (all three behind one call). No ROS types live here.

pub mod image;
