//! Where a face is in 3D, for ROS4HRI's `face_<id>` and `gaze_<id>` frames on /tf (REP-155),
//! from one calibrated camera and a nominal face width: the pinhole model puts the face at the
//! depth where a face of that width has the detected box's width. Orientation is not estimated:
//! the face is taken to look back along the optical axis (five landmarks do not constrain a head
//! pose well under a mask).

use crate::perception::detect::BBox;

/// A calibrated camera's intrinsics (sensor_msgs/CameraInfo `k`) and the image size they hold
/// for (0 x 0: not stated).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pinhole {
    pub fx: f64,
    pub fy: f64,
    pub cx: f64,
    pub cy: f64,
    pub width: u32,
    pub height: u32,
}

impl Pinhole {
    /// From a row-major 3x3 `k`; `None` for an uncalibrated camera (CameraInfo's all-zero `k`)
    /// or one whose focal lengths are not positive and finite.
    pub fn from_k(k: &[f64], width: u32, height: u32) -> Option<Self> {
        let &[fx, _, cx, _, fy, cy, ..] = k else {
            return None;
        };
        let usable =
            [fx, fy].iter().all(|f| f.is_finite() && *f > 0.0) && cx.is_finite() && cy.is_finite();
        usable.then_some(Self {
            fx,
            fy,
            cx,
            cy,
            width,
            height,
        })
    }

    /// Whether frames of `width` x `height` are the images this calibration is for.
    pub fn fits(&self, width: usize, height: usize) -> bool {
        (self.width, self.height) == (0, 0)
            || (self.width as usize, self.height as usize) == (width, height)
    }

    /// The sellion (between the eyes, `landmarks[0]` and `[1]`) in the camera's optical frame
    /// (x right, y down, z forward; metres), for a face `face_width` metres wide whose box is
    /// `bbox`.
    pub fn face_position(
        &self,
        bbox: &BBox,
        landmarks: &[[f32; 2]; 5],
        face_width: f64,
    ) -> [f64; 3] {
        let z = self.fx * face_width / f64::from(bbox.width().max(1.0));
        let u = f64::from(landmarks[0][0] + landmarks[1][0]) / 2.0;
        let v = f64::from(landmarks[0][1] + landmarks[1][1]) / 2.0;
        [(u - self.cx) * z / self.fx, (v - self.cy) * z / self.fy, z]
    }
}

/// `face_<id>` in the camera's optical frame (quaternion x, y, z, w): REP-155's face axes (x out
/// of the face, y to the person's left, z up) for a face that looks at the camera, i.e. x = -z,
/// y = +x and z = -y of the optical frame.
pub const FACE_IN_CAMERA: [f64; 4] = [0.5, 0.5, -0.5, 0.5];

/// `gaze_<id>` in `face_<id>`: the optical convention (z along the gaze, x right, y down), as
/// hri_face_detect publishes it.
pub const GAZE_IN_FACE: [f64; 4] = [-0.5, 0.5, -0.5, 0.5];

#[cfg(test)]
mod tests {
    use super::*;

    /// `q` (x, y, z, w) applied to `v`.
    fn rotate(q: [f64; 4], v: [f64; 3]) -> [f64; 3] {
        let [x, y, z, w] = q;
        let r = [
            [
                1.0 - 2.0 * (y * y + z * z),
                2.0 * (x * y - z * w),
                2.0 * (x * z + y * w),
            ],
            [
                2.0 * (x * y + z * w),
                1.0 - 2.0 * (x * x + z * z),
                2.0 * (y * z - x * w),
            ],
            [
                2.0 * (x * z - y * w),
                2.0 * (y * z + x * w),
                1.0 - 2.0 * (x * x + y * y),
            ],
        ];
        r.map(|row| row[0] * v[0] + row[1] * v[1] + row[2] * v[2])
    }

    fn close(a: [f64; 3], b: [f64; 3]) -> bool {
        a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-9)
    }

    #[test]
    fn the_face_looks_at_the_camera_and_the_gaze_follows_the_optical_convention() {
        // Face axes in the camera's optical frame.
        assert!(close(
            rotate(FACE_IN_CAMERA, [1.0, 0.0, 0.0]),
            [0.0, 0.0, -1.0]
        ));
        assert!(close(
            rotate(FACE_IN_CAMERA, [0.0, 1.0, 0.0]),
            [1.0, 0.0, 0.0]
        ));
        assert!(close(
            rotate(FACE_IN_CAMERA, [0.0, 0.0, 1.0]),
            [0.0, -1.0, 0.0]
        ));
        // The gaze's z is the face's x (towards the camera); its x the person's right.
        assert!(close(
            rotate(GAZE_IN_FACE, [0.0, 0.0, 1.0]),
            [1.0, 0.0, 0.0]
        ));
        assert!(close(
            rotate(GAZE_IN_FACE, [1.0, 0.0, 0.0]),
            [0.0, -1.0, 0.0]
        ));
        // Composed: the gaze frame is the optical frame turned to face the camera.
        let gaze_z = rotate(FACE_IN_CAMERA, rotate(GAZE_IN_FACE, [0.0, 0.0, 1.0]));
        assert!(close(gaze_z, [0.0, 0.0, -1.0]));
    }

    #[test]
    fn pinhole_depth_from_the_face_width() {
        let k = [500.0, 0.0, 320.0, 0.0, 400.0, 240.0, 0.0, 0.0, 1.0];
        let cam = Pinhole::from_k(&k, 640, 480).unwrap();
        // A 100 px face whose eyes straddle the principal point, 0.15 m wide: 0.75 m away.
        let bbox = BBox {
            x0: 270.0,
            y0: 190.0,
            x1: 370.0,
            y1: 310.0,
        };
        let mut eyes = [[0.0; 2]; 5];
        eyes[0] = [300.0, 240.0];
        eyes[1] = [340.0, 240.0];
        assert!(close(
            cam.face_position(&bbox, &eyes, 0.15),
            [0.0, 0.0, 0.75]
        ));
        // 80 px right and 40 px below: x = 80 * z / fx, y = 40 * z / fy.
        eyes[0] = [380.0, 280.0];
        eyes[1] = [420.0, 280.0];
        assert!(close(
            cam.face_position(&bbox, &eyes, 0.15),
            [0.12, 0.075, 0.75]
        ));
        assert!(cam.fits(640, 480) && !cam.fits(1280, 720));
        assert!(Pinhole::from_k(&k, 0, 0).unwrap().fits(1280, 720));
        // Uncalibrated (all zero), malformed or non-finite: no camera model.
        assert_eq!(Pinhole::from_k(&[0.0; 9], 640, 480), None);
        assert_eq!(Pinhole::from_k(&k[..4], 640, 480), None);
        assert_eq!(Pinhole::from_k(&[f64::NAN; 9], 640, 480), None);
    }
}
