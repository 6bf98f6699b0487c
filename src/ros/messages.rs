//! Frame results as r2r messages: vision_msgs detections, ROS4HRI faces, debug image and
//! diagnostics. Field meanings as in architecture.md ("Interfaces a ROS user sees").

use r2r::diagnostic_msgs::msg::{DiagnosticArray, DiagnosticStatus, KeyValue};
use r2r::hri_msgs::msg::{Expression, IdsList, NormalizedRegionOfInterest2D};
use r2r::sensor_msgs::msg::Image;
use r2r::std_msgs::msg::Header;
use r2r::vision_msgs::msg::{
    BoundingBox2D, Detection2D, Detection2DArray, ObjectHypothesis, ObjectHypothesisWithPose,
    Point2D, Pose2D,
};

use super::diagnostics::Status;
use crate::outputs::{normalised_roi, FaceOutput, HriExpression};

/// One Detection2D per face (box in pixels, `id` = face id, hypotheses best first); the array
/// is published even when empty so consumers see that the frame was processed.
pub fn detections(header: &Header, faces: &[(String, FaceOutput)]) -> Detection2DArray {
    Detection2DArray {
        header: header.clone(),
        detections: faces
            .iter()
            .map(|(id, f)| {
                let (cx, cy) = f.bbox.center();
                Detection2D {
                    header: header.clone(),
                    results: f
                        .hypotheses
                        .iter()
                        .map(|(class_id, p)| ObjectHypothesisWithPose {
                            hypothesis: ObjectHypothesis {
                                class_id: class_id.clone(),
                                score: f64::from(*p),
                            },
                            ..Default::default()
                        })
                        .collect(),
                    bbox: BoundingBox2D {
                        center: Pose2D {
                            position: Point2D {
                                x: f64::from(cx),
                                y: f64::from(cy),
                            },
                            theta: 0.0,
                        },
                        size_x: f64::from(f.bbox.width()),
                        size_y: f64::from(f.bbox.height()),
                    },
                    id: id.clone(),
                }
            })
            .collect(),
    }
}

/// `/humans/faces/<id>/roi`: the box normalised to [0, 1], `c` = detector confidence.
pub fn roi(
    header: &Header,
    face: &FaceOutput,
    size: (usize, usize),
) -> NormalizedRegionOfInterest2D {
    let [xmin, ymin, xmax, ymax] = normalised_roi(&face.bbox, size.0, size.1);
    NormalizedRegionOfInterest2D {
        header: header.clone(),
        xmin,
        ymin,
        xmax,
        ymax,
        c: face.score,
    }
}

/// `/humans/faces/<id>/expression`.
pub fn expression(header: &Header, e: &HriExpression) -> Expression {
    Expression {
        header: header.clone(),
        expression: e.word.clone(),
        valence: e.valence,
        arousal: e.arousal,
        confidence: e.confidence,
    }
}

/// `/humans/faces/tracked`.
pub fn tracked(header: &Header, ids: Vec<String>) -> IdsList {
    IdsList {
        header: header.clone(),
        ids,
    }
}

/// `~/debug_image`: the frame with faces drawn, rgb8.
pub fn debug_image(header: &Header, img: image::RgbImage) -> Image {
    let (width, height) = img.dimensions();
    Image {
        header: header.clone(),
        height,
        width,
        encoding: "rgb8".into(),
        is_bigendian: 0,
        step: width * 3,
        data: img.into_raw(),
    }
}

pub fn diagnostics(header: Header, statuses: Vec<Status>) -> DiagnosticArray {
    DiagnosticArray {
        header,
        status: statuses
            .into_iter()
            .map(|s| DiagnosticStatus {
                level: s.level,
                name: s.name,
                message: s.message,
                hardware_id: s.hardware_id,
                values: s
                    .values
                    .into_iter()
                    .map(|(key, value)| KeyValue { key, value })
                    .collect(),
            })
            .collect(),
    }
}

/// Seconds since the Unix epoch as a ROS time (diagnostics are stamped with the wall clock).
pub fn now_stamp() -> r2r::builtin_interfaces::msg::Time {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    r2r::builtin_interfaces::msg::Time {
        sec: d.as_secs() as i32,
        nanosec: d.subsec_nanos(),
    }
}
