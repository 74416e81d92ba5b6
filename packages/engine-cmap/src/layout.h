// The persistent layout of the cmap engine: a linear-hashing hash table of chained entries,
// kept in one libpmemobj pool whose layout name is kLayoutName.
//
// Everything in this file is PERSISTENT FORMAT: field order, sizes, type numbers, kMagic,
// kBaseBucketsLog2 and the key hash (hash.h) are fixed for a kLayoutVersion. Changing any of
// them requires a new kLayoutVersion; a pool of another version is refused on open, never
// misread.
//
//   root object (Root, 832 bytes)
//   +-------+---------+--------------+---------+-------------+-------------------------+
//   | magic | version | bucket_count | journal | reserved[4] | segments[kMaxSegments]  |
//   +-------+---------+--------------+---------+-------------+----------+--------------+
//                                                                      |
//        segment 0: kBaseBuckets buckets          segment s >= 1: kBaseBuckets << (s-1)
//        +--------+--------+-----+--------+       buckets, allocated when the table first
//        | Bucket | Bucket | ... | Bucket |       grows into them (zeroed: every chain empty)
//        +---+----+--------+-----+--------+
//            | head (PMEMoid)
//            v
//        +------------------+------+----------+------------+-----------+-------------+
//        | next (PMEMoid) --+-> .. | hash u64 | key_size   | value_size| key | value |
//        +------------------+------+----------+------------+-----------+-------------+
//        Entry: never modified after it is linked except for its `next` link. Since version
//        2 an entry of at most SlabArena::max_record() bytes lives in a slab (an object of
//        kTypeSlab holding many entries back to back, 8-byte aligned; SDK slab_arena.h);
//        a larger one (and every entry of a version 1 pool) is an allocation of its own
//        (kTypeEntry). Links are the same either way: the entry's pool offset.
//
// Bucket numbering is linear hashing (Litwin 1980) over `bucket_count` = n buckets, n >= 2^B
// where B = kBaseBucketsLog2. With M the largest power of two <= n, a key whose hash is h
// lives in bucket b = h mod 2M when that is < n, else in h mod M (BucketOf below). Growing
// the table by one bucket ("splitting") moves from bucket n - M exactly the entries whose
// bucket under n + 1 is n; no other bucket changes, so growth never rehashes the table.
//
// Buckets live in segments of doubling size, so the table never reallocates one huge array:
// segment 0 holds buckets [0, 2^B), segment s >= 1 holds [2^(B+s-1), 2^(B+s)).
//
// Invariants (checked on open):
//   I1. magic == kMagic and version == kLayoutVersion once the pool is initialized (a version
//       from kOldestReadableVersion up is upgraded on open); a root of
//       all zeroes is a pool whose initialization never committed (it is initialized again).
//   I2. bucket_count >= kBaseBuckets, and segments[s] is allocated for every segment that
//       holds a bucket < bucket_count.
//   I3. Every entry is reachable from exactly one bucket, through that bucket's chain, and
//       BucketOf(entry.hash, bucket_count) is that bucket.
//   I4. Keys in one table are distinct (byte-wise).
//   I5. entry.hash == HashKey(key). The hash is stored so that growth and recovery never
//       rehash keys, and so that lookups compare 8 bytes before comparing keys.
//   I6. An entry in a slab lies wholly inside that slab's usable bytes; every other entry is
//       an allocation of kTypeEntry of its own. Slabs hold nothing but entries and garbage.
//
// Crash consistency: every change to the layout is one failure-atomic step, so after a crash
// the pool holds the state before or after each operation, never between. A step is either
// one aligned 8-byte store of a link's offset (the uuid half of every link an engine of this
// version writes already holds the pool's uuid; SetLink/PersistLink write it first when not),
// or one journal commit (SDK journal.h: a block of 8-byte stores and of the bytes they make
// reachable, durable at once, redone on open until a checkpoint), or one libpmemobj publish
// (pmemobj_reserve / pmemobj_set_value / pmemobj_defer_free through a redo log: all or none; a
// reservation never published is released when the pool is reopened), or an undo-log
// transaction on cold paths (SDK RunTx). The journal keeps its commits until a checkpoint
// (kWhenFull), so every other kind of step that stores into a link or frees memory (a direct
// link store, a publish, defrag, the free of a slab) checkpoints the journal first, under the
// stripe locks of the links it stores: a redo never lands on a newer value or on reused bytes.
//   put      the new entry is carved from a slab (or reserved, when large) and filled while
//            still unreachable; then the one link that will point to it (bucket head, or the
//            `next` of the entry before the old one) is set: on persistent memory the entry
//            is persisted, then the link is stored and persisted; on a disk both are one
//            journal commit (one msync). An old entry in a slab just becomes garbage; an old
//            entry of its own is freed in a publish that also sets the link (the entry
//            persisted first). A torn put leaves the old value or the new one, never a mix.
//   remove   the link to the victim is stored past it (victim in a slab: a persisted store on
//            persistent memory, a journal commit on a disk), or one publish sets it and frees
//            the victim (victim of its own).
//   slabs    which bytes of a slab are live is not stored: on open every entry reachable from
//            the buckets is claimed in its slab, and slabs with nothing claimed are freed (a
//            crash between an unlink and the free of a slab it emptied leaves only such a
//            slab). The cleaner empties slabs that are mostly garbage by copying their live
//            entries into the current slab and storing each link to the copy (one 8-byte
//            step per entry, under the bucket's stripe lock), after which the slab is freed.
//   batch    every new entry carved or reserved and filled (its final `next` included) while
//            unreachable; then every changed link of every bucket the batch touches is set in
//            one journal commit whose payload is the new entries (durable no later than the
//            commit point; open redoes a committed block), or, when the batch also reserves or
//            frees entries of their own, the entries are persisted and one publish sets the
//            links and frees them: all of the batch or none. Replaced entries in slabs turn to
//            garbage once the commit returned.
//   split    one journal commit: bucket_count + k, and every link of the k parent chains
//            and k new chains whose target changes. A torn split leaves all of them as before
//            (I3 holds under the old bucket_count) or all as after.
//   segment  reserve a segment, write every bucket empty and persist it, then one publish
//            allocates it and stores its oid into segments[s] (a crash before the publish
//            leaves no trace). Done before the split that first needs it; a crash in between
//            leaves an empty, reachable segment that the next growth uses.
//   init     transaction: segment 0, bucket_count, version and magic together (I1).
//   defrag   pmemobj_defrag moves entries of their own and updates every link to them
//            atomically (it publishes relocations through its redo log; see
//            pmemobj_defrag(3)); entries of slabs that are largely garbage are moved by the
//            cleaner as above.
// A link is 16 bytes and is rewritten by up to two 8-byte actions (pool uuid, offset) of the
// same publish, so it is never seen half-written after a crash. The entry count is not
// stored: it is recounted from the chains on open (I3 makes the recount exact), so no put
// contends on a persistent counter.
#pragma once

