//! Keys written twice in one run: detection keys (`ARCHER_DETECTION_KEY`) that another detection
//! of the run already has, and device links (`ARCHER_DEVICE_LINK`) of hosts without a Qualys ID
//! that another such host already has. Archer merges records with the same key into one, so each
//! is a record lost inside Archer, invisible to the admin: the run counts them and names the first
//! few ([`NAMED`]) with both sides (host IDs and QIDs).
//!
//! In scope: the run-wide set of written detection keys (64-bit hashes in [`KeyTable`], bounded),
//! naming both sides of a collision, the device-link check, the one-time note that
//! `uniqueVulnId` fell back to the seed's key. Out of scope: what the keys are (`super::keys`),
//! logging and the summary (the feed and the transform read [`Collisions`]).
//!
//! Memory, per detection key written: one 8-byte hash in an open-addressing table kept at most
//! 15/16 full (capacity a power of two: 8.5 to 17.1 bytes per key; doubling briefly holds both
//! tables; [`KeyTable::heap_bytes`]; measured in bench/KEYS.md). With `detectionKey=uniqueVulnId`
//! each slot also holds 8 bytes naming the detection (host and QID), because a `UNIQUE_VULN_ID`
//! key does not contain them. The table stops growing at 64 MiB ([`MAX_SLOTS`] hashes, about 7.8
//! million keys; 3.9 million with `uniqueVulnId`): later keys are still compared with the ones
//! kept but no longer added, and the run says so once. Per distinct DNS name of a detection host
//! (modes whose keys may start with it): 16 to 32 bytes (its hash and the first host's ID), to name
//! the other host of a collision between hosts sharing the name. Per host without an ID: its
//! device link's hash and (up to [`MAX_IP_BYTES`] in all) its IP.
//!
//! Naming needs no per-key record of who wrote it: a collision within one host is found again by
//! recomputing the keys of that host's earlier detections (the host is still in memory); one
//! across hosts is between hosts sharing a DNS name (the seed's key starts with it: named from the
//! hosts-by-DNS list), between hosts without an ID (`HOST_ID` keys), or (`uniqueVulnId`) between
//! two detections with the same `UNIQUE_VULN_ID` (named from the slot's payload). Only the first
//! [`NAMED`] collisions of each kind are named; the rest are counted.
//!
//! Time: one hash of the key text (8 bytes at a time) and one probe sequence per detection, on the
//! hot path; probe sequences are bounded ([`MAX_PROBE`]), so a server sending keys crafted to
//! collide in the table cannot slow the run down beyond that bound (such keys are then counted as
//! not checked). Hashes are keyed by a per-run seed. A 64-bit hash makes a false collision about
//! as likely as 1 in 10^7 at 1,000,000 keys.

use super::keys::{DetectionKey, HostKey, KeyBasis};
use crate::text;

/// Collisions of each kind named in full (both sides); later ones are only counted. The same as
/// the number of warnings of a kind the feed logs.
pub const NAMED: u64 = 5;
/// The table's largest size (slots of 8 bytes: 64 MiB; half as many with payloads).
pub const MAX_SLOTS: usize = 1 << 23;
/// The longest probe sequence: a key that would need more is grown past (while the table may
/// grow) or counted as not checked. Buckets keep real sequences far shorter.
pub const MAX_PROBE: usize = 4096;
const MIN_SLOTS: usize = 1 << 10;
/// Bytes of IPs of hosts without an ID kept to name the other side of a device-link collision.
pub const MAX_IP_BYTES: usize = 1 << 20;

const K1: u64 = 0x9E37_79B9_7F4A_7C15;
const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;

/// A 64-bit hash of `bytes` keyed by `seed`, eight bytes at a time. Each step is a bijection of
/// the state for a given word, so two keys of one length that differ in one word never collide.
pub fn hash_key(seed: u64, bytes: &[u8]) -> u64 {
    let len = bytes.len() as u64;
    let mut h = seed ^ len.wrapping_mul(K2);
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h ^ u64::from_le_bytes(b)).wrapping_mul(K1);
        h ^= h >> 32;
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        // The last bytes, little-endian, without a call (keys are short).
        let w = rest.iter().rev().fold(0u64, |w, b| (w << 8) | u64::from(*b));
        h = (h ^ w).wrapping_mul(K1);
        h ^= h >> 32;
    }
    fmix64(h ^ len)
}

