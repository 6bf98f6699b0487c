//! Serde mirrors of the ROS 2 messages found in and written to bags, for CDR (de)serialisation.
//! Field order is the wire format (see docs of each type's .msg).

use serde::{Deserialize, Serialize};

use super::BagError;
use crate::Cause;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Time {
    pub sec: i32,
    pub nanosec: u32,
}

impl Time {
    pub fn as_nanos(&self) -> i64 {
        i64::from(self.sec) * 1_000_000_000 + i64::from(self.nanosec)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub stamp: Time,
    pub frame_id: String,
}

/// sensor_msgs/msg/Image
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub header: Header,
    pub height: u32,
    pub width: u32,
    pub encoding: String,
    pub is_bigendian: u8,
    pub step: u32,
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}

impl Image {
    /// The pixels as a raw-image view for conversion.
    pub fn as_raw(&self) -> crate::perception::image::RawImage<'_> {
        crate::perception::image::RawImage {
            width: self.width,
            height: self.height,
            step: self.step,
            encoding: &self.encoding,
            is_bigendian: self.is_bigendian != 0,
            data: &self.data,
        }
    }
}

/// sensor_msgs/msg/CompressedImage
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompressedImage {
    pub header: Header,
    pub format: String,
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}

/// vision_msgs/msg/Point2D
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Point2D {
    pub x: f64,
    pub y: f64,
}

/// vision_msgs/msg/Pose2D
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Pose2D {
    pub position: Point2D,
    pub theta: f64,
}

/// vision_msgs/msg/BoundingBox2D (centre and size, pixels)
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox2D {
    pub center: Pose2D,
    pub size_x: f64,
    pub size_y: f64,
}

/// vision_msgs/msg/ObjectHypothesis
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectHypothesis {
    pub class_id: String,
    pub score: f64,
}

/// geometry_msgs/msg/Pose (position x,y,z; orientation x,y,z,w)
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pose {
    pub position: [f64; 3],
    pub orientation: [f64; 4],
}

/// geometry_msgs/msg/PoseWithCovariance; the 36 covariances as 6 rows (same bytes, no length).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PoseWithCovariance {
    pub pose: Pose,
    pub covariance: [[f64; 6]; 6],
}

impl Default for PoseWithCovariance {
    fn default() -> Self {
        Self {
            pose: Pose {
                position: [0.0; 3],
                orientation: [0.0, 0.0, 0.0, 1.0],
            },
            covariance: [[0.0; 6]; 6],
        }
    }
}

/// vision_msgs/msg/ObjectHypothesisWithPose
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectHypothesisWithPose {
    pub hypothesis: ObjectHypothesis,
    pub pose: PoseWithCovariance,
}

/// vision_msgs/msg/Detection2D
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Detection2D {
    pub header: Header,
    pub results: Vec<ObjectHypothesisWithPose>,
    pub bbox: BoundingBox2D,
    pub id: String,
}

/// vision_msgs/msg/Detection2DArray
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Detection2DArray {
    pub header: Header,
    pub detections: Vec<Detection2D>,
}

/// hri_msgs/msg/Expression
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Expression {
    pub header: Header,
    pub expression: String,
    pub valence: f32,
    pub arousal: f32,
    pub confidence: f32,
}

/// hri_msgs/msg/NormalizedRegionOfInterest2D
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NormalizedRegionOfInterest2D {
    pub header: Header,
    pub xmin: f32,
    pub ymin: f32,
    pub xmax: f32,
    pub ymax: f32,
    pub c: f32,
}

/// hri_msgs/msg/IdsList
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdsList {
    pub header: Header,
    pub ids: Vec<String>,
}

/// hri_msgs/msg/NormalizedPointOfInterest2D
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct NormalizedPointOfInterest2D {
    pub x: f32,
    pub y: f32,
    pub c: f32,
}

/// hri_msgs/msg/FacialLandmarks; the 70 landmarks (a fixed-size array) as 7 rows of 10 (same
/// bytes, no length).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FacialLandmarks {
    pub header: Header,
    pub landmarks: [[NormalizedPointOfInterest2D; 10]; 7],
    pub height: u32,
    pub width: u32,
}