#include <libpmemobj.h>

#include <cstddef>
#include <cstdint>

namespace pmemkv {
namespace cmap {

// The libpmemobj layout name: pmemobj_open refuses a pool created with any other name, so a
// pool of another engine can never be opened as a cmap pool (nor the reverse).
constexpr const char kLayoutName[] = "pmemkv_cmap";

// Version of everything in this file and in hash.h. Persistent format: bump on any change.
// Version 2 added slabs (kTypeSlab). A version 1 pool is a valid version 2 pool without
// slabs: it is read and marked version 2 on open (so that a version 1 build, which would
// free a slab's entry as an allocation of its own, refuses it from then on).
// Version 3: the journal is format 2 (journal.h: a log of commits kept until a checkpoint,
// instead of one commit cleared at once). An older pool's journal has its commit in flight
// redone and is converted on open, and the pool is marked version 3 (a version 2 build would
// misread the log: it refuses the pool from then on).
constexpr uint64_t kLayoutVersion = 3;
constexpr uint64_t kOldestReadableVersion = 1;

// "PMKVCMAP" as little-endian bytes; a byte-order mismatch reads as a wrong magic.
constexpr uint64_t kMagic = 0x50414D43564B4D50ull;

// libpmemobj type numbers of our allocations (persistent format: never renumber).
constexpr uint64_t kTypeEntry = 1;
constexpr uint64_t kTypeSegment = 2;
constexpr uint64_t kTypeSlab = 3;
constexpr uint64_t kTypeJournal = 4;

// Segment 0 holds 2^kBaseBucketsLog2 buckets; the table never has fewer.
constexpr unsigned kBaseBucketsLog2 = 10;
constexpr uint64_t kBaseBuckets = uint64_t{1} << kBaseBucketsLog2;

// 48 segments address 2^(10+47) buckets: more than any pool can hold.
constexpr unsigned kMaxSegments = 48;

// A chain head. `head` is OID_NULL when the bucket is empty. Full PMEMoids (not bare
// offsets) because pmemobj_defrag updates links given as PMEMoid pointers.
struct Bucket {
  PMEMoid head;
};
static_assert(sizeof(Bucket) == 16, "persistent format");

// One key/value pair. Immutable once linked, except `next`. Keys and values are at most
// 2^32 - 1 bytes each.
struct Entry {
  PMEMoid next;         // next entry of the same bucket's chain, OID_NULL at the end
  uint64_t hash;        // HashKey(key) (hash.h)
  uint32_t key_size;    // bytes of key
  uint32_t value_size;  // bytes of value
  // followed by key_size bytes of key, then value_size bytes of value (no terminators)

