//! Counting what a client holds open (uploads in flight, WebSocket connections) per key
//! and in total; a slot is given back when it is dropped.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex},
};

pub struct Gate<K: Eq + Hash + Clone> {
    counts: Arc<Mutex<Counts<K>>>,
    per_key: usize,
    total: usize,
}

struct Counts<K> {
    by_key: HashMap<K, usize>,
    total: usize,
}

impl<K: Eq + Hash + Clone> Clone for Gate<K> {
    fn clone(&self) -> Self {
        Self {
            counts: self.counts.clone(),
            per_key: self.per_key,
            total: self.total,
        }
    }
}

/// One slot of a gate, held while the thing it counts is open.
pub struct Slot<K: Eq + Hash + Clone> {
    counts: Arc<Mutex<Counts<K>>>,
    key: K,
}

impl<K: Eq + Hash + Clone> Gate<K> {
    pub fn new(per_key: usize, total: usize) -> Self {
        Self {
            counts: Arc::new(Mutex::new(Counts {
                by_key: HashMap::new(),
                total: 0,
            })),
            per_key,
            total,
        }
    }

    /// A slot for `key`, or `None` when the key or the whole gate is full.
    pub fn try_enter(&self, key: K) -> Option<Slot<K>> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mine = counts.by_key.get(&key).copied().unwrap_or(0);
        if counts.total >= self.total || mine >= self.per_key {
            return None;
        }
        counts.total += 1;
        *counts.by_key.entry(key.clone()).or_default() += 1;
        Some(Slot {
            counts: self.counts.clone(),
            key,
        })
    }
}

impl<K: Eq + Hash + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(count) = counts.by_key.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.by_key.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_per_key_and_in_total_and_gives_slots_back() {
        let gate = Gate::new(2, 3);
        let a1 = gate.try_enter("a").unwrap();
        let _a2 = gate.try_enter("a").unwrap();
        assert!(gate.try_enter("a").is_none(), "per key");
        let _b1 = gate.try_enter("b").unwrap();
        assert!(gate.try_enter("c").is_none(), "in total");
        drop(a1);
        assert!(gate.try_enter("c").is_some());
        assert!(gate.try_enter("a").is_some());
    }
}
