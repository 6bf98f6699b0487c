//! How each figure is measured: timed calls, frames on several cores at once, and the heap
//! traffic of a frame.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use masked_fer::alloc_count::{resident_bytes, HeapCounters};
use masked_fer::Pipeline;
use serde::Serialize;

/// Milliseconds of each timed call of `f` (after three warm-up calls), for `seconds` and at
/// least ten calls, sorted.
pub fn sample(seconds: f64, mut f: impl FnMut() -> Result<()>) -> Result<Vec<f64>> {
    for _ in 0..3 {
        f()?;
    }
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut ms = Vec::new();
    while ms.len() < 10 || start.elapsed() < budget {
        let t = Instant::now();
        f()?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms)
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Frames per second of `workers` threads, each with its own pipeline from `make`, each
/// processing `jpeg` over and over for `seconds` (started together after a warm-up).
pub fn parallel_fps(
    workers: usize,
    seconds: f64,
    jpeg: &[u8],
    make: impl Fn() -> Result<Pipeline> + Sync,
) -> Result<f64> {
    let ready = Barrier::new(workers);
    let budget = Duration::from_secs_f64(seconds);
    let counts: Vec<Result<(u64, Duration)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| -> Result<(u64, Duration)> {
                    let mut p = make();
                    if let Ok(p) = p.as_mut() {
                        for _ in 0..3 {
                            p.process_compressed("jpeg", jpeg)?;
                        }
                    }
                    // Every worker reaches the barrier, even one that failed, so none waits forever.
                    ready.wait();
                    let mut p = p?;
                    let start = Instant::now();
                    let mut n = 0;
                    while start.elapsed() < budget {
                        p.process_compressed("jpeg", jpeg)?;
                        n += 1;
                    }
                    Ok((n, start.elapsed()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("worker panicked")))
            })
            .collect()
    });
    let mut fps = 0.0;
    for c in counts {
        let (n, took) = c.context("parallel worker")?;
        fps += n as f64 / took.as_secs_f64();
    }
    Ok(fps)
}

/// Heap traffic of the integrated path per frame, after a warm-up.
#[derive(Serialize, Clone, Copy)]
pub struct HeapPerFrame {
    pub frames: u64,
    pub allocations_per_frame: f64,
    pub bytes_per_frame: f64,
    /// Change of the live Rust heap over all measured frames (0 = no growth).
    pub live_growth_bytes: i64,
    /// Change of the resident set size over all measured frames (ONNX Runtime included).
    pub rss_growth_bytes: i64,
}

/// None when the binary does not count allocations.
pub fn heap_per_frame(p: &mut Pipeline, jpeg: &[u8], frames: u64) -> Result<Option<HeapPerFrame>> {
    for _ in 0..20 {
        p.process_compressed("jpeg", jpeg)?;
    }
    let (Some(before), Some(rss0)) = (HeapCounters::now(), resident_bytes()) else {
        return Ok(None);
    };
    for _ in 0..frames {
        p.process_compressed("jpeg", jpeg)?;
    }
    let (Some(after), Some(rss1)) = (HeapCounters::now(), resident_bytes()) else {
        return Ok(None);
    };
    let d = after.since(&before);
    Ok(Some(HeapPerFrame {
        frames,
        allocations_per_frame: d.allocations as f64 / frames as f64,
        bytes_per_frame: d.bytes as f64 / frames as f64,
        live_growth_bytes: d.live,
        rss_growth_bytes: rss1 as i64 - rss0 as i64,
    }))
}
