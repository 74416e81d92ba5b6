// The persistent format of a tree3 pool: what lives in persistent memory, and the invariants
// that make a pool readable after a crash at any instant. Everything else (inner nodes, the
// fingerprint and key caches, the order of leaves, the free list) lives in DRAM and is rebuilt
// from this on open.
//
// Persistent format: the numbers below (layout name, version, magic, type numbers, field order)
// are what existing pools contain. Never change them; a new format gets a new kLayoutVersion.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tree3 {

// The pmemobj layout name: a pool created by another engine fails to open with this name.
inline constexpr const char kLayoutName[] = "pmemkv_tree3";
// Incremented on any change of the structures below; a pool of another version is refused.
inline constexpr uint64_t kLayoutVersion = 1;
// Root::magic once the root is initialized ("TREE3KV" plus a zero byte, little-endian).
inline constexpr uint64_t kRootMagic = 0x0056'4B33'4545'5254ULL;

// Slots per leaf (FPTree's leaf size: one byte of fingerprint per slot, 48 slots).
inline constexpr int kLeafSlots = 48;

// pmemobj type numbers of our allocations (visible to pmempool; never renumber).
inline constexpr uint64_t kLeafTypeNum = 1;
inline constexpr uint64_t kKVSlotTypeNum = 2;

// Largest key and largest value, in bytes: their sizes are stored as u32.
inline constexpr uint64_t kMaxKeySize = UINT32_MAX;
inline constexpr uint64_t kMaxValueSize = UINT32_MAX;

// Pool offsets: every reference between persistent objects is the `off` of a PMEMoid of this
// pool (the distance from the pool's mapping base, what pmemobj_direct adds). 0 is null: the
// pool header occupies offset 0, so no object lives there.
using PoolOffset = uint64_t;

//   Root (pmemobj root object, 64 bytes)
//   +--------------+---------------+-------------+--------------+
//   | magic    u64 | version   u64 | head    u64 | reserved u64 |  (+ 32 bytes reserved)
//   +--------------+---------------+-------------+--------------+
//                                        |
//                                        v
//   Leaf (one pmemobj allocation, 440 bytes)          Leaf                  Leaf
//   +-----------+------------------+---------------+  +------+----    ...   +------+----
//   | next  u64 | hashes  u8 [48]  | slots u64[48] |->| next |  ...          | next | = 0
//   +-----------+------------------+---------------+  +------+----          +------+----
//                                      |
//                                      v
//   KVSlot (one pmemobj allocation per pair, 8 + key + value bytes)
//   +--------------+----------------+-----------------+-------------------+
//   | key_size u32 | value_size u32 | key [key_size]  | value [value_size]|
//   +--------------+----------------+-----------------+-------------------+
//
// Invariants (hold after every committed transaction, so after any crash and recovery):
//  I1. Every live leaf is on the list from Root::head, exactly once, and holds at least one
//      pair: the remove that empties a leaf unlinks and frees it in the same transaction
//      (pools of earlier releases may hold empty leaves; open frees them). The list order
//      means nothing.
//  I2. Slot i of a leaf is live iff hashes[i] != 0; then slots[i] is the offset of a KVSlot
//      owned by that slot alone, and hashes[i] == Fingerprint(key of that KVSlot). A dead
//      slot has hashes[i] == 0 and slots[i] == 0.
//  I3. Every key is live in at most one slot of the whole pool.
//  I4. The key sets of two leaves never interleave: for leaves A != B, all keys of A are less
//      than all keys of B or all greater. So sorting the non-empty leaves by their largest key
//      gives the key order of the whole tree (this is what recovery relies on).
//  I5. Every allocation of kKVSlotTypeNum is referenced by exactly one live slot (no leak):
//      insert, overwrite, remove and split each run in one pmemobj transaction, whose
//      allocations and frees are published only at commit and rolled back otherwise.
//  The number of entries is not stored: it is the number of live slots, counted on open.

struct Root {
  uint64_t magic;     // kRootMagic; 0 when pool creation was interrupted before initialization
  uint64_t version;   // kLayoutVersion of the code that created the pool
  PoolOffset head;    // first leaf of the leaf list; 0 when the pool has no leaf yet
  uint64_t reserved[5];  // zero; room for later fields without a new root object
};
static_assert(sizeof(Root) == 64, "persistent format");

struct Leaf {
  PoolOffset next;                 // next leaf of the list (any order); 0 ends the list
  uint8_t hashes[kLeafSlots];      // fingerprint of slot i's key; 0 = empty slot (no bitmap)
  PoolOffset slots[kLeafSlots];    // KVSlot of slot i when hashes[i] != 0, else 0
};
static_assert(offsetof(Leaf, hashes) == 8, "persistent format");
static_assert(offsetof(Leaf, slots) == 56, "persistent format");
static_assert(sizeof(Leaf) == 440, "persistent format");

// One buffer per pair: a leaf split moves the 8-byte slot reference and copies no key or
// value bytes. Written only inside the transaction that allocates it, never modified after
// (an overwrite allocates a new KVSlot), so a reader never sees a torn pair.
struct KVSlot {
  uint32_t key_size;
  uint32_t value_size;
  // followed by key_size key bytes, then value_size value bytes (no alignment, no terminator)

  const char* key() const { return reinterpret_cast<const char*>(this + 1); }
  const char* value() const { return key() + key_size; }
  char* mutable_key() { return reinterpret_cast<char*>(this + 1); }
  static uint64_t AllocSize(uint64_t key_size, uint64_t value_size) {
    return sizeof(KVSlot) + key_size + value_size;
  }
};
static_assert(sizeof(KVSlot) == 8, "persistent format");

}  // namespace tree3
