//! Summary statistics of timings: nearest-rank quantiles and the p50 / p95 / max reports use.

use serde::Serialize;

/// p50 / p95 / max of a set of milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(mut v: Vec<f64>) -> Self {
        if v.is_empty() {
            return Self::default();
        }
        v.sort_by(f64::total_cmp);
        Self {
            p50: quantile(&v, 0.5),
            p95: quantile(&v, 0.95),
            max: v[v.len() - 1],
        }
    }
}

/// The `q` quantile (nearest rank) of ascending `sorted` values; 0 when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}