/// MurmurHash3's finaliser: every input bit reaches every output bit.
fn fmix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

/// What [`KeyTable::insert`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The hash was not in the table; now it is.
    New,
    /// The hash was already in the table (with the payload stored with it, if the table keeps one).
    Again(u64),
    /// The table is at its size limit (or the probe bound was reached): not known, not added.
    Unchecked,
}

/// A set of 64-bit hashes: open addressing, linear probing by buckets of [`BUCKET`] slots (a key
/// goes to the first empty slot from the start of its home bucket on; with several slots per
/// home, probe sequences stay short even when the table is nearly full), capacity a power of two,
/// at most 15/16 full, never above [`MAX_SLOTS`] (or the limit given). Optionally a `u64` payload
/// per hash, kept next to it (one memory access per probe).
#[derive(Debug, Default)]
pub struct KeyTable {
    /// `1 << shift` words per slot: the hash (0 = empty), then the payload if any.
    words: Vec<u64>,
    shift: u32,
    /// Slots - 1 (slots: a power of two, at least [`BUCKET`]), or 0 before the first insert.
    mask: usize,
    len: usize,
    max_slots: usize,
}

/// Slots per bucket.
pub const BUCKET: usize = 8;

/// Where a probe for a hash ended.
enum Probe {
    /// The hash is in this slot.
    Found(usize),
    /// The hash is absent; this is the slot it goes to.
    Empty(usize),
    /// The probe bound was reached (or the table is empty).
    TooLong,
}

impl KeyTable {
    /// An empty table (allocates on the first insert), with a payload per hash when `payload`.
    pub fn new(payload: bool) -> Self {
        // 64 MiB at most either way: half the slots when each holds a payload too.
        KeyTable::with_limit(payload, MAX_SLOTS >> u32::from(payload))
    }

    /// [`KeyTable::new`] with another size limit (slots, rounded down to a power of two).
    pub fn with_limit(payload: bool, max_slots: usize) -> Self {
        let max_slots = max_slots.max(MIN_SLOTS);
        let max_slots = if max_slots.is_power_of_two() { max_slots } else { max_slots.next_power_of_two() >> 1 };
        KeyTable { words: Vec::new(), shift: u32::from(payload), mask: 0, len: 0, max_slots }
    }

    /// Hashes kept.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no hash is kept.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the table holds on the heap (hashes and payloads).
    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }

    fn slots(&self) -> usize {
        if self.words.is_empty() {
            0
        } else {
            self.mask + 1
        }
    }

    fn hash_at(&self, i: usize) -> u64 {
        self.words.get(i << self.shift).copied().unwrap_or(0)
    }

    fn payload_at(&self, i: usize) -> u64 {
        if self.shift == 0 {
            return 0;
        }
        self.words.get((i << 1) | 1).copied().unwrap_or(0)
    }

    fn put(&mut self, i: usize, hash: u64, payload: u64) {
        if let Some(w) = self.words.get_mut(i << self.shift) {
            *w = hash;
        }
        if self.shift > 0 {
            if let Some(w) = self.words.get_mut((i << 1) | 1) {
                *w = payload;
            }
        }
    }

    /// Adds `hash` (with `payload` when the table keeps one) unless it is there already.
    pub fn insert(&mut self, hash: u64, payload: u64) -> Seen {
        // 0 marks an empty slot.
        let hash = hash.max(1);
        if (self.len + 1) * 16 > self.slots() * 15 && !self.grow() && (self.len + 1) * 16 > self.slots() * 15 {
            return self.get(hash).map_or(Seen::Unchecked, Seen::Again);
        }
        for _ in 0..2 {
            match self.probe(hash) {
                Probe::Found(i) => return Seen::Again(self.payload_at(i)),
                Probe::Empty(i) => {
                    self.put(i, hash, payload);
                    self.len += 1;
                    return Seen::New;
                }
                Probe::TooLong => {
                    if !self.grow() {
                        return Seen::Unchecked;
                    }
                }
            }
        }
        Seen::Unchecked
    }

    /// The payload kept with `hash`, if the hash is kept.
    pub fn get(&self, hash: u64) -> Option<u64> {
        match self.probe(hash.max(1)) {
            Probe::Found(i) => Some(self.payload_at(i)),
            _ => None,
        }
    }

    /// From the start of the home bucket, the slot holding `hash` or the first empty one.
    fn probe(&self, hash: u64) -> Probe {
        let n = self.slots();
        if n == 0 {
            return Probe::TooLong;
        }
        let mask = self.mask;
        let mut i = (hash as usize).wrapping_mul(BUCKET) & mask;
        for _ in 0..MAX_PROBE.min(n) {
            match self.hash_at(i) {
                0 => return Probe::Empty(i),
                h if h == hash => return Probe::Found(i),
                _ => i = (i + 1) & mask,
            }
        }
        Probe::TooLong
    }

    /// Doubles the table (or allocates it); false at the size limit.
    fn grow(&mut self) -> bool {
        let n = self.slots();
        let new_n = if n == 0 { MIN_SLOTS.min(self.max_slots) } else { n * 2 };
        if new_n > self.max_slots || new_n <= n {
            return false;
        }
        let old = std::mem::replace(&mut self.words, vec![0; new_n << self.shift]);
        self.mask = new_n - 1;
        let mut kept = 0;
        for slot in old.chunks_exact(1 << self.shift) {
            let (h, payload) = (slot.first().copied().unwrap_or(0), slot.get(1).copied().unwrap_or(0));
            if h == 0 {
                continue;
            }
            // Each key kept is absent from the new table, which is at most 15/32 full.
            if let Probe::Empty(i) = self.probe(h) {
                self.put(i, h, payload);
                kept += 1;
            }
        }
        self.len = kept;
        true
    }
}

