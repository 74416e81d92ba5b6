// The persistent format of an stree pool: a B+ tree whose every node lives in persistent
// memory, and the invariants that make a pool readable after a crash at any instant. Nothing
// is rebuilt on open: the root object names the root node, the height and the entry count.
//
// Persistent format: the numbers below (layout name, version, magic, tags, type numbers, field
// order, capacities) are what existing pools contain. Never change them; a new format gets a
// new kLayoutVersion.
#pragma once

#include <cstddef>
#include <cstdint>

#include <pmemkv/comparator.h>

namespace stree {

// The pmemobj layout name: a pool created by another engine fails to open with this name.
inline constexpr const char kLayoutName[] = "pmemkv_stree";
// Incremented on any change of the structures below. Version 2 added slabs of pair records
// (kSlabTypeNum, Root::slabs) and the journal (kJournalTypeNum, Root::journal); every version 1
// structure is unchanged, so a version 1 pool is a version 2 pool without slabs. Open upgrades
// it (see "upgrade" below) before anything else is written.
inline constexpr uint64_t kLayoutVersion = 2;
inline constexpr uint64_t kOldestReadableVersion = 1;
// Root::magic once the root is initialized ("STREEKV" plus a zero byte, little-endian).
inline constexpr uint64_t kRootMagic = 0x0056'4B45'4552'5453ULL;

// Node tags: the first word of every node says what it is, so an offset that names the wrong
// kind of object (a damaged pool) is caught before its fields are trusted.
inline constexpr uint32_t kLeafTag = 0x4641'454CU;   // "LEAF"
inline constexpr uint32_t kInnerTag = 0x524E'4E49U;  // "INNR"

// Capacities. A leaf has 32 slots (its fingerprints and order array are one 64-byte block); an
// inner node has up to 31 separator keys and 32 children (pmemkv's stree degree).
inline constexpr int kLeafSlots = 32;
inline constexpr int kInnerKeys = 31;
inline constexpr int kInnerChildren = kInnerKeys + 1;
// Separator bytes kept in the inner node itself; longer separators also have a SepKey.
inline constexpr uint32_t kInlineKey = 16;
// Height bound: an inner node below the root keeps at least kInnerMinKeys (7) keys (see stree_write.cc),
// so 32 levels hold more entries than any pool can; a larger stored height is damage.
inline constexpr uint64_t kMaxHeight = 32;

// pmemobj type numbers of our allocations (visible to pmempool; never renumber).
inline constexpr uint64_t kLeafTypeNum = 1;
inline constexpr uint64_t kInnerTypeNum = 2;
inline constexpr uint64_t kKVTypeNum = 3;
inline constexpr uint64_t kSepTypeNum = 4;
inline constexpr uint64_t kSlabTypeNum = 5;     // a slab of KV records (version 2)
inline constexpr uint64_t kJournalTypeNum = 6;  // the journal (SDK journal.h; version 2)

// Largest key and largest value, in bytes: their sizes are stored as u32.
inline constexpr uint64_t kMaxKeySize = UINT32_MAX;
inline constexpr uint64_t kMaxValueSize = UINT32_MAX;

// Pool offsets: every reference between persistent objects is the `off` of a PMEMoid of this
// pool (the distance from the pool's mapping base). 0 is null: the pool header occupies
// offset 0, so no object lives there.
using PoolOffset = uint64_t;

//   Root ------ root_node ------> Inner (height levels of them) ... --> Leaf <-> Leaf <-> Leaf
//   | magic | version | comparator[32] | root_node | height | count | journal | slabs | reserved |
//
//   Inner (1136 bytes)
//   | tag | count | keys[31] {hi, lo: bytes 0..15 of the separator, big-endian, zero-padded}
//   | len[31] | sep[31]: SepKey of a separator longer than 16 bytes, else 0 | child[32] |
//
//   Leaf (344 bytes)
//   | tag | count | prev | next | fp[32] | order[32] | kv[32] |
//
//   KV (8 + key + value bytes): a record inside a slab when Slab::kMaxRecord bytes or less
//   (8-byte aligned), else an allocation of its own (kKVTypeNum; every KV of a version 1 pool).
//   | key_size u32 | value_size u32 | key | value |
//
//   Slab (one allocation of kSlabTypeNum; a list from Root::slabs)    SepKey (8 + size bytes)
//   | tag | bytes | next | usage {live u32, top u32} | reserved | records ... |   | size | bytes |
//
//   Journal (SDK journal.h): a redo log of 8-byte stores, one allocation named by Root::journal.
//
// Invariants (hold after every commit point, so after any crash and the journal's redo):
//  I1. Root::root_node is an Inner when height > 0, else a Leaf; every Inner at depth d <
//      height has count+1 children, all Inner at depth d+1 < height or all Leaf at depth
//      height: every leaf is at the same depth.
//  I2. An Inner has 1 <= count <= kInnerKeys; keys ascend strictly in the comparator order;
//      every key k in the subtree of child[i] has sep[i-1] <= k < sep[i] (missing bounds are
//      open). A separator's bytes are hi/lo (first min(len, 16) bytes) and, when len > 16, its
//      SepKey, owned by that entry alone.
//  I3. In a leaf, slot s is live iff fp[s] != 0; then kv[s] is a KV owned by that slot alone
//      and fp[s] == Fingerprint(key). A free slot has fp[s] == 0 and kv[s] == 0.
//      order[0..count) lists each live slot once, in ascending key order; order[count..32)
//      is zero. (The order array is exact at every commit point: it changes in the same
//      journal commit or transaction as the fingerprints, never on its own.)
//  I4. Leaves are linked in key order both ways: the first leaf has prev 0, the last next 0,
//      and l.next.prev == l. Every leaf but a root leaf holds at least one entry, so there
//      are at most Root::count + 1 leaves (a walk of the list that takes more steps has
//      found a loop).
//  I5. Root::count is the number of live slots of all leaves: it changes in the same commit
//      as the fingerprint it counts.
//  I6. Every allocation is reachable exactly once: a leaf or inner node from its parent (the
//      root node from Root), a KV of its own from its slot, a SepKey from its separator, a
//      slab from the slab list, the journal from Root::journal.
//  I7. A slab's records lie in [kSlabHeader, top); bytes at and past top are never referred
//      to. live is the sum of the 8-byte-rounded sizes of the slab's records that live slots
//      refer to: exactly, at every commit point (so open needs no claim pass: nothing is
//      walked to learn which bytes are in use). A record is written once, while no slot
//      refers to it, and never changed. A slab with live == 0 holds no live record.
//
// Crash argument ("commit" = one journal commit: the records' payload and the log block are
// durable at its commit point, then the 8-byte stores are made; open redoes every committed
// block before anything reads the tree, so a commit is all of its stores or none):
//  insert (free slot, record in a slab)  the record is written past its slab's top (garbage
//         until linked); one commit stores the slab's usage (top and live grown), kv[s], the
//         changed words of the leaf head (count, fp[s], the order array) and Root::count, with
//         the record as payload. Before the commit point none of these words has changed.
//  overwrite (records in slabs)  the new record past a top; one commit stores kv[s] and the
//         usage of both slabs (the old record's bytes leave live). The fingerprint is the same.
//  remove (record in a slab, the leaf keeps an entry)  one commit stores the leaf head words,
//         kv[s] = 0, Root::count and the slab's usage. A leaf left under kLeafMin entries may
//         then merge (a transaction of its own; a crash in between leaves a valid, sparse leaf).
//  batch (every pair kept in slabs)  first the splits it needs, in transactions that move
//         existing pairs only (a leaf halves; the pool's pairs stay what they were, so a crash
//         after them loses and applies nothing); then one commit stores every changed word of
//         the leaves it reaches (heads and slots), Root::count and the slabs' usage, with all
//         its new records as payload: the batch's only commit point. A batch that needs more
//         (a pair of its own, a leaf it would empty, more stores than the journal holds) is
//         one transaction instead, as below.
//  everything else (a pair of its own, a split, a remove that empties a leaf, merges, borrows,
//         new roots, root collapse)  one libpmemobj transaction as in version 1; a
//         slab record it links or unlinks changes its slab's usage word in the same
//         transaction (snapshotted), and a record it links was written past top and added to
//         the transaction without a snapshot (flushed at commit, before the commit point).
//         The journal is checkpointed (every committed store durable, the log empty) before any
//         transaction begins, so no redo can ever overwrite what a transaction wrote.
//  new slab  a transaction allocates it, writes its header and links it at Root::slabs.
//  free slab  a slab with live == 0 (not the one being filled): checkpoint, then a transaction
//         unlinks and frees it. Its space is reused only after the checkpoint, so no log block
//         still in the journal has its payload there.
//  slab reuse  a slab with live == 0 taken to carve from again: checkpoint, then its usage
//         word (top back to kSlabHeader) stored and persisted on its own; nothing refers to its
//         bytes either way.
//  cleaner  copies a live record of a sparse slab past the top of another and commits kv[s]
//         and both usage words (the overwrite step, with the same bytes); when no slab has
//         room, one transaction makes the copy a KV of its own and lowers the old slab's usage.
//  close  checkpoints: after a clean close the log is empty.
//  upgrade (version 1 pool)  the journal is allocated (a transaction that sets Root::journal),
//         then Root::version = 2 (a transaction), before anything else is written: a crash in
//         between leaves a version 1 pool with a journal, which open upgrades again. Version 1
//         builds refuse a version 2 pool (a newer version), so no build that would free a slab
//         record as an allocation of its own ever opens a pool that has one.
// After a crash nothing is repaired or recounted: the journal's redo (at most one log of
// blocks) is all that open adds to a clean open.

struct Root {
  uint64_t magic;     // kRootMagic; 0 when pool creation was interrupted before initialization
  uint64_t version;   // the pool's format version (a version 1 pool is upgraded on open)
  pmemkv::StoredComparatorName comparator;  // the key order, fixed at creation
  PoolOffset root_node;
  uint64_t height;    // inner levels above the leaves (0: the root node is a leaf)
  uint64_t count;     // entries in the tree (I5)
  PoolOffset journal;  // the journal (version 2); 0 until open allocates it
  PoolOffset slabs;    // the first slab of the slab list; 0 when there is none
  uint64_t reserved[3];  // zero; room for later fields without a new root object
};
static_assert(offsetof(Root, comparator) == 16, "persistent format");
static_assert(offsetof(Root, journal) == 72 && offsetof(Root, slabs) == 80, "persistent format");
static_assert(sizeof(Root) == 112, "persistent format");

struct InnerKey {
  uint64_t hi;  // separator bytes 0..7, big-endian, zero-padded
  uint64_t lo;  // separator bytes 8..15
};

struct Inner {
  uint32_t tag;    // kInnerTag
  uint32_t count;  // separator keys; children = count + 1
  InnerKey keys[kInnerKeys];
  uint32_t len[kInnerKeys];  // separator sizes in bytes
  uint32_t pad;
  PoolOffset sep[kInnerKeys];  // SepKey when len > kInlineKey, else 0
  PoolOffset child[kInnerChildren];
};
static_assert(offsetof(Inner, keys) == 8, "persistent format");
static_assert(offsetof(Inner, sep) == 632, "persistent format");
static_assert(sizeof(Inner) == 1136, "persistent format");

struct Leaf {
  uint32_t tag;    // kLeafTag
  uint32_t count;  // live slots = entries of order[] in use
  PoolOffset prev;
  PoolOffset next;
  uint8_t fp[kLeafSlots];     // fingerprint of slot s's key; 0 = free slot
  uint8_t order[kLeafSlots];  // order[0..count): slot numbers in key order
  PoolOffset kv[kLeafSlots];
};
// An insert or remove changes only [0, kLeafHeadBytes) and one kv[] word.
inline constexpr size_t kLeafHeadBytes = 88;
static_assert(offsetof(Leaf, fp) == 24 && offsetof(Leaf, kv) == kLeafHeadBytes, "persistent format");
static_assert(sizeof(Leaf) == 344, "persistent format");

// One buffer per pair, written while no slot refers to it and never modified after (an
// overwrite writes a new KV), so a reader never sees a torn pair, and a split or merge moves
// the 8-byte reference, never key or value bytes.
struct KV {
  uint32_t key_size;
  uint32_t value_size;
  // followed by key_size key bytes, then value_size value bytes