impl FacialLandmarks {
    /// The landmark with ROS4HRI index `i` (0..70).
    pub fn landmark_mut(&mut self, i: usize) -> &mut NormalizedPointOfInterest2D {
        &mut self.landmarks[i / 10][i % 10]
    }
}

/// geometry_msgs/msg/TransformStamped (translation x,y,z in metres; rotation x,y,z,w)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransformStamped {
    pub header: Header,
    pub child_frame_id: String,
    pub translation: [f64; 3],
    pub rotation: [f64; 4],
}

/// tf2_msgs/msg/TFMessage
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TFMessage {
    pub transforms: Vec<TransformStamped>,
}

/// A mirrored ROS 2 message type and its full name, as topics and bag schemas name it.
pub trait RosMessage: Serialize {
    const TYPE: &'static str;
}

macro_rules! ros_message {
    ($($t:ty => $name:literal),* $(,)?) => {
        $(impl RosMessage for $t {
            const TYPE: &'static str = $name;
        })*
    };
}

ros_message!(
    Image => "sensor_msgs/msg/Image",
    CompressedImage => "sensor_msgs/msg/CompressedImage",
    Detection2DArray => "vision_msgs/msg/Detection2DArray",
    Expression => "hri_msgs/msg/Expression",
    NormalizedRegionOfInterest2D => "hri_msgs/msg/NormalizedRegionOfInterest2D",
    IdsList => "hri_msgs/msg/IdsList",
    FacialLandmarks => "hri_msgs/msg/FacialLandmarks",
    TFMessage => "tf2_msgs/msg/TFMessage",
);

/// Decode a CDR payload with its 4-byte encapsulation header (0x00 0x01 = little endian,
/// 0x00 0x00 = big endian).
pub fn from_cdr<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
    type_name: &str,
) -> Result<T, BagError> {
    let bad = |reason: String| BagError::Message {
        type_name: type_name.to_string(),
        reason,
    };
    if bytes.len() < 4 {
        return Err(bad(format!(
            "{} bytes is too short for a CDR message",
            bytes.len()
        )));
    }
    let body = &bytes[4..];
    let result = match bytes[1] {
        0x01 | 0x03 => cdr_encoding::from_bytes::<T, byteorder::LittleEndian>(body),
        0x00 | 0x02 => cdr_encoding::from_bytes::<T, byteorder::BigEndian>(body),
        other => return Err(bad(format!("unknown CDR encapsulation kind {other:#04x}"))),
    };
    result.map(|(v, _)| v).map_err(|e| BagError::Cdr {
        type_name: type_name.to_string(),
        source: Cause::new(e),
    })
}

/// Encode as little-endian CDR with the encapsulation header.
pub fn to_cdr<T: Serialize>(value: &T) -> Result<Vec<u8>, BagError> {
    let mut out = vec![0x00, 0x01, 0x00, 0x00];
    cdr_encoding::to_writer::<T, byteorder::LittleEndian, _>(&mut out, value).map_err(|e| {
        BagError::Cdr {
            type_name: std::any::type_name::<T>().to_string(),
            source: Cause::new(e),
        }
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_round_trips_and_matches_the_cdr_layout() {
        let img = Image {
            header: Header {
                stamp: Time { sec: 3, nanosec: 7 },
                frame_id: "cam".into(),
            },
            height: 1,
            width: 2,
            encoding: "rgb8".into(),
            is_bigendian: 0,
            step: 6,
            data: vec![1, 2, 3, 4, 5, 6],
        };
        let bytes = to_cdr(&img).unwrap();
        // encapsulation, sec, nanosec, frame_id length (incl. NUL) and text
        assert_eq!(
            &bytes[..16],
            &[0, 1, 0, 0, 3, 0, 0, 0, 7, 0, 0, 0, 4, 0, 0, 0]
        );
        assert_eq!(&bytes[16..20], b"cam\0");
        assert_eq!(
            from_cdr::<Image>(&bytes, "sensor_msgs/msg/Image").unwrap(),
            img
        );
        assert!(from_cdr::<Image>(&bytes[..30], "sensor_msgs/msg/Image").is_err());
        assert!(from_cdr::<Image>(&[0, 9, 0, 0, 1], "sensor_msgs/msg/Image").is_err());
    }
}
