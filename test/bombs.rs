//! Decompression and size bombs (issue 18, RELIABILITY.md): small inputs that declare huge
//! images or arrays are refused before anything large is allocated, and a frame at the size
//! limit costs what the limit says. Each case runs the real `masked_fer` binary; its peak
//! resident memory comes from the kernel (wait4) and is compared with the same command on an
//! ordinary input, measured in the same test.
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use masked_fer::io::bag::msgs::{self, CompressedImage, Header, Image, RosMessage, Time};
use masked_fer::io::bag::BagMessage;
use masked_fer::perception::image::MAX_PIXELS;

/// What a refused input may add to the ordinary run's peak, KiB: the input file itself and
/// allocator noise, nothing the size of a declared image.
const REFUSED_KIB: u64 = 32 * 1024;

fn masked_fer(args: &[&Path]) -> (Option<i32>, String, u64) {
    common::peak_rss(Command::new(env!("CARGO_BIN_EXE_masked_fer")).args(args))
}

/// A PNG (RGB, 8 bits) of `w` x `h` black pixels that really inflates to that size (zlib
/// compresses the rows about 1000:1).
fn black_png(w: u32, h: u32) -> Vec<u8> {
    // The stream writer owns what it writes to: a file, read back.
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut enc = png::Encoder::new(file.reopen().unwrap(), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_compression(png::Compression::High);
    let mut writer = enc.write_header().unwrap().into_stream_writer().unwrap();
    let row = vec![0u8; w as usize * 3];
    for _ in 0..h {
        std::io::Write::write_all(&mut writer, &row).unwrap();
    }
    writer.finish().unwrap();
    std::fs::read(file.path()).unwrap()
}

/// A bundled JPEG whose frame header (SOF0/SOF2) declares `w` x `h`.
fn jpeg_declaring(w: u16, h: u16) -> Vec<u8> {
    let mut b = std::fs::read(common::data("images/maksssksksss0.jpg")).unwrap();
    let sof = b
        .windows(2)
        .position(|m| m == [0xFF, 0xC0] || m == [0xFF, 0xC2])
        .unwrap();
    // marker, length u16, precision u8, then height and width (big endian).
    b[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    b[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    b
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn images_declaring_huge_sizes_are_refused_before_allocating_and_the_limit_costs_one_frame() {
    let dir = tempfile::tempdir().unwrap();
    let detect = Path::new("detect");
    let (code, err, base) = masked_fer(&[detect, &common::data("images/maksssksksss0.jpg")]);
    assert_eq!(code, Some(0), "{err}");
    // The limit is 2^25 pixels; 8192 x 4096 is exactly that.
    assert_eq!(8192 * 4096, MAX_PIXELS);
    let refused = [
        ("jpeg_65500x65500.jpg", jpeg_declaring(65500, 65500)),
        ("png_60000x60000.png", {
            // A valid header and one tiny IDAT: the decoder must not trust the header's size.
            let mut p = black_png(8, 8);
            p[16..20].copy_from_slice(&60000u32.to_be_bytes());
            p[20..24].copy_from_slice(&60000u32.to_be_bytes());
            let crc = crc32fast::hash(&p[12..29]);
            p[29..33].copy_from_slice(&crc.to_be_bytes());
            p
        }),
        ("png_bomb_over_the_limit.png", black_png(8192, 4097)),
    ];
    for (name, bytes) in refused {
        let path = write(dir.path(), name, &bytes);
        let (code, err, peak) = masked_fer(&[detect, &path]);
        println!(
            "detect {name} ({} bytes): peak {peak} KiB, ordinary {base} KiB",
            bytes.len()
        );
        assert_eq!(code, Some(1), "{name}: {err}");
        assert!(err.contains("exceeds the limit"), "{name}: {err}");
        assert!(
            peak <= base + REFUSED_KIB,
            "{name} ({} bytes): peak {peak} KiB against {base} KiB",
            bytes.len()
        );
    }
    // A real decompression bomb at the limit (98 KB of PNG, 100 MB of pixels) is decoded and
    // costs about one decoded frame; twice that is the bound.
    let at_limit = black_png(8192, 4096);
    assert!(at_limit.len() < 200_000);
    let path = write(dir.path(), "png_bomb_at_the_limit.png", &at_limit);
    let (code, err, peak) = masked_fer(&[detect, &path]);
    println!(
        "detect png_bomb_at_the_limit.png ({} bytes): peak {peak} KiB, ordinary {base} KiB",
        at_limit.len()
    );
    assert_eq!(code, Some(0), "{err}");
    let frame_kib = MAX_PIXELS * 3 / 1024;
    assert!(
        peak <= base + 2 * frame_kib,
        "at the limit: peak {peak} KiB against {base} KiB"
    );
}

fn header(n: u32) -> Header {
    Header {
        stamp: Time {
            sec: 1000 + n as i32,
            nanosec: 0,
        },
        frame_id: "camera".into(),
    }
}

fn image(n: u32, width: u32, height: u32, data: Vec<u8>) -> BagMessage {
    let img = Image {
        header: header(n),
        height,
        width,
        encoding: "rgb8".into(),
        is_bigendian: 0,
        step: width * 3,
        data,
    };
    message(n, Image::TYPE, msgs::to_cdr(&img).unwrap())
}

fn compressed(n: u32, data: Vec<u8>) -> BagMessage {
    let img = CompressedImage {
        header: header(n),
        format: "jpeg".into(),
        data,
    };
    message(n, CompressedImage::TYPE, msgs::to_cdr(&img).unwrap())
}

fn message(n: u32, type_name: &str, data: Vec<u8>) -> BagMessage {
    let topic = if type_name == Image::TYPE {
        "/cam"
    } else {
        "/cam/compressed"
    };
    BagMessage {
        topic: topic.into(),
        type_name: type_name.into(),
        log_time: 1_000_000_000 * u64::from(1000 + n),
        data,
    }
}

#[test]
fn bag_messages_declaring_huge_arrays_or_images_are_refused_and_the_replay_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(common::data("images/maksssksksss0.jpg")).unwrap();
    let ordinary = dir.path().join("ordinary.mcap");
    common::write_mcap(&ordinary, None, &[compressed(0, good.clone())]);
    let replay = Path::new("replay");
    let report = dir.path().join("report");
    let (code, err, base) = masked_fer(&[replay, &ordinary, Path::new("--report"), &report]);
    assert_eq!(code, Some(0), "{err}");

    // An rgb8 Image whose data array declares 4 GiB: the length field precedes the last 16
    // bytes of the message.
    let mut huge_array = image(1, 4, 4, vec![0; 16]).data;
    let at = huge_array.len() - 20;
    huge_array[at..at + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let bombs = vec![
        message(1, Image::TYPE, huge_array),
        image(2, 16_384, 16_384, vec![0; 16]), // 768 MiB of pixels declared, 16 bytes sent
        compressed(3, jpeg_declaring(65500, 65500)),
        compressed(4, black_png(8192, 4097)),
        compressed(5, good),
    ];
    let bag = dir.path().join("bombs.mcap");
    common::write_mcap(&bag, None, &bombs);
    let (code, err, peak) = masked_fer(&[replay, &bag, Path::new("--report"), &report]);
    println!("replay of the bombs: peak {peak} KiB, ordinary {base} KiB");
    assert_eq!(code, Some(0), "{err}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(r["frames"], 5, "every message is a frame of the report");
    let failed = r["topics"]["/cam"]["failed"].as_u64().unwrap()
        + r["topics"]["/cam/compressed"]["failed"].as_u64().unwrap();
    assert_eq!(failed, 4, "{r}");
    assert!(r["topics"]["/cam/compressed"]["faces"].as_u64().unwrap() > 0);
    assert!(
        peak <= base + REFUSED_KIB,
        "peak {peak} KiB against {base} KiB"
    );
}
