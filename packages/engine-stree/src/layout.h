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
// Incremented on any change of the structures below; a pool of another version is refused.
inline constexpr uint64_t kLayoutVersion = 1;
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

// Largest key and largest value, in bytes: their sizes are stored as u32.
inline constexpr uint64_t kMaxKeySize = UINT32_MAX;
inline constexpr uint64_t kMaxValueSize = UINT32_MAX;

// Pool offsets: every reference between persistent objects is the `off` of a PMEMoid of this
// pool (the distance from the pool's mapping base). 0 is null: the pool header occupies
// offset 0, so no object lives there.
using PoolOffset = uint64_t;

//   Root ------ root_node ------> Inner (height levels of them) ... --> Leaf <-> Leaf <-> Leaf
//   | magic | version | comparator[32] | root_node | height | count | reserved |
//
//   Inner (1136 bytes)
//   | tag | count | keys[31] {hi, lo: bytes 0..15 of the separator, big-endian, zero-padded}
//   | len[31] | sep[31]: SepKey of a separator longer than 16 bytes, else 0 | child[32] |
//
//   Leaf (344 bytes)
//   | tag | count | prev | next | fp[32] | order[32] | kv[32] |
//
//   KV (one allocation per pair, 8 + key + value bytes)   SepKey (8 + size bytes)
//   | key_size u32 | value_size u32 | key | value |        | size u64 | bytes |
//
// Invariants (hold after every committed transaction, so after any crash and recovery):
//  I1. Root::root_node is an Inner when height > 0, else a Leaf; every Inner at depth d <
//      height has count+1 children, all Inner at depth d+1 < height or all Leaf at depth
//      height: every leaf is at the same depth.
//  I2. An Inner has 1 <= count <= kInnerKeys; keys ascend strictly in the comparator order;
//      every key k in the subtree of child[i] has sep[i-1] <= k < sep[i] (missing bounds are
//      open). A separator's bytes are hi/lo (first min(len, 16) bytes) and, when len > 16, its
//      SepKey, owned by that entry alone.
//  I3. In a leaf, slot s is live iff fp[s] != 0; then kv[s] is a KV owned by that slot alone
//      and fp[s] == Fingerprint(key). A free slot has fp[s] == 0 and kv[s] == 0.
//      order[0..count) lists each live slot once, in ascending key order.
//  I4. Leaves are linked in key order both ways: the first leaf has prev 0, the last next 0,
//      and l.next.prev == l. Every leaf but a root leaf holds at least one entry, so there
//      are at most Root::count + 1 leaves (a walk of the list that takes more steps has
//      found a loop).
//  I5. Root::count is the number of live slots of all leaves: each mutation updates it in its
//      own transaction.
//  I6. Every allocation is reachable exactly once: a leaf or inner node from its parent (the
//      root node from Root), a KV from its slot, a SepKey from its separator. Every change
//      (insert, overwrite, remove, split, merge, borrow, new root, root collapse) runs in one
//      libpmemobj transaction, whose allocations and frees are published only at commit.

struct Root {
  uint64_t magic;     // kRootMagic; 0 when pool creation was interrupted before initialization
  uint64_t version;   // kLayoutVersion of the code that created the pool
  pmemkv::StoredComparatorName comparator;  // the key order, fixed at creation
  PoolOffset root_node;
  uint64_t height;    // inner levels above the leaves (0: the root node is a leaf)
  uint64_t count;     // entries in the tree (I5)
  uint64_t reserved[5];  // zero; room for later fields without a new root object
};
static_assert(offsetof(Root, comparator) == 16, "persistent format");
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

// One buffer per pair, written only inside the transaction that allocates it and never
// modified after (an overwrite allocates a new KV), so a reader never sees a torn pair, and
// a split or merge moves the 8-byte reference, never key or value bytes.
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

}  // namespace stree