  char* key() noexcept { return reinterpret_cast<char*>(this + 1); }
  const char* key() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  const char* value() const noexcept { return key() + key_size; }
};
static_assert(sizeof(Entry) == 32, "persistent format");

struct Root {
  uint64_t magic;         // kMagic once initialized; 0 until the initializing tx commits
  uint64_t version;       // kLayoutVersion of the writer that created the pool
  uint64_t bucket_count;  // n of linear hashing: buckets in use, >= kBaseBuckets
  uint64_t journal;       // offset of the journal (SDK journal.h; kTypeJournal), 0 until the first open of version 2
  uint64_t reserved[4];   // zero; room for later versions
  PMEMoid segments[kMaxSegments];  // segment s, or OID_NULL when not allocated yet
};
static_assert(sizeof(Root) == 64 + 16 * kMaxSegments, "persistent format");

// The segment that holds bucket b, and b's index inside it.
inline unsigned SegmentOf(uint64_t b) noexcept {
  if (b < kBaseBuckets) return 0;
  return static_cast<unsigned>(63 - __builtin_clzll(b)) - kBaseBucketsLog2 + 1;
}
inline uint64_t SegmentFirstBucket(unsigned s) noexcept {
  return s == 0 ? 0 : kBaseBuckets << (s - 1);
}
inline uint64_t SegmentBuckets(unsigned s) noexcept {
  return s == 0 ? kBaseBuckets : kBaseBuckets << (s - 1);
}

// Largest power of two <= n. REQUIRES: n > 0.
inline uint64_t HighBit(uint64_t n) noexcept { return uint64_t{1} << (63 - __builtin_clzll(n)); }

// The bucket of a key with hash h in a table of n buckets (linear hashing).
// REQUIRES: n >= kBaseBuckets.
inline uint64_t BucketOf(uint64_t h, uint64_t n) noexcept {
  const uint64_t m = HighBit(n);
  const uint64_t b = h & (2 * m - 1);
  return b < n ? b : b - m;
}

}  // namespace cmap
}  // namespace pmemkv
