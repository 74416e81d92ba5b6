// The persistent format of a csmap pool, and the argument that it survives a crash at any
// instant. Everything ordered (the skip list, its towers, the per-node locks, the entry count)
// lives in DRAM and is rebuilt from this on open.
//
// Persistent format: the numbers below (layout name, versions, magic, type numbers, field
// order) are what existing pools contain. Never change them; a new format gets a new
// kLayoutVersion. Version 1 pools are upgraded on open (below); other versions are refused.
//
//   Root (pmemobj root object, 80 bytes)
//   +-----------+-------------+-----------------------+-------------+----------+-------------+
//   | magic u64 | version u64 | comparator name (32 B,| journal u64 | salt u64 | reserved    |
//   |           |             | NUL-padded)           | (offset)    |          | u64[2] (=0) |
//   +-----------+-------------+-----------------------+-------------+----------+-------------+
//   (version 1: journal, salt and reserved are zero.)
//
//   Record, version 2 (8-byte aligned; in a slab, or alone in an object of kLargeTypeNum)
//   +--------------------------+--------------+----------------+--------------+-----+-------+
//   | seq u64: bit 63 = dead,  | key_size u32 | value_size u32 | checksum u64 | key | value |
//   | bits 0..62 = seq (>= 1)  |              |                |              |     |       |
//   +--------------------------+--------------+----------------+--------------+-----+-------+
//   checksum = RecordChecksum(salt, seq without the dead bit, sizes, key and value bytes).
//   Its extent is Rounded(24 + key_size + value_size); the padding is not covered.
//
//   Slab (object of kSlabTypeNum, SDK slab_arena.h): records packed from offset 0, one after
//   another, each starting where the one before ends.
//
//   Record, version 1 (object of kV1RecordTypeNum; only in version 1 pools, and left over in
//   a version 2 pool by an upgrade that crashed while freeing them):
//   | key_size u32 | value_size u32 | key | value |
//
// Which records exist is never stored: open finds them. A record is *valid* when its extent
// lies in its slab or object and its checksum matches; *live* when valid and not dead. The
// entries of a pool are, per key, its live record of highest seq (ties: equal records, see
// the cleaner); every other live record of the key is made dead (slab) or freed (object) by
// open. Walking a slab: from offset 0, record by record; a valid record (dead or live) is
// stepped over; the walk stops at the first extent that is not a valid record (a zero header,
// a size that leaves the slab, a bad checksum). The bytes after that stop are garbage, and
// open checks that (W2 below).
//
// Invariants (at every instant a crash can leave the pool, after the journal's redo):
//  W1. Lane order: the records of a slab are written in offset order, each persisted before
//      the next one of its lane is carved (SlabArena::AllocateFilled holds the lane across
//      write and persist). Hence a record torn by a crash is the last record written into its
//      slab, and every live durable record lies before the walk's stop. Batches and the
//      cleaner write several records before one persist, but only while no other writer runs
//      (the batch gate), and those records stay dead until that persist has completed (a
//      batch's journal commit; the cleaner's second persist).
//  W2. After a walk's stop no live record lies at any 8-byte offset of the slab: those bytes
//      are space that was never written since the slab was adopted, i.e. older records that
//      are dead (every record is dead before its slab space is released, see Retire) or
//      torn. The salt (random, chosen at creation and again at every upgrade attempt) keeps
//      records of earlier upgrade attempts and of other pools, and value bytes read at a
//      wrong alignment, from ever checking. A live record found there is damage (reported).
//  W3. Per key, live records are: its current record (the one its DRAM node names), the new
//      record of each put of the key still in progress (written before that put takes any
//      lock), and, while an overwrite or remove holds the key's value_lock, the record it
//      replaces. Every other record of the key is dead or freed. Any of these may win after a
//      crash: the current one is the state of every returned operation, the others belong to
//      operations that had not returned.
//  W4. A batch's new records are dead, and the records it replaces live, until its one
//      journal commit, which stores the new records' seq words (dead bit clear) and the old
//      records' seq words (dead bit set) all at once, with the new records as its payload.
//      Commits stay in the log until a checkpoint; every direct store into the pool, and every
//      free of a slab or large record, happens only after a checkpoint (csmap.h journal_), so
//      open's redo of the log never lands on a word written since or on reused space.
//  W5. The comparator name never changes after initialization; seq numbers given out after
//      open exceed every seq in the pool.
//
// Crash argument, one line per mutation:
//   insert     record written, persisted (one flush span, one fence): live (W3: a put in
//              progress); then the node is linked. Before the persist: torn or absent, the
//              walk stops there (W1) and nothing acknowledged follows it.
//   overwrite  new record persisted (live beside the old: W3); under value_lock the node
//              switches to it and the old record's dead bit is set and persisted. A crash
//              between: two live records; the higher seq wins; both answers are legal.
//   remove     under value_lock (and the node's link_lock) the dead bit is set and persisted.
//   batch      every new record written dead; one journal commit (W4): all or nothing. With
//              large records (or a journal too small for the batch) the stores become
//              set-value actions of one publish that also publishes the large records and
//              frees the replaced large ones: all or nothing as well.
//   cleaner    the live records of a sparse slab are copied (same seq, same bytes) marked
//              dead and persisted; then the copies' dead bits cleared and persisted; then
//              the nodes switched to them under value_lock and the originals' dead bits
//              persisted (csmap.cc CleanSlab). A crash: torn copies are dead (W1, W2 hold), or
//              two equal live records of a key, of which open keeps one.
//   large      a record over the arena's max_record is its own object: reserved, written,
//              persisted, then published (insert), freed by a publish (retire).
//   upgrade    (version 1) a new salt (a transaction; version stays 1); every object of a
//              failed earlier attempt (slabs, large records) freed; every v1 record copied
//              (seq 1, 2, ...) and persisted; version = 2 (a transaction); then the v1
//              objects are freed. A crash before version = 2 reruns it all (the new salt
//              makes the earlier copies garbage); after it, open frees leftover v1 objects.
//   init       OpenRoot's transaction: comparator name, salt, version and magic together.
#pragma once

