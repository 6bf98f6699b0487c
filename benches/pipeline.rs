//! Criterion benchmarks per stage: image conversion, each detector at 320x240 and 640x480
//! frames, classifier at batch 1 and 8, the ROS4HRI face images. `make bench` (release build, ONNX Runtime 1 thread).
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use masked_fer::perception::classify::Classifier;
use masked_fer::perception::detect::{BBox, Detector, DetectorConfig, DetectorKind};
use masked_fer::perception::image::{decode_compressed, RawImage};
use masked_fer::perception::models;
use masked_fer::perception::runtime::init_runtime;
use ndarray::Array3;

const PHOTO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/test/data/images/maksssksksss71.jpg"
);

/// The demo photo scaled to `w` x `h` (RGB8).
fn frame(w: u32, h: u32) -> Array3<u8> {
    let img = image::open(PHOTO)
        .expect("demo photo")
        .resize_exact(w, h, image::imageops::FilterType::Triangle)
        .into_rgb8();
    Array3::from_shape_vec((h as usize, w as usize, 3), img.into_raw()).expect("rgb8 buffer")
}

fn conversion(c: &mut Criterion) {
    let rgb = frame(640, 480);
    let bgr: Vec<u8> = rgb
        .as_slice()
        .unwrap()
        .chunks(3)
        .flat_map(|p| [p[2], p[1], p[0]])
        .collect();
    let yuyv = vec![128u8; 640 * 480 * 2];
    let bayer = vec![100u8; 640 * 480];
    let mut jpeg = Vec::new();
    image::RgbImage::from_raw(640, 480, rgb.as_slice().unwrap().to_vec())
        .unwrap()
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let mut g = c.benchmark_group("convert_640x480");
    g.throughput(Throughput::Elements(1));
    for (enc, data, bpp) in [
        ("rgb8", rgb.as_slice().unwrap(), 3),
        ("bgr8", &bgr[..], 3),
        ("yuyv", &yuyv[..], 2),
        ("bayer_rggb8", &bayer[..], 1),
    ] {
        let raw = RawImage {
            width: 640,
            height: 480,
            step: 640 * bpp,
            encoding: enc,
            is_bigendian: false,
            data,
        };
        g.bench_function(enc, |b| b.iter(|| black_box(raw.to_rgb().unwrap())));
    }
    g.bench_function("jpeg", |b| {
        b.iter(|| black_box(decode_compressed("jpeg", &jpeg).unwrap()))
    });
    g.finish();
}

fn detectors(c: &mut Criterion) {
    init_runtime(None).expect("ONNX Runtime: run `make setup`");
    let mut g = c.benchmark_group("detect");
    for (kind, input) in [
        (DetectorKind::Retinaface, (320, 240)),
        (DetectorKind::Retinaface, (640, 480)),
        (DetectorKind::Blazeface, (128, 128)),
    ] {
        let mut cfg = DetectorConfig::for_kind(kind);
        (cfg.input_width, cfg.input_height) = input;
        let model = models::resolve(&cfg.model, kind.model_file(), std::path::Path::new(""));
        let mut det = Detector::open(&cfg, model, 1).expect("detector");
        for (w, h) in [(320, 240), (640, 480)] {
            let img = frame(w, h);
            let id = BenchmarkId::new(
                format!("{}@{}x{}", kind.name(), input.0, input.1),
                format!("{w}x{h}"),
            );
            g.bench_with_input(id, &img, |b, img| {
                b.iter(|| black_box(det.detect(img.view()).unwrap()))
            });
        }
    }
    g.finish();
}

fn classifier(c: &mut Criterion) {
    init_runtime(None).expect("ONNX Runtime: run `make setup`");
    let path = models::resolve(
        std::path::Path::new(""),
        models::DEFAULT_CLASSIFIER,
        std::path::Path::new(""),
    );
    let mut clf = Classifier::open(&path, 1).expect("classifier");
    let img = frame(640, 480);
    let mut g = c.benchmark_group("classify");
    for n in [1usize, 8] {
        let boxes: Vec<BBox> = (0..n)
            .map(|i| BBox {
                x0: 40.0 + 60.0 * (i % 8) as f32,
                y0: 100.0,
                x1: 90.0 + 60.0 * (i % 8) as f32,
                y1: 160.0,
            })
            .collect();
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("faces", n), &boxes, |b, boxes| {
            b.iter(|| black_box(clf.classify(img.view(), boxes).unwrap()))
        });
    }
    g.finish();
}

/// The ROS4HRI face images of one face (a 120 px box in a 640x480 frame) at the default 128 px.
fn face_images(c: &mut Criterion) {
    use masked_fer::tracking::face_images::{aligned, cropped};
    let rgb = frame(640, 480);
    let face = BBox {
        x0: 260.0,
        y0: 180.0,
        x1: 380.0,
        y1: 300.0,
    };
    let mut landmarks = [[0.0; 2]; 5];
    landmarks[..2].copy_from_slice(&[[290.0, 230.0], [350.0, 240.0]]);
    let mut g = c.benchmark_group("face_images");
    g.bench_function("cropped_128", |b| {
        b.iter(|| black_box(cropped(rgb.view(), &face, 128)))
    });
    g.bench_function("aligned_128", |b| {
        b.iter(|| black_box(aligned(rgb.view(), &face, &landmarks, 128)))
    });
}

/// The per-face ROS4HRI messages besides the images: landmarks and the /tf frames, built and
/// CDR-encoded as the node publishes them.
fn face_messages(c: &mut Criterion) {
    use masked_fer::io::bag::msgs::{to_cdr, Header};
    use masked_fer::tracking::face_frames::Pinhole;
    use masked_fer::tracking::frame::FaceOutput;
    use masked_fer::tracking::messages::{face_frames, landmarks};
    let face = FaceOutput {
        id: "f1_lfls".into(),
        bbox: BBox {
            x0: 260.0,
            y0: 180.0,
            x1: 380.0,
            y1: 300.0,
        },
        landmarks: [
            [290.0, 230.0],
            [350.0, 240.0],
            [320.0, 260.0],
            [300.0, 280.0],
            [340.0, 280.0],
        ],
        score: 0.9,
        track: 1,
        confirmed: true,
        hypotheses: Vec::new(),
        expression: None,
        cropped: None,
        aligned: None,
    };
    let header = Header {
        frame_id: "camera_optical".into(),
        ..Default::default()
    };
    let k = [500.0, 0.0, 320.0, 0.0, 500.0, 240.0, 0.0, 0.0, 1.0];
    let camera = Pinhole::from_k(&k, 640, 480).expect("a calibrated camera");
    let mut g = c.benchmark_group("face_messages");
    g.bench_function("landmarks", |b| {
        b.iter(|| black_box(to_cdr(&landmarks(&header, &face, (640, 480)))))
    });
    g.bench_function("tf_frames", |b| {
        b.iter(|| black_box(to_cdr(&face_frames(&header, &[&face], &camera, 0.15))))
    });
}

criterion_group!(
    benches,
    conversion,
    detectors,
    classifier,
    face_images,
    face_messages
);
criterion_main!(benches);
