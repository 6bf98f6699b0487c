//! What a frame publishes, as ROS 2 messages: one conversion per message type, from
//! [`crate::tracking::frame`] outputs to the serde mirrors of [`crate::io::bag::msgs`]. The node publishes
//! their CDR bytes as they are; replay writes the same bytes into the output bag. Field
//! meanings in docs/ARCHITECTURE.md ("Interfaces a ROS user sees").

use crate::io::bag::msgs::{
    BoundingBox2D, Detection2D, Detection2DArray, Expression, FacialLandmarks, Header, IdsList,
    Image, NormalizedPointOfInterest2D, NormalizedRegionOfInterest2D, ObjectHypothesis,
    ObjectHypothesisWithPose, Point2D, Pose2D, TFMessage, TransformStamped,
};
use crate::tracking::face_frames::{Pinhole, FACE_IN_CAMERA, GAZE_IN_FACE};
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

/// ROS4HRI indices (hri_msgs/FacialLandmarks) of the detector's five points: the eye on the
/// image's left is the person's right pupil, and so on.
pub const LANDMARK_INDICES: [usize; 5] = [
    68, // RIGHT_PUPIL
    69, // LEFT_PUPIL
    30, // NOSE
    48, // MOUTH_OUTER_RIGHT
    54, // MOUTH_OUTER_LEFT
];

/// Where a single mouth point goes (BlazeFace reports its mouth centre as both corners):
/// MOUTH_INNER_TOP_2, which hri_face_detect takes for the stomion.
pub const MOUTH_CENTRE_INDEX: usize = 62;

/// `/humans/faces/<id>/landmarks`: the five points normalised to the image (clamped to [0, 1]),
/// `c` = detector confidence; the other 65 are zero with `c` = 0.
pub fn landmarks(header: &Header, face: &FaceOutput, size: (usize, usize)) -> FacialLandmarks {
    let mut msg = FacialLandmarks {
        header: header.clone(),
        width: size.0 as u32,
        height: size.1 as u32,
        ..Default::default()
    };
    let (w, h) = (size.0.max(1) as f32, size.1.max(1) as f32);
    let mut points: Vec<(usize, [f32; 2])> =
        LANDMARK_INDICES.into_iter().zip(face.landmarks).collect();
    if face.landmarks[3] == face.landmarks[4] {
        points.truncate(3);
        points.push((MOUTH_CENTRE_INDEX, face.landmarks[3]));
    }
    for (i, [x, y]) in points {
        *msg.landmark_mut(i) = NormalizedPointOfInterest2D {
            x: (x / w).clamp(0.0, 1.0),
            y: (y / h).clamp(0.0, 1.0),
            c: face.score,
        };
    }
    msg
}

/// `/tf`: `face_<id>` in the image's frame (`header.frame_id`, the camera's optical frame) and
/// `gaze_<id>` in `face_<id>` for each face, stamped like the image.
pub fn face_frames(
    header: &Header,
    faces: &[&FaceOutput],
    camera: &Pinhole,
    face_width: f64,
) -> TFMessage {
    let transforms = faces.iter().flat_map(|f| {
        let face_frame = format!("face_{}", f.id);
        [
            TransformStamped {
                header: header.clone(),
                child_frame_id: face_frame.clone(),
                translation: camera.face_position(&f.bbox, &f.landmarks, face_width),
                rotation: FACE_IN_CAMERA,
            },
            TransformStamped {
                header: Header {
                    stamp: header.stamp,
                    frame_id: face_frame,
                },
                child_frame_id: format!("gaze_{}", f.id),
                translation: [0.0; 3],
                rotation: GAZE_IN_FACE,
            },
        ]
    });
    TFMessage {
        transforms: transforms.collect(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perception::detect::BBox;

    fn face(landmarks: [[f32; 2]; 5]) -> FaceOutput {
        FaceOutput {
            id: "f1_a".into(),
            bbox: BBox {
                x0: 100.0,
                y0: 100.0,
                x1: 200.0,
                y1: 220.0,
            },
            landmarks,
            score: 0.9,
            track: 1,
            confirmed: true,
            hypotheses: Vec::new(),
            expression: None,
            cropped: None,
            aligned: None,
        }
    }

    #[test]
    fn landmarks_sit_at_their_ros4hri_indices() {
        let header = Header::default();
        let five = [
            [120.0, 140.0],
            [180.0, 140.0],
            [150.0, 170.0],
            [130.0, 200.0],
            [170.0, 200.0],
        ];
        let msg = landmarks(&header, &face(five), (400, 300));
        assert_eq!((msg.width, msg.height), (400, 300));
        let all: Vec<_> = msg.landmarks.iter().flatten().collect();
        assert_eq!(all.len(), 70);
        for (i, [x, y]) in LANDMARK_INDICES.iter().zip(five) {
            assert_eq!(
                *all[*i],
                NormalizedPointOfInterest2D {
                    x: x / 400.0,
                    y: y / 300.0,
                    c: 0.9
                }
            );
        }
        assert_eq!(all.iter().filter(|p| p.c > 0.0).count(), 5);
        // On the wire: header (8 + 4-byte frame_id length + NUL), 70 x 3 floats, two u32, no length.
        let cdr = crate::io::bag::msgs::to_cdr(&msg).unwrap();
        assert_eq!(cdr.len(), 4 + 8 + 4 + 1 + 3 + 70 * 12 + 8);

        // One mouth point (BlazeFace): the stomion, not two corners; off-image points clamped.
        let mut one = five;
        one[3] = [150.0, 200.0];
        one[4] = [150.0, 200.0];
        one[0] = [-10.0, 140.0];
        let msg = landmarks(&header, &face(one), (400, 300));
        let all: Vec<_> = msg.landmarks.iter().flatten().collect();
        assert_eq!(
            (all[MOUTH_CENTRE_INDEX].x, all[MOUTH_CENTRE_INDEX].c),
            (150.0 / 400.0, 0.9)
        );
        assert_eq!(all[48].c + all[54].c, 0.0);
        assert_eq!(all[68].x, 0.0);
    }

    #[test]
    fn each_face_gets_a_face_and_a_gaze_frame() {
        let header = Header {
            frame_id: "camera_optical".into(),
            ..Default::default()
        };
        let camera =
            Pinhole::from_k(&[500.0, 0.0, 150.0, 0.0, 500.0, 140.0, 0.0, 0.0, 1.0], 0, 0).unwrap();
        let f = face([
            [120.0, 140.0],
            [180.0, 140.0],
            [150.0, 170.0],
            [130.0, 200.0],
            [170.0, 200.0],
        ]);
        let msg = face_frames(&header, &[&f], &camera, 0.15);
        let [face_tf, gaze_tf] = &msg.transforms[..] else {
            panic!("{msg:?}")
        };
        assert_eq!(
            (
                face_tf.header.frame_id.as_str(),
                face_tf.child_frame_id.as_str()
            ),
            ("camera_optical", "face_f1_a")
        );
        assert_eq!(face_tf.translation, [0.0, 0.0, 0.75]);
        assert_eq!(
            (
                gaze_tf.header.frame_id.as_str(),
                gaze_tf.child_frame_id.as_str()
            ),
            ("face_f1_a", "gaze_f1_a")
        );
        assert_eq!(gaze_tf.translation, [0.0; 3]);
    }
}
