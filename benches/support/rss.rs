//! The resident memory of the benchmark's own process.

#![allow(dead_code, reason = "each bench uses one of the two units")]

/// Resident memory of this process in bytes (Linux; 0 elsewhere).
pub fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// [`rss_bytes`] in MiB.
pub fn rss_mib() -> f64 {
    rss_bytes() as f64 / (1024.0 * 1024.0)
}
