// The persistent layout of the robinhood engine: a hash map of 8-byte keys and 8-byte values
// split into shards, each shard an open-addressing table with Robin Hood displacement, kept in
// one libpmemobj pool whose layout name is kLayoutName.
//
// Everything in this file is PERSISTENT FORMAT: field order, sizes, type numbers, kMagic,
// kTableTag, the table geometry (kMinLog2, kMaxDisplacement, TailSlots) and the key hash
// (hash.h) are fixed for a kLayoutVersion. Changing any of them requires a new kLayoutVersion;
// a pool of another version is refused on open, never misread.
//
//   root object (Root, 64 bytes)
//   +-------+---------+---------------+-----------+-------------+
//   | magic | version | shards_number | directory | reserved[4] |
//   +-------+---------+---------------+-----+-----+-------------+
//                                           |
//        directory: shards_number ShardRecords (32 bytes each), allocated at creation
//        +-------+------+--------------+------------+
//        | table | log2 | zero_present | zero_value |  shard 0, shard 1, ...
//        +---+---+------+--------------+------------+
//            | offset of the shard's table (0: the shard is empty and has no table yet)
//            v
//        +-------------------------+--------+--------+-----+--------+
//        | TableHeader (tag,shard, | Slot 0 | Slot 1 | ... | Slot   |  2^log2 home slots, then
//        |  log2)                  | hash   | hash   |     | n - 1  |  TailSlots(log2) more
//        +-------------------------+ value  | value  |     |        |
//                                  +--------+--------+-----+--------+
//
// Keys are stored as their hash. HashKey (hash.h) is a bijection of the 64-bit integers, so a
// key's hash identifies it and the key is recovered with UnhashKey: a slot is 16 bytes, four to
// a cache line, and a lookup compares one 8-byte word per slot. Hash 0 (the key of eight zero
// bytes) marks an empty slot, so that one key lives in shard 0's record instead (zero_present,
// zero_value), with the same write order as a slot.
//
// Placement. With N = shards_number, a hash h belongs to shard ShardOf(h) = floor(h * N / 2^64);
// inside the shard its position key is Within(h) = h * N mod 2^64, which grows with h inside a
// shard's hash interval, and its home slot is the top log2 bits of Within(h). Tables never wrap
// around: the TailSlots(log2) slots after the home slots take entries displaced past the last
// home slot.
//
// Invariants of a table (checked on open; R1 is repaired on open):
//   T1. Occupied slots, read in position order, have strictly increasing hashes (Robin Hood
//       order with ties broken by hash: the table is sorted by hash, empty slots between).
//   T2. An entry at position p with hash h has HomeOf(h) <= p <= HomeOf(h) + kMaxDisplacement,
//       and p < TableSlots(log2) - 1: the last slot is always empty, so no probe runs off the end.
//   T3. No gap: when p > HomeOf(h), slot p - 1 is occupied. With T1 this makes a lookup exact:
//       scan from HomeOf(h); an empty slot or a larger hash ends it (at most kMaxDisplacement + 1
//       slots).
//   T4. ShardOf(h) is the shard that owns the table; header.shard and header.log2 match the
//       shard and its record.
//   R1. After a crash, one pair of adjacent slots of a table may hold the same hash; the right
//       copy holds the right value. Open removes the left copy with the backward shift below.
//
// Crash consistency. Every store below is an aligned 8-byte store (failure-atomic on persistent
// memory), persisted (flushed and fenced) before the next one, in this order:
//   update   slot.value = v. The only change: a crash leaves the old or the new value.
//   insert into an empty slot p
//            slot[p].value = v, then slot[p].hash = h. Before the hash the slot is still empty
//            (an empty slot's value is never read).
//   insert with displacement (p occupied; e the first empty slot after p): the run [p, e) moves
//            one slot right, from its end: for i = e down to p + 1, slot[i].value =
//            slot[i-1].value, then slot[i].hash = slot[i-1].hash; then slot[p].value = v and
//            slot[p].hash = h. Between two stores exactly one entry exists twice, in adjacent
//            slots, and its right copy has the right value (R1); removing the left copy gives
//            back the table before the insert. The last store makes the new key exist.
//   remove   of the entry at q: let f be the end of q's run (slots q+1..f hold displaced
//            entries). For i = q to f - 1: slot[i].hash = slot[i+1].hash, then slot[i].value =
//            slot[i+1].value; then slot[f].hash = 0. The first store removes the key; between
//            stores the moving entry exists twice with a right right copy (R1); removing the
//            left copy finishes the remove. The repair of R1 is this same shift, so a crash
//            during a repair leaves R1 again.
//   zero key insert: zero_value, then zero_present = 1; remove: zero_present = 0.
//   growth   (a shard's first table, or a doubled one): the new table is reserved
//            (pmemobj_reserve), filled in hash order, and persisted while unreachable; one
//            pmemobj_publish sets the record's table and log2 and frees the old table. A crash
//            before the publish leaves the old table intact (the reservation is released at the
//            next open); after it, the new one.
//   batch    one libpmemobj transaction: every slot range a batch operation changes is
//            snapshotted first, a growth allocates the new table in the transaction and frees
//            the old one at commit. After a crash all of the batch or none of it is there.
//   init     transaction: directory, shards_number, version and magic together.
// The entry count is not stored: open recounts every table (T1-T3 make the count exact).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pmemkv {
namespace robinhood {

// The libpmemobj layout name: pmemobj_open refuses a pool created with any other name.
constexpr const char kLayoutName[] = "pmemkv_robinhood";

// Version of everything in this file and in hash.h. Persistent format: bump on any change.
constexpr uint64_t kLayoutVersion = 1;

// "PMKVRBHD" as little-endian bytes; a byte-order mismatch reads as a wrong magic.
constexpr uint64_t kMagic = 0x44484252564B4D50ull;
// "RBHTABLE": the first word of every table object.
constexpr uint64_t kTableTag = 0x454C424154484252ull;

// libpmemobj type numbers of our allocations (persistent format: never renumber).
constexpr uint64_t kTypeDirectory = 1;
constexpr uint64_t kTypeTable = 2;

// Table sizes: 2^log2 home slots, log2 in [kMinLog2, kMaxLog2]. 2^29 home slots are 8 GiB,
// below libpmemobj's largest allocation.
constexpr unsigned kMinLog2 = 4;
constexpr unsigned kMaxLog2 = 29;
// No entry sits more than this many slots after its home (T2): bounds every probe.
constexpr uint64_t kMaxDisplacement = 64;

// Shard counts accepted at creation.
constexpr uint64_t kMaxShards = 65536;

struct Slot {
  uint64_t hash;   // HashKey(key), 0 when the slot is empty
  uint64_t value;  // the value's 8 bytes, as stored (meaningless in an empty slot)
};
static_assert(sizeof(Slot) == 16, "persistent format");

struct TableHeader {
  uint64_t tag;    // kTableTag
  uint32_t shard;  // the shard that owns the table
  uint32_t log2;   // its record's log2
};
static_assert(sizeof(TableHeader) == 16, "persistent format");

struct ShardRecord {
  uint64_t table;         // pool offset of the TableHeader; 0 when the shard has no table
  uint64_t log2;          // home slots of the table = 2^log2; 0 when there is no table
  uint64_t zero_present;  // shard 0 only: 1 when the all-zero key exists, else 0
  uint64_t zero_value;    // shard 0 only: its value (meaningless when zero_present is 0)
};
static_assert(sizeof(ShardRecord) == 32, "persistent format");

struct Root {
  uint64_t magic;          // kMagic once initialized; 0 until the initializing tx commits
  uint64_t version;        // kLayoutVersion of the writer that created the pool
  uint64_t shards_number;  // fixed at creation, 1..kMaxShards
  uint64_t directory;      // pool offset of ShardRecord[shards_number]
  uint64_t reserved[4];    // zero; room for later versions
};
static_assert(sizeof(Root) == 64, "persistent format");

// Slots after the home slots: enough for any entry whose home is the last home slot.
constexpr uint64_t TailSlots(unsigned log2) noexcept {
  return (uint64_t{1} << log2) < kMaxDisplacement ? (uint64_t{1} << log2) : kMaxDisplacement;
}
constexpr uint64_t TableSlots(unsigned log2) noexcept { return (uint64_t{1} << log2) + TailSlots(log2); }
constexpr uint64_t TableBytes(unsigned log2) noexcept { return sizeof(TableHeader) + TableSlots(log2) * sizeof(Slot); }

// The shard of hash h among n shards, and h's position key inside it (see "Placement").
inline uint64_t ShardOf(uint64_t h, uint64_t n) noexcept {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(h) * n) >> 64);
}
inline uint64_t Within(uint64_t h, uint64_t n) noexcept { return h * n; }
inline uint64_t HomeOf(uint64_t h, uint64_t n, unsigned log2) noexcept { return Within(h, n) >> (64 - log2); }
// The smallest hash of shard s (REQUIRES: s < n).
inline uint64_t FirstHashOf(uint64_t s, uint64_t n) noexcept {
  return static_cast<uint64_t>(((static_cast<unsigned __int128>(s) << 64) + n - 1) / n);
}

}  // namespace robinhood
}  // namespace pmemkv
