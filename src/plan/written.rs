//! The run-wide set of written record IDs: compact, bounded by what was written, cheap per record.
//!
//! In scope: [`IdSet`], a set of `u64` in the manner of a roaring bitmap. An ID is split into its
//! high 48 bits (the block key) and its low 16 bits. Each block present holds its low halves
//! either as a sorted `Vec<u16>` (an array container, 2 bytes per ID) or, once it holds more than
//! 4,096 IDs, as a 65,536-bit bitmap (8 KiB, 1 bit per possible ID). Keys are kept sorted, so an
//! insert or lookup is a binary search over the blocks plus a binary search (or a bit test) in
//! one block: O(log n). Inserts that mostly ascend (as Qualys pages do) hit the last block and
//! append to it: no search, no shifting. Out of scope: what an ID means and when to insert it
//! (`crate::plan`).
//!
//! Memory: about 2 bytes per ID in an array block (grown by a quarter, so at most a quarter spare)
//! and never more than 8 KiB per block, plus about 32 bytes per block (key and container).
//! Measured at 1,000,000 IDs (bench/IDSET.md): 2.1-2.4 bytes per ID for Qualys-like sparse host
//! IDs (10^7..1.5*10^8, ascending or shuffled) and 0.13 bytes per ID for consecutive IDs. The worst
//! case is one ID per 65,536-ID block (about 36 bytes per ID), still far below the bytes of the
//! record it stands for.

/// Above this many IDs a block switches from a sorted array (2 bytes per ID) to a bitmap (8 KiB).
const ARRAY_MAX: usize = 4096;
const BITMAP_WORDS: usize = 1024;

#[derive(Clone, Debug)]
enum Block {
    /// Sorted, distinct low halves.
    Array(Vec<u16>),
    /// Bit `low` set = `low` present.
    Bitmap(Box<[u64; BITMAP_WORDS]>),
}

impl Block {
    fn insert(&mut self, low: u16) -> bool {
        match self {
            Block::Array(v) => {
                // Fast path: ascending inserts append.
                match v.last() {
                    Some(&last) if low > last => {}
                    None => {}
                    Some(_) => match v.binary_search(&low) {
                        Ok(_) => return false,
                        Err(at) => {
                            if v.len() < ARRAY_MAX {
                                grow(v);
                                v.insert(at, low);
                                return true;
                            }
                        }
                    },
                }
                if v.len() < ARRAY_MAX {
                    grow(v);
                    v.push(low);
                    return true;
                }
                let mut bits = Box::new([0u64; BITMAP_WORDS]);
                for &x in v.iter() {
                    set_bit(&mut bits, x);
                }
                set_bit(&mut bits, low);
                *self = Block::Bitmap(bits);
                true
            }
            Block::Bitmap(bits) => {
                let (word, bit) = (usize::from(low >> 6), 1u64 << (low & 63));
                match bits.get_mut(word) {
                    Some(w) if *w & bit == 0 => {
                        *w |= bit;
                        true
                    }
                    _ => false,
                }
            }
        }
    }

    fn contains(&self, low: u16) -> bool {
        match self {
            Block::Array(v) => v.binary_search(&low).is_ok(),
            Block::Bitmap(bits) => bits.get(usize::from(low >> 6)).is_some_and(|w| w & (1u64 << (low & 63)) != 0),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        match self {
            Block::Array(v) => v.len(),
            Block::Bitmap(bits) => bits.iter().map(|w| w.count_ones() as usize).sum(),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Block::Array(v) => v.capacity() * 2,
            Block::Bitmap(_) => BITMAP_WORDS * 8,
        }
    }

    /// Gives back the spare capacity of an array block (done once a later block starts, when
    /// inserts ascend: the block is then most likely complete).
    fn shrink(&mut self) {
        if let Block::Array(v) = self {
            v.shrink_to_fit();
        }
    }
}

/// Room for one more low half, growing by a quarter (not doubling): at most a quarter of an array
/// block is spare, even for a block that was shrunk and then filled further (pages out of order).
fn grow(v: &mut Vec<u16>) {
    if v.len() == v.capacity() {
        v.reserve_exact((v.len() / 4).max(4));
    }
}

fn set_bit(bits: &mut [u64; BITMAP_WORDS], low: u16) {
    if let Some(w) = bits.get_mut(usize::from(low >> 6)) {
        *w |= 1u64 << (low & 63);
    }
}

/// A set of `u64` IDs; see the module documentation for its layout and cost.
#[derive(Clone, Debug, Default)]
pub struct IdSet {
    /// Sorted block keys (ID >> 16), parallel to `blocks`.
    keys: Vec<u64>,
    blocks: Vec<Block>,
    len: usize,
}

impl IdSet {
    /// An empty set.
    pub fn new() -> IdSet {
        IdSet::default()
    }

    /// Adds `id`; `false` if it was already there.
    pub fn insert(&mut self, id: u64) -> bool {
        let (key, low) = (id >> 16, id as u16);
        let at = match self.keys.last() {
            // Fast path: the last block (ascending inserts).
            Some(&last) if last == key => self.keys.len() - 1,
            Some(&last) if last < key => {
                if let Some(b) = self.blocks.last_mut() {
                    b.shrink();
                }
                self.keys.push(key);
                self.blocks.push(Block::Array(Vec::with_capacity(4)));
                self.keys.len() - 1
            }
            _ => match self.keys.binary_search(&key) {
                Ok(i) => i,
                Err(i) => {
                    self.keys.insert(i, key);
                    self.blocks.insert(i, Block::Array(Vec::with_capacity(4)));
                    i
                }
            },
        };
        let added = self.blocks.get_mut(at).is_some_and(|b| b.insert(low));
        self.len += usize::from(added);
        added
    }

