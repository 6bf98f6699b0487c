//! A counting wrapper around the system allocator, so benchmarks and the node can measure the
//! heap traffic of their hot path (allocations per frame, and whether the live heap grows).
//! A binary opts in with
//! `#[global_allocator] static ALLOC: CountingAlloc = CountingAlloc;`.
//! Counters are relaxed atomics: a few nanoseconds per allocation. Only Rust allocations are
//! seen; ONNX Runtime allocates through its own C++ allocator (see [`resident_bytes`]).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

pub struct CountingAlloc;

static COUNT: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicI64 = AtomicI64::new(0);

fn record(size: usize) {
    COUNT.fetch_add(1, Relaxed);
    BYTES.fetch_add(size as u64, Relaxed);
    LIVE.fetch_add(size as i64, Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`; only counters are added.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(new_size);
        LIVE.fetch_sub(layout.size() as i64, Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

/// Cumulative allocation counters of the whole process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapCounters {
    /// Allocations (reallocations included) so far.
    pub allocations: u64,
    /// Bytes requested by them.
    pub bytes: u64,
    /// Bytes currently allocated and not freed.
    pub live: i64,
}

impl HeapCounters {
    /// The counters now, or None when the binary does not use [`CountingAlloc`].
    pub fn now() -> Option<Self> {
        // Any running Rust program has allocated by now, so a zero count means the counting
        // allocator is not installed.
        let allocations = COUNT.load(Relaxed);
        (allocations > 0).then(|| Self {
            allocations,
            bytes: BYTES.load(Relaxed),
            live: LIVE.load(Relaxed),
        })
    }

    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            allocations: self.allocations - earlier.allocations,
            bytes: self.bytes - earlier.bytes,
            live: self.live - earlier.live,
        }
    }
}

/// Resident set size of this process in bytes (Linux /proc; 4 KiB pages assumed), which also
/// sees the native libraries' heaps.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
