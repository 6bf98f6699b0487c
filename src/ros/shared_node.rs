//! The r2r node shared by the spinning thread and the processing thread (which creates and
//! retires per-face publishers). `spin_once` holds the node's lock while it waits for events; an
//! unfair mutex lets a spinning loop that re-locks at once starve the other thread for seconds,
//! so each spin step ends with a fair unlock (parking_lot): a waiting thread gets the node next.

use std::time::Duration;

use parking_lot::{Mutex, MutexGuard};

pub struct SharedNode {
    node: Mutex<r2r::Node>,
}

impl SharedNode {
    pub fn new(node: r2r::Node) -> Self {
        Self {
            node: Mutex::new(node),
        }
    }

    /// Run `f` with the node, as soon as the current spin step ends.
    pub fn with<R>(&self, f: impl FnOnce(&mut r2r::Node) -> R) -> R {
        f(&mut self.node.lock())
    }

    /// One spin step of at most `timeout`, then hand the node to a waiting thread, if any.
    pub fn spin_once(&self, timeout: Duration) {
        let mut node = self.node.lock();
        node.spin_once(timeout);
        MutexGuard::unlock_fair(node);
    }
}
