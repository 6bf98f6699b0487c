//! What a frame publishes, as ROS 2 messages: one conversion per message type, from
//! [`crate::tracking::frame`] outputs to the serde mirrors of [`crate::io::bag::msgs`]. The node publishes
//! their CDR bytes as they are; replay writes the same bytes into the output bag. Field
//! meanings in docs/ARCHITECTURE.md ("Interfaces a ROS user sees").

use crate::io::bag::msgs::{
    BoundingBox2D, Detection2D, Detection2DArray, Expression, Header, IdsList, Image,
    NormalizedRegionOfInterest2D, ObjectHypothesis, ObjectHypothesisWithPose, Point2D, Pose2D,
};
use crate::tracking::frame::{normalised_roi, FaceOutput, HriExpression};

/// One Detection2D per face (box in pixels, `id` = face id, hypotheses best first); the array
/// is published even when empty so consumers see that the frame was processed.
pub fn detections(header: &Header, faces: &[FaceOutput]) -> Detection2DArray {
    Detection2DArray {
        header: header.clone(),
        detections: faces.iter().map(|f| detection(header, f)).collect(),
    }
}

fn detection(header: &Header, face: &FaceOutput) -> Detection2D {
    let (cx, cy) = face.bbox.center();
    Detection2D {
        header: header.clone(),
        results: face
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
            size_x: f64::from(face.bbox.width()),
            size_y: f64::from(face.bbox.height()),
        },
        id: face.id.clone(),
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

/// An rgb8 image: `~/debug_image` (the frame with faces drawn), `/humans/faces/<id>/cropped`
/// and `/aligned`.
pub fn image(header: &Header, img: image::RgbImage) -> Image {
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