#include <pmemkv/comparator.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace csmap {

// The pmemobj layout name: a pool created by another engine fails to open with this name.
inline constexpr const char kLayoutName[] = "pmemkv_csmap";
// Version 2: records in slabs with seq, dead bit and checksum. Version 1 is upgraded on open.
inline constexpr uint64_t kLayoutVersion = 2;
inline constexpr uint64_t kOldestReadableVersion = 1;
// Root::magic once the root is initialized ("CSMAPKV" plus a zero byte, little-endian).
inline constexpr uint64_t kRootMagic = 0x0056'4B50'414D'5343ULL;

// pmemobj type numbers (visible to pmempool; never renumber).
inline constexpr uint64_t kV1RecordTypeNum = 1;  // version 1 record
inline constexpr uint64_t kSlabTypeNum = 2;      // slab of version 2 records
inline constexpr uint64_t kLargeTypeNum = 3;     // one version 2 record too large for a slab
inline constexpr uint64_t kJournalTypeNum = 4;   // the batch journal (SDK journal.h)

// Largest key and largest value, in bytes: their sizes are stored as u32.
inline constexpr uint64_t kMaxKeySize = UINT32_MAX;
inline constexpr uint64_t kMaxValueSize = UINT32_MAX;

struct Root {
  uint64_t magic;                          // kRootMagic; 0 until the initializing tx commits
  uint64_t version;                        // 1 or kLayoutVersion
  pmemkv::StoredComparatorName comparator; // the key order of this pool, fixed at creation (W5)
  uint64_t journal;                        // offset of the batch journal; 0 until allocated
  uint64_t salt;                           // RecordChecksum's seed (version 2); never 0
  uint64_t reserved[2];                    // zero; room for later fields
};
static_assert(offsetof(Root, comparator) == 16, "persistent format");
static_assert(offsetof(Root, journal) == 48, "persistent format");
static_assert(sizeof(Root) == 80, "persistent format");

inline constexpr uint64_t kDeadBit = uint64_t{1} << 63;

struct Record {
  uint64_t seq;  // bit 63: dead; written with one 8-byte store
  uint32_t key_size;
  uint32_t value_size;
  uint64_t checksum;
  // followed by key_size key bytes, then value_size value bytes, then padding to 8 bytes

  const char* key() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  const char* value() const noexcept { return key() + key_size; }
  char* mutable_data() noexcept { return reinterpret_cast<char*>(this + 1); }
  uint64_t seq_number() const noexcept { return seq & ~kDeadBit; }
  bool dead() const noexcept { return (__atomic_load_n(&seq, __ATOMIC_ACQUIRE) & kDeadBit) != 0; }
  uint64_t bytes() const noexcept { return Bytes(key_size, value_size); }
  static uint64_t Bytes(uint64_t key_size, uint64_t value_size) noexcept {
    return (sizeof(Record) + key_size + value_size + 7) & ~uint64_t{7};
  }
};
static_assert(sizeof(Record) == 24, "persistent format");

struct V1Record {
  uint32_t key_size;
  uint32_t value_size;
  const char* key() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  const char* value() const noexcept { return key() + key_size; }
};
static_assert(sizeof(V1Record) == 8, "persistent format");

// The checksum of a record (persistent format: never change it). Two independent
// multiply-xorshift lanes over 8-byte words, then splitmix64's finalizer: any changed or
// stale 8-byte word changes it.
inline uint64_t RecordChecksum(uint64_t salt, uint64_t seq, uint32_t key_size, uint32_t value_size,
                               const char* data) noexcept {
  constexpr uint64_t kM1 = 0x9E3779B97F4A7C15ull, kM2 = 0xC2B2AE3D27D4EB4Full;
  uint64_t a = salt ^ (seq * kM2), b = ~salt ^ (uint64_t{key_size} << 32 | value_size);
  uint64_t n = uint64_t{key_size} + value_size;
  const char* p = data;
  for (; n >= 16; n -= 16, p += 16) {
    uint64_t w0, w1;
    std::memcpy(&w0, p, 8);
    std::memcpy(&w1, p + 8, 8);
    a = (a ^ w0) * kM1;
    a ^= a >> 29;
    b = (b ^ w1) * kM2;
    b ^= b >> 31;
  }
  if (n != 0) {
    uint64_t w[2] = {0, 0};
    std::memcpy(w, p, n);
    a = ((a ^ w[0]) * kM1) ^ n;
    b = (b ^ w[1]) * kM2;
  }
  uint64_t x = a ^ ((b << 23) | (b >> 41));
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Whether the header at r is plausible within `room` bytes and its checksum matches.
inline bool ValidRecord(const Record* r, uint64_t room, uint64_t salt) noexcept {
  if (room < sizeof(Record) || (r->seq & ~kDeadBit) == 0) return false;
  if (r->bytes() > room) return false;
  return RecordChecksum(salt, r->seq & ~kDeadBit, r->key_size, r->value_size, r->key()) == r->checksum;
}

}  // namespace csmap
