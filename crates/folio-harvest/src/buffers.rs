//! Page-sized buffers, used again from page to page.
//!
//! A harvest holds a few pages at a time (one being fetched, one being read, a few being
//! written), each a body of hundreds of kilobytes and the JSON lines cut from it. Allocated
//! afresh for every page, glibc handed such buffers back to the kernel when they were freed and
//! took them again for the next page, page fault by page fault: a fifth of the harvester's time
//! (BENCHMARKS.md, "The harvester"). Bodies and lines are taken from and given back to one
//! [`Buffers`] instead, so the harvester's memory stays the same size from the second page on.

use std::sync::{Arc, Mutex};

/// Buffers kept for use again: enough for the pages a harvest holds at once.
const KEPT: usize = 8;

/// A shared pool of byte buffers. Clones share the pool.
#[derive(Debug, Clone, Default)]
pub(crate) struct Buffers(Arc<Mutex<Vec<Vec<u8>>>>);

impl Buffers {
    /// An empty buffer: one given back earlier, with its capacity, or a new one.
    pub(crate) fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop()
            .unwrap_or_default()
    }

    /// Gives a buffer back for use again (dropped if enough are kept already).
    pub(crate) fn give(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        let mut kept = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.len() < KEPT {
            kept.push(buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_empty_with_their_capacity() {
        let buffers = Buffers::default();
        let mut buffer = buffers.take();
        buffer.extend_from_slice(&[1; 1000]);
        let capacity = buffer.capacity();
        buffers.clone().give(buffer);
        let again = buffers.take();
        assert!(again.is_empty());
        assert_eq!(again.capacity(), capacity);
        assert_eq!(buffers.take().capacity(), 0, "only the one given back is kept");
        for _ in 0..KEPT + 3 {
            buffers.give(vec![0; 10]);
        }
        assert_eq!(buffers.0.lock().unwrap().len(), KEPT);
    }
}
