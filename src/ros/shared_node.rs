//! The r2r node shared by the spinning thread and the processing thread (which creates and
//! retires per-face publishers). `spin_once` holds the node's lock while it waits for events;
//! std's mutex is not fair, so a spinning loop that re-locks at once can starve the other thread
//! for seconds. Waiters announce themselves and the spinner steps aside for them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::latest::lock;

pub struct SharedNode {
    node: Mutex<r2r::Node>,
    waiting: AtomicUsize,
}

impl SharedNode {
    pub fn new(node: r2r::Node) -> Self {
        Self {
            node: Mutex::new(node),
            waiting: AtomicUsize::new(0),
        }
    }

    /// Run `f` with the node, as soon as the current spin step ends.
    pub fn with<R>(&self, f: impl FnOnce(&mut r2r::Node) -> R) -> R {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut node = lock(&self.node);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        f(&mut node)
    }

    /// One spin step of at most `timeout`, then let any waiting thread in first.
    pub fn spin_once(&self, timeout: Duration) {
        lock(&self.node).spin_once(timeout);
        while self.waiting.load(Ordering::SeqCst) > 0 {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}
