//! Memory per tuple of the in-memory store: the resident memory a
//! `MemoryStore` adds when the drive data set is written into it, divided
//! by the number of tuples. The tuples are generated first (the generator's
//! own memory is counted before), then written in batches of 10,000, as an
//! import does. Not part of `cargo test`; figures go to
//! docs/performance.md.
//!
//! ```sh
//! cargo bench --bench memory_footprint -- 100000 1000000
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/dataset.rs"]
mod dataset;
#[path = "support/rss.rs"]
mod rss;

use rss::rss_bytes;
use zanzi::{MemoryStore, TupleStore};

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100_000]
    } else {
        sizes
    };
    for n in sizes {
        let data = dataset::generate(n, 0, 42);
        let before = rss_bytes();
        let store = MemoryStore::new();
        for batch in data.tuples.chunks(10_000) {
            store.write(batch, &[]).unwrap();
        }
        let after = rss_bytes();
        let tuples = data.tuples.len() as u64;
        let added = after.saturating_sub(before);
        println!(
            "memory store, drive data, {tuples} tuples: {:.1} MiB added, {} bytes per tuple",
            added as f64 / (1024.0 * 1024.0),
            added / tuples.max(1)
        );
        drop(store);
        drop(data);
    }
}