/// The host being written, as the detection checks need it.
#[derive(Clone, Copy, Debug, Default)]
pub struct HostSeen {
    ordinal: u32,
}

/// A detection key found written before whose both sides are to be named: see
/// [`Collisions::name_key_collision`].
#[derive(Clone, Copy, Debug)]
pub struct Hit {
    hash: u64,
    basis: KeyBasis,
    payload: u64,
}

impl Hit {
    /// The hash of the key.
    pub fn hash(&self) -> u64 {
        self.hash
    }
}

/// The run's check for keys written twice (see the module documentation).
#[derive(Debug)]
pub struct Collisions {
    kind: DetectionKey,
    seed: u64,
    keys: KeyTable,
    /// `uniqueVulnId`: host ID by ordinal (the payload names a host by its ordinal).
    host_ids: Vec<u64>,
    hosts: u32,
    /// DNS name -> the first host with it (its ID, 0 when it has none), in modes whose keys may
    /// start with the DNS name.
    dns_hosts: KeyTable,
    /// Device links of hosts without an ID -> the index of the first such host's IP in `ips`.
    links: KeyTable,
    /// IPs of hosts without an ID, one after the other (the payload of `links` is where one
    /// starts and its length), to name the other side; at most [`MAX_IP_BYTES`].
    ips: String,
    /// Detection keys that another detection of the run already had.
    pub key_collisions: u64,
    /// Device links (of hosts without an ID) that another host of the run already had.
    pub device_link_collisions: u64,
    /// Detection keys not checked because the table was full.
    pub unchecked: u64,
    /// What the run should say, in order: at most [`NAMED`] collisions of each kind, named, and
    /// two one-time notes (the `uniqueVulnId` fallback, the table's size limit).
    notes: Vec<String>,
    fallback_said: bool,
    limited_said: bool,
}

impl Collisions {
    /// The check for a run writing `kind` keys, hashing with `seed`.
    pub fn new(kind: DetectionKey, seed: u64) -> Self {
        Collisions {
            kind,
            seed,
            keys: KeyTable::new(kind == DetectionKey::UniqueVulnId),
            host_ids: Vec::new(),
            hosts: 0,
            dns_hosts: KeyTable::new(true),
            links: KeyTable::new(true),
            ips: String::new(),
            key_collisions: 0,
            device_link_collisions: 0,
            unchecked: 0,
            notes: Vec::new(),
            fallback_said: false,
            limited_said: false,
        }
    }

    /// The detection key the run writes.
    pub fn kind(&self) -> DetectionKey {
        self.kind
    }

    /// The hash seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The table of detection keys (for its size).
    pub fn table(&self) -> &KeyTable {
        &self.keys
    }

    /// What to say (warnings, in order) since the last call.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// A host record (hosts, hostDetections): checks its device link when it has no ID.
    pub fn host_record(&mut self, host: HostKey<'_>, ip: &str) {
        if host.id.is_empty() {
            self.device_link(host.dns.unwrap_or(""), ip);
        }
    }

