//! Percentiles of timing samples, shared by the persistence benchmarks.

use std::time::Duration;

/// The `p` percentile (0..=1) of `sorted` samples (nearest rank).
#[allow(dead_code)]
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
