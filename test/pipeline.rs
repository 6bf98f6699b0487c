//! The library pipeline on real photos: every input path gives the same faces, and thresholds
//! change at run time without reloading models.
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

use masked_fer::config::PipelineConfig;
use masked_fer::perception::image::RawImage;
use masked_fer::perception::runtime::init_runtime;
use masked_fer::Pipeline;

#[test]
fn raw_compressed_and_rgb_inputs_agree_and_limits_apply_at_once() {
    init_runtime(None).expect("ONNX Runtime (make setup)");
    let mut p = Pipeline::new(PipelineConfig::default()).unwrap();
    let png = std::fs::read(common::data("parity/photo_71.png")).unwrap();
    let from_png = p.process_compressed("png", &png).unwrap();
    let rgb = masked_fer::perception::image::decode_compressed("", &png).unwrap();
    let (h, w, _) = rgb.dim();
    let bgr: Vec<u8> = rgb
        .iter()
        .copied()
        .collect::<Vec<_>>()
        .chunks(3)
        .flat_map(|c| [c[2], c[1], c[0]])
        .collect();
    let raw = RawImage {
        width: w as u32,
        height: h as u32,
        step: w as u32 * 3,
        encoding: "bgr8",
        is_bigendian: false,
        data: &bgr,
    };
    let from_raw = p.process_raw(&raw).unwrap();
    let from_rgb = p.process_rgb(rgb.view()).unwrap();
    assert!(from_png.faces.len() >= 4);
    for other in [&from_raw, &from_rgb] {
        assert_eq!(other.faces.len(), from_png.faces.len());
        for (a, b) in other.faces.iter().zip(&from_png.faces) {
            assert_eq!(a.bbox, b.bbox);
            assert_eq!(a.expression, b.expression);
        }
    }
    // Raise the score threshold above the weakest face: it disappears on the next frame.
    let weakest = from_png.faces.iter().map(|f| f.score).fold(1.0, f32::min);
    let mut limits = p.config().detector.clone();
    limits.score_threshold = weakest + 1e-3;
    p.set_detector_limits(&limits).unwrap();
    let fewer = p.process_rgb(rgb.view()).unwrap();
    assert!(fewer.faces.len() < from_png.faces.len());
    assert!(fewer.faces.iter().all(|f| f.score > weakest));
    limits.score_threshold = 2.0;
    assert!(
        p.set_detector_limits(&limits).is_err(),
        "an invalid threshold must be refused"
    );
    assert_eq!(p.config().detector.score_threshold, weakest + 1e-3);
}

/// Keyframe detection (decision 12) on still frames: between keyframes the regions around the
/// faces find the same faces as the full frame, faces at the frame's edge included (a region
/// clamped to the edge must not be refused by the resizer), and the schedule is N-periodic.
#[test]
fn regions_between_keyframes_find_the_full_frames_faces() {
    use masked_fer::perception::detect::iou;
    use masked_fer::tracking::frame::{CameraSession, FrameImages, FrameInput};
    use masked_fer::tracking::track::TrackerConfig;
    init_runtime(None).expect("ONNX Runtime (make setup)");
    let mut config = PipelineConfig::default();
    config.detector.keyframe_interval = 3;
    let mut p = Pipeline::new(config).unwrap();
    let (mut faces, mut photos, mut region_frames) = (0, 0, 0);
    let mut ious = Vec::new();
    for n in 0..30 {
        let path = common::data(&format!("face_mask/images/maksssksksss{n}.jpg"));
        let jpeg = std::fs::read(path).unwrap();
        let full = p.process_compressed("jpeg", &jpeg).unwrap().faces;
        let mut session = CameraSession::new(0, 1, TrackerConfig::default());
        let input = FrameInput::Compressed {
            format: "jpeg",
            data: &jpeg,
        };
        let mut kinds = Vec::new();
        for k in 0..4 {
            let out = session
                .process(&mut p, &input, 1_000 + k, &FrameImages::default())
                .unwrap();
            kinds.push(out.keyframe);
            for f in &full {
                let best = out.faces.iter().map(|o| iou(&o.bbox, &f.bbox));
                let best = best.fold(0.0f32, f32::max);
                // The same face (it continues its track: the tracker's min_iou) ...
                assert!(
                    best >= 0.3,
                    "photo {n}, frame {k}: {:?} lost ({best})",
                    f.bbox
                );
                ious.push(best);
            }
            faces += full.len();
        }
        photos += 1;
        assert!(kinds[0], "photo {n}: the first frame is a keyframe");
        region_frames += kinds.iter().filter(|k| !**k).count();
    }
    // Frames 1 and 2 of each photo are region frames unless a face was lost (then the same
    // frame fell back to the full detector, which restarts the count): 52 of 90 here, where 41%
    // of the faces are under 20 px.
    println!(
        "{region_frames} region frames of {} after the first",
        3 * photos
    );
    assert!(region_frames >= photos, "{region_frames}");
    assert!(photos == 30 && faces > 300, "{faces}");
    // ... and a box close to the full frame's.
    let mean = ious.iter().sum::<f32>() / ious.len() as f32;
    println!("mean IoU with the full frame's boxes: {mean:.3}");
    assert!(mean >= 0.8, "{mean}");
}