    /// A detection host with at least one detection: checks its device link when it has no ID,
    /// and remembers it for naming the other side of a collision.
    pub fn host(&mut self, host: HostKey<'_>, ip: &str) -> HostSeen {
        let id = host.id.trim().parse::<u64>().ok();
        self.host_record(host, ip);
        let ordinal = self.hosts;
        self.hosts = self.hosts.saturating_add(1);
        if self.kind == DetectionKey::UniqueVulnId {
            self.host_ids.push(id.unwrap_or(0));
        }
        if self.kind != DetectionKey::HostQid {
            if let Some(dns) = host.dns {
                self.dns_hosts.insert(hash_key(self.seed, dns.as_bytes()), id.unwrap_or(0));
            }
        }
        HostSeen { ordinal }
    }

    /// Checks the device link of a host without an ID (its DNS name, or empty).
    fn device_link(&mut self, link: &str, ip: &str) {
        let h = hash_key(self.seed ^ K2, link.as_bytes());
        let ip: String = ip.chars().take(64).collect();
        let at = self.ips.len();
        let kept = at + ip.len() <= MAX_IP_BYTES;
        match self.links.insert(h, if kept { ((at as u64) << 8) | ip.len() as u64 } else { u64::MAX }) {
            Seen::New => {
                if kept {
                    self.ips.push_str(&ip);
                }
            }
            Seen::Unchecked => {}
            Seen::Again(first) => {
                self.device_link_collisions += 1;
                if self.device_link_collisions <= NAMED {
                    let (at, len) = (usize::try_from(first >> 8).unwrap_or(usize::MAX), (first & 0xFF) as usize);
                    let first_ip = self.ips.get(at..at.saturating_add(len)).unwrap_or("?");
                    let text = format!(
                        "device link collision: a host without a Qualys host ID (IP {}) got ARCHER_DEVICE_LINK '{}' (its DNS name), which an earlier host without an ID (IP {}) already has in this run: Archer would link both hosts' records to one device. Check why Qualys sends hosts without an ID (the URL's API version, or a proxy changing the answer).",
                        shown(&ip),
                        shown(link),
                        shown(first_ip)
                    );
                    self.notes.push(text);
                }
            }
        }
    }

    /// A detection key just written (`key`: its text as written), for a detection of `host`
    /// (`qid`: its QID). Returns a [`Hit`] when the key was written before and this collision is
    /// one of the first [`NAMED`]: the caller finds the other side and calls
    /// [`Collisions::name_key_collision`].
    pub fn detection(
        &mut self,
        key: &str,
        basis: KeyBasis,
        host: HostSeen,
        host_key: HostKey<'_>,
        qid: &str,
    ) -> Option<Hit> {
        if basis.is_fallback() && !self.fallback_said {
            self.fallback_said = true;
            self.notes.push(format!(
                "detectionKey=uniqueVulnId: detection QID {} of {} has no UNIQUE_VULN_ID (Qualys sends it from API 3.0 on; check the URL's /api/<version>/), so its ARCHER_DETECTION_KEY is the seed's ({}); so are those of every other detection without one (said once per run)",
                shown(qid),
                host_name(host_key.id),
                if basis.is_dns() { "DNS|QID|PORT|PROTOCOL" } else { "HOST_ID|QID|PORT|PROTOCOL|FIRST_FOUND_DATETIME" }
            ));
        }
        let hash = hash_key(self.seed, key.as_bytes());
        // Only a UNIQUE_VULN_ID key needs to say whose it is (other keys hold host and QID).
        let payload = if self.kind == DetectionKey::UniqueVulnId {
            (u64::from(host.ordinal) << 32) | u64::from(qid.trim().parse::<u32>().unwrap_or(u32::MAX))
        } else {
            0
        };
        match self.keys.insert(hash, payload) {
            Seen::New => None,
            Seen::Again(payload) => {
                self.key_collisions += 1;
                (self.key_collisions <= NAMED).then_some(Hit { hash, basis, payload })
            }
            Seen::Unchecked => {
                self.unchecked += 1;
                if !self.limited_said {
                    self.limited_said = true;
                    self.notes.push(format!(
                        "the check for detection keys written twice keeps at most {} keys ({} MiB); later keys are compared with those but not kept",
                        self.keys.len(),
                        self.keys.heap_bytes() >> 20
                    ));
                }
                None
            }
        }
    }

