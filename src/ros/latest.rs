//! The newest unprocessed frame of each camera. Receiving never waits for inference: a new frame
//! replaces the one still waiting (which counts as superseded), and the processing thread takes
//! frames round-robin across cameras so a fast camera cannot starve a slow one.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// A frame and when it arrived (for end-to-end latency).
#[derive(Debug)]
pub struct Pending<T> {
    pub frame: T,
    pub arrived: Instant,
}

#[derive(Debug)]
struct State<T> {
    slots: Vec<Option<Pending<T>>>,
    next: usize,
    closed: bool,
}

#[derive(Debug)]
pub struct Latest<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

/// A poisoned lock only means another thread panicked mid-update of plain counters or slots;
/// the data is still usable, and the node must keep running.
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T> Latest<T> {
    pub fn new(cameras: usize) -> Self {
        Self {
            state: Mutex::new(State {
                slots: (0..cameras).map(|_| None).collect(),
                next: 0,
                closed: false,
            }),
            ready: Condvar::new(),
        }
    }

    /// Offer camera `camera`'s newest frame; true when it superseded an unprocessed one.
    pub fn put(&self, camera: usize, frame: T) -> bool {
        let mut s = lock(&self.state);
        let Some(slot) = s.slots.get_mut(camera) else {
            return false;
        };
        let superseded = slot
            .replace(Pending {
                frame,
                arrived: Instant::now(),
            })
            .is_some();
        drop(s);
        self.ready.notify_one();
        superseded
    }

    /// Wait for the next frame (cameras in turn); `None` once closed.
    pub fn take(&self) -> Option<(usize, Pending<T>)> {
        let mut s = lock(&self.state);
        loop {
            if s.closed {
                return None;
            }
            let n = s.slots.len();
            for k in 0..n {
                let i = (s.next + k) % n;
                if let Some(p) = s.slots[i].take() {
                    s.next = (i + 1) % n;
                    return Some((i, p));
                }
            }
            s = self.ready.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Wake the processing thread for good.
    pub fn close(&self) {
        lock(&self.state).closed = true;
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn newest_frame_wins_and_cameras_take_turns() {
        let l = Latest::new(2);
        assert!(!l.put(0, "a1"));
        assert!(l.put(0, "a2"));
        assert!(!l.put(1, "b1"));
        assert!(l.put(0, "a3"));
        let (c, p) = l.take().unwrap();
        assert_eq!((c, p.frame), (0, "a3"));
        l.put(0, "a4");
        // Camera 1 has waited longer than camera 0's new frame.
        assert_eq!(l.take().unwrap().1.frame, "b1");
        assert_eq!(l.take().unwrap().1.frame, "a4");
        assert!(!l.put(7, "no such camera"));
    }

    #[test]
    fn take_blocks_until_a_frame_or_close() {
        let l = Arc::new(Latest::new(1));
        let l2 = l.clone();
        let t = std::thread::spawn(move || {
            let first = l2.take().map(|(_, p)| p.frame);
            (first, l2.take().is_none())
        });
        l.put(0, 5);
        while lock(&l.state).slots[0].is_some() {
            std::thread::yield_now();
        }
        l.close();
        assert_eq!(t.join().unwrap(), (Some(5), true));
    }
}