  const char* key() const { return reinterpret_cast<const char*>(this + 1); }
  const char* value() const { return key() + key_size; }
  char* mutable_key() { return reinterpret_cast<char*>(this + 1); }
  static uint64_t AllocSize(uint64_t key_size, uint64_t value_size) { return sizeof(KV) + key_size + value_size; }
};
static_assert(sizeof(KV) == 8, "persistent format");

// The whole bytes of a separator longer than kInlineKey; written once, in the transaction
// that allocates it.
struct SepKey {
  uint64_t size;
  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  char* mutable_bytes() { return reinterpret_cast<char*>(this + 1); }
};
static_assert(sizeof(SepKey) == 8, "persistent format");

// The header of a slab: records follow it, back to back, 8-byte aligned. The usage word is
// the only field that changes after the slab is created (through the journal or a
// transaction, I7); `next` changes only in transactions (the slab list).
inline constexpr uint32_t kSlabTag = 0x4241'4C53U;  // "SLAB"
struct Slab {
  uint32_t tag;    // kSlabTag
  uint32_t bytes;  // the slab's size in bytes, header included (at most its usable size)
  PoolOffset next;  // the next slab of the list; 0 ends it
  uint64_t usage;   // live bytes (low 32 bits) | top (high 32 bits): see I7
  uint64_t reserved[5];

  static uint32_t Live(uint64_t usage) { return static_cast<uint32_t>(usage); }
  static uint32_t Top(uint64_t usage) { return static_cast<uint32_t>(usage >> 32); }
  static uint64_t Usage(uint64_t live, uint64_t top) { return top << 32 | live; }
  // Largest pair record kept in slabs; larger pairs are KVs of their own.
  static constexpr uint64_t kMaxRecord = 1024;
  static uint64_t Rounded(uint64_t size) { return (size + 7) & ~uint64_t{7}; }
};
inline constexpr uint32_t kSlabHeader = 64;
static_assert(sizeof(Slab) == kSlabHeader && offsetof(Slab, usage) == 16, "persistent format");

}  // namespace stree