    /// Names both sides of a collision [`Collisions::detection`] returned: this detection (QID
    /// `qid` of `host_key`, key text `key`) and the earlier one, which is `earlier_in_host` (the
    /// QID of an earlier detection of this host with the same key) when it is on this host.
    pub fn name_key_collision(
        &mut self,
        hit: Hit,
        key: &str,
        host_key: HostKey<'_>,
        qid: &str,
        earlier_in_host: Option<&str>,
    ) {
        // The other side: (its QID, its host, why they share the key).
        let (other_qid, other_host, why): (String, String, &str) = match (earlier_in_host, hit.basis) {
            (Some(q), _) => (shown(q), "the same host".into(), " (one QID twice on one host: another INSTANCE?)"),
            (None, KeyBasis::UniqueVulnId) => {
                let other = self.host_ids.get(usize::try_from(hit.payload >> 32).unwrap_or(usize::MAX));
                let q = (hit.payload & 0xFFFF_FFFF) as u32;
                (
                    if q == u32::MAX { "?".into() } else { q.to_string() },
                    host_name(&other.filter(|id| **id != 0).map(u64::to_string).unwrap_or_default()),
                    " (the same UNIQUE_VULN_ID)",
                )
            }
            (None, b) if b.is_dns() => {
                // The first host with this DNS name (a later one may share it too).
                let first = self.dns_hosts.get(hash_key(self.seed, host_key.dns.unwrap_or("").as_bytes()));
                let first = first.filter(|id| *id != 0).map(|id| id.to_string()).unwrap_or_default();
                (shown(qid), host_name(&first), " (the hosts share the DNS name; named is the first host with it)")
            }
            (None, _) => (shown(qid), "another host".into(), " (hosts without a host ID)"),
        };
        self.notes.push(format!(
            "detection key collision: detection QID {} of {} got ARCHER_DETECTION_KEY '{}', which detection QID {other_qid} of {other_host} already has in this run{why}: Archer would merge the two into one record (detectionKey={}). Choose another detectionKey: {}.",
            shown(qid),
            host_name(host_key.id),
            shown(key),
            self.kind.as_str(),
            self.kind.alternatives()
        ));
    }

    /// The final word on collisions (advice), or `None` when there were none.
    pub fn summary_text(&self) -> Option<String> {
        let (k, d) = (self.key_collisions, self.device_link_collisions);
        if k == 0 && d == 0 {
            return None;
        }
        Some(format!(
            "key_collisions={k} device_link_collisions={d}: records of this run got an ARCHER_DETECTION_KEY (detections) or ARCHER_DEVICE_LINK (hosts without a Qualys ID) that an earlier record already has; Archer merges records with one key, so they would be lost inside Archer. For detections choose another detectionKey: {} (now {})",
            self.kind.alternatives(),
            self.kind.as_str()
        ))
    }
}

/// A host as messages name it: `host 123`, `host (no ID)`.
fn host_name(id: &str) -> String {
    if id.is_empty() {
        "host (no ID)".to_string()
    } else {
        format!("host {}", shown(id))
    }
}

