//! Which `--jobs` slot a running build holds: the semaphore bounds how many builds run, and
//! this numbers them, so the report's timeline can draw one row per slot (a Gantt chart in
//! the manner of `cargo build --timings`).

use std::sync::Mutex;

/// The slots, busy or free.
pub(super) struct Lanes {
    busy: Mutex<Vec<bool>>,
}

/// A slot held by a running build; freed when dropped.
pub(super) struct Lane<'a> {
    lanes: &'a Lanes,
    pub index: usize,
}

impl Lanes {
    pub(super) fn new(count: usize) -> Lanes {
        Lanes {
            busy: Mutex::new(vec![false; count.max(1)]),
        }
    }

    /// The lowest free slot. Taken after the build semaphore's permit, so one is free; should
    /// that ever not hold, a new row is better than a wrong one.
    pub(super) fn take(&self) -> Lane<'_> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        let index = match busy.iter().position(|b| !b) {
            Some(index) => index,
            None => {
                busy.push(false);
                busy.len() - 1
            }
        };
        busy[index] = true;
        Lane { lanes: self, index }
    }
}

impl Drop for Lane<'_> {
    fn drop(&mut self) {
        let mut busy = self.lanes.busy.lock().unwrap_or_else(|e| e.into_inner());
        busy[self.index] = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_free_slot_is_taken_and_freed_on_drop() {
        let lanes = Lanes::new(2);
        let a = lanes.take();
        let b = lanes.take();
        assert_eq!((a.index, b.index), (0, 1));
        drop(a);
        assert_eq!(lanes.take().index, 0);
        // More builds than slots (never with the semaphore) still get distinct rows.
        let c = lanes.take();
        let d = lanes.take();
        assert_ne!(c.index, d.index);
    }
}