    /// Whether `id` is in the set.
    pub fn contains(&self, id: u64) -> bool {
        let (key, low) = (id >> 16, id as u16);
        match self.keys.binary_search(&key) {
            Ok(i) => self.blocks.get(i).is_some_and(|b| b.contains(low)),
            Err(_) => false,
        }
    }

    /// Number of IDs in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no ID.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes this set keeps on the heap (capacities, not lengths): what it costs in memory.
    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity() * std::mem::size_of::<u64>()
            + self.blocks.capacity() * std::mem::size_of::<Block>()
            + self.blocks.iter().map(Block::heap_bytes).sum::<usize>()
    }

    /// Number of 65,536-ID blocks in use, and how many of them are bitmaps (for measurements).
    pub fn blocks(&self) -> (usize, usize) {
        (self.blocks.len(), self.blocks.iter().filter(|b| matches!(b, Block::Bitmap(_))).count())
    }

    /// The IDs in ascending order (tests and measurements; not on the feed's path).
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.keys.iter().zip(&self.blocks).flat_map(|(&key, block)| {
            let base = key << 16;
            let lows: Box<dyn Iterator<Item = u16> + '_> = match block {
                Block::Array(v) => Box::new(v.iter().copied()),
                Block::Bitmap(bits) => Box::new(
                    (0..=u16::MAX)
                        .filter(move |&l| bits.get(usize::from(l >> 6)).is_some_and(|w| w >> (l & 63) & 1 == 1)),
                ),
            };
            lows.map(move |l| base | u64::from(l))
        })
    }

    /// Checks the set's own invariants (sorted distinct keys, sorted distinct arrays within their
    /// size, the length); for tests.
    #[cfg(test)]
    fn check(&self) {
        assert_eq!(self.keys.len(), self.blocks.len());
        assert!(self.keys.windows(2).all(|w| w[0] < w[1]));
        for b in &self.blocks {
            if let Block::Array(v) = b {
                assert!(!v.is_empty() && v.len() <= ARRAY_MAX);
                assert!(v.windows(2).all(|w| w[0] < w[1]));
            }
        }
        assert_eq!(self.blocks.iter().map(Block::len).sum::<usize>(), self.len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::TestRng;
    use std::collections::BTreeSet;

    /// Inserts and lookups checked against a BTreeSet, over several ID shapes.
    #[test]
    fn behaves_like_a_btreeset() {
        for seed in 1..=40u64 {
            let mut rng = TestRng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut set = IdSet::new();
            let mut model = BTreeSet::new();
            let shape = seed % 5;
            let mut cursor: u64 = rng.next() % 1_000_000;
            for _ in 0..3000 {
                let id = match shape {
                    // ascending with gaps, sometimes a step back (unsorted pages, overlaps)
                    0 => {
                        if rng.below(10) == 0 {
                            cursor.saturating_sub(rng.next() % 500)
                        } else {
                            cursor += 1 + rng.next() % 300;
                            cursor
                        }
                    }
                    // dense: fills blocks past the bitmap switch
                    1 => cursor + rng.next() % 9000,
                    // anywhere
                    2 => rng.next(),
                    // the extremes and block edges
                    3 => [0, 1, u64::MAX, u64::MAX - 1, 65_535, 65_536, 1 << 32, (1 << 48) - 1][rng.below(8)]
                        .wrapping_add(rng.next() % 3),
                    // a few blocks, random order
                    _ => ((rng.next() % 4) << 16) | (rng.next() % 65_536),
                };
                assert_eq!(set.insert(id), model.insert(id), "seed {seed}: insert {id}");
                let probe = if rng.below(2) == 0 { id } else { rng.next() % (cursor + 10_000) };
                assert_eq!(set.contains(probe), model.contains(&probe), "seed {seed}: contains {probe}");
            }
            set.check();
            assert_eq!(set.len(), model.len());
            assert!(set.iter().eq(model.iter().copied()), "seed {seed}: same elements in order");
        }
    }

    #[test]
    fn a_dense_block_becomes_a_bitmap_and_stays_exact() {
        let mut set = IdSet::new();
        // descending inserts into one block: the array path with shifting, then the switch
        for id in (0..10_000u64).rev().map(|i| (7 << 16) | (i * 3 % 65_536)) {
            set.insert(id);
        }
        assert_eq!(set.blocks(), (1, 1));
        set.check();
        assert!(set.contains((7 << 16) | 29_997));
        assert!(!set.contains((7 << 16) | 1));
        assert!(!set.insert((7 << 16) | 3));
        assert!(set.insert((7 << 16) | 1));
        assert_eq!(set.len(), 10_001);
    }

    #[test]
    fn memory_is_about_two_bytes_per_sparse_id_and_a_bit_per_dense_one() {
        let mut rng = TestRng::new(9);
        let mut sparse = IdSet::new();
        let mut id = 10_000_000u64;
        for _ in 0..100_000 {
            id += 1 + rng.next() % 280;
            sparse.insert(id);
        }
        let per_id = sparse.heap_bytes() as f64 / sparse.len() as f64;
        assert!(per_id < 3.0, "sparse: {per_id} bytes per ID");
        let mut dense = IdSet::new();
        for id in 5_000_000..5_100_000u64 {
            dense.insert(id);
        }
        let per_id = dense.heap_bytes() as f64 / dense.len() as f64;
        assert!(per_id < 0.2, "dense: {per_id} bytes per ID");
    }
}