/// Server text in a message: rendered (control characters escaped) and capped.
fn shown(s: &str) -> String {
    text::server_text(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_separate_keys_and_follow_the_seed() {
        let a = hash_key(1, b"one.one.one.one|11827|443|tcp");
        assert_eq!(a, hash_key(1, b"one.one.one.one|11827|443|tcp"));
        assert_ne!(a, hash_key(2, b"one.one.one.one|11827|443|tcp"));
        assert_ne!(a, hash_key(1, b"one.one.one.one|11827|443|udp"));
        assert_ne!(hash_key(1, b"ab"), hash_key(1, b"ab\0"));
        assert_ne!(hash_key(1, b""), hash_key(1, b"\0"));
        // 200,000 distinct keys of one shape: no two hashes equal.
        let mut seen = std::collections::HashSet::new();
        for i in 0..200_000u32 {
            assert!(seen.insert(hash_key(7, format!("host-{}.example.com|{}|443|tcp", i / 20, i).as_bytes())));
        }
    }

    #[test]
    fn the_table_finds_what_it_holds_and_grows() {
        let mut t = KeyTable::new(true);
        assert_eq!(t.heap_bytes(), 0, "nothing allocated before the first key");
        for i in 1..=100_000u64 {
            assert_eq!(t.insert(i.wrapping_mul(K1), i), Seen::New, "{i}");
        }
        for i in (1..=100_000u64).step_by(997) {
            assert_eq!(t.insert(i.wrapping_mul(K1), 0), Seen::Again(i), "{i}");
        }
        assert_eq!(t.len(), 100_000);
        assert_eq!(t.heap_bytes(), 131_072 * 16, "2^17 slots of hash + payload");
        assert_eq!(t.insert(0, 5), Seen::New, "a zero hash is kept too");
        assert!(matches!(t.insert(0, 6), Seen::Again(5)));
    }

    #[test]
    fn a_nearly_full_table_still_finds_every_key_and_no_other() {
        // Random hashes up to 15/16 of 2^18 slots, checked against a std map.
        let mut t = KeyTable::with_limit(true, 1 << 18);
        let mut want = std::collections::HashMap::new();
        let mut x = 0x1234_5678_9ABC_DEF0u64;
        for i in 0..(1u64 << 18) * 15 / 16 {
            x = fmix64(x.wrapping_add(i));
            let h = x | 1;
            let seen = t.insert(h, i);
            match want.get(&h) {
                Some(p) => assert_eq!(seen, Seen::Again(*p)),
                None => {
                    assert_eq!(seen, Seen::New, "{i}");
                    want.insert(h, i);
                }
            }
        }
        assert_eq!(t.len(), want.len());
        assert_eq!(t.heap_bytes(), (1 << 18) * 16, "no growth up to 15/16");
        for (h, p) in &want {
            assert_eq!(t.get(*h), Some(*p));
            assert_eq!(t.get(h ^ (1 << 40)), want.get(&(h ^ (1 << 40))).copied());
        }
    }

    #[test]
    fn the_table_stops_at_its_limit_and_keeps_answering() {
        let mut t = KeyTable::with_limit(false, 1024);
        let mut unchecked = 0;
        for i in 1..=2_000u64 {
            if t.insert(fmix64(i), 0) == Seen::Unchecked {
                unchecked += 1;
            }
        }
        assert_eq!(t.len(), 960, "15/16 of 1024 slots");
        assert_eq!(unchecked, 2_000 - 960);
        assert_eq!(t.heap_bytes(), 8 * 1024);
        assert_eq!(t.insert(fmix64(5), 0), Seen::Again(0), "a kept key is still found when full");
    }

    #[test]
    fn keys_crafted_to_share_a_slot_cost_a_bounded_probe() {
        // Hashes equal in their low 20 bits all start probing in one bucket.
        let mut t = KeyTable::with_limit(false, 1 << 12);
        let mut outcomes = [0u32; 3];
        for i in 1..=5_000u64 {
            match t.insert(i << 20, 0) {
                Seen::New => outcomes[0] += 1,
                Seen::Again(_) => outcomes[1] += 1,
                Seen::Unchecked => outcomes[2] += 1,
            }
        }
        assert_eq!(outcomes[1], 0);
        assert!(outcomes[0] as usize <= (1 << 12) * 15 / 16 && outcomes[2] > 0, "{outcomes:?}");
    }

    #[test]
    fn device_links_of_hosts_without_id_are_compared() {
        let mut c = Collisions::new(DetectionKey::Seed, 3);
        c.host_record(HostKey { id: "", dns: Some("shared.example.com") }, "10.0.0.1");
        c.host(HostKey { id: "7", dns: Some("shared.example.com") }, "10.0.0.2");
        assert_eq!(c.device_link_collisions, 0, "a host with an ID links by its ID");
        c.host(HostKey { id: "", dns: Some("shared.example.com") }, "10.0.0.3");
        c.host_record(HostKey { id: "", dns: Some("other.example.com") }, "10.0.0.4");
        assert_eq!(c.device_link_collisions, 1);
        let notes = c.take_notes();
        assert_eq!(notes.len(), 1);
        let t = &notes[0];
        assert!(
            t.starts_with("device link collision")
                && t.contains("10.0.0.3")
                && t.contains("10.0.0.1")
                && t.contains("'shared.example.com'"),
            "{t}"
        );
        assert!(c.take_notes().is_empty());
    }
}
