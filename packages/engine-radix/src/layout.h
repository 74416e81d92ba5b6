// The persistent format of a radix pool: a PATRICIA-style radix tree over the bytes of the keys,
// every node and every pair in persistent memory, and the invariants that make a pool readable
// after a crash at any instant.
//
// Persistent format: the numbers below (layout name, version, magic, kinds, type numbers, field
// order and sizes) are what existing pools contain. Never change them; a new format gets a new
// kLayoutVersion.
//
//   Root (pmemobj root object, 64 bytes)
//   +-----------+-------------+---------+-----------+------------------+
//   | magic u64 | version u64 | top u64 | count u64 | reserved u64 [4] |
//   +-----------+-------------+---------+-----------+------------------+
//                                 |       version 1 only (0 once a pool is version 2)
//                                 v    an inner node or, in a tree of one key, a leaf
//   Inner node: NodeHeader, then the children, in one of four shapes by capacity
//   +----------+------------+-------------+-----------+------------------------------------+
//   | kind u8  | unused u8  | count u16   | depth u32 | end u64                            |
//   +----------+------------+-------------+-----------+------------------------------------+
//   Node4/16/48:  bytes u8 [cap] (sorted, the first `count` used), children u64 [cap]
//   Node256:      children u64 [256], indexed by byte (0: no child)
//
//   Leaf (16 + key + value bytes)
//   +----------+------------+--------------+----------------+-------------+-----+-------+
//   | kind u8  | unused u8 3| key_size u32 | value_size u32 | unused u32  | key | value |
//   +----------+------------+--------------+----------------+-------------+-----+-------+
//
//   Where records live (version 2): a node or leaf of at most SlabArena::max_record() bytes
//   (Node4 56 B, Node16 160 B, Node48 448 B, leaves of small pairs) is carved from a slab, an
//   object of kSlabTypeNum holding records back to back, 8-byte aligned, with nothing else in
//   it (SDK slab_arena.h); every other record (Node256, large leaves, what the transactional
//   path writes, every record of a version 1 pool) is an allocation of its own of kNodeTypeNum
//   or kLeafTypeNum. A link is the record's pool offset either way.
//
// The tree: an inner node of `depth` d discriminates on byte d of the keys below it; all keys
// below it share their first d bytes (which are stored only in the leaves, PATRICIA-style:
// a lookup descends by key[d] and compares the whole key once, at the leaf). Its `end` is the
// leaf whose key is exactly those d bytes (a key that is a prefix of every other key below
// the node sorts first); its children are the subtrees of keys whose byte d is the child's byte.
//
// Invariants (hold after every completed write, so after any crash and the next open):
//  I1. Depth grows strictly downwards: a child inner node's depth is greater than its
//      parent's; a leaf under byte b of a node of depth d has a key longer than d with
//      key[d] == b; the `end` leaf of a node of depth d has a key of exactly d bytes.
//      So every descent ends within (key length + 1) steps, and a link that points back up
//      the tree (a cycle) breaks I1 and is detected where it is followed.
//  I2. Path compression: every inner node has at least two entries (children plus `end`),
//      so a node with a single child exists only when it also ends a key.
//  I3. Node4/16/48: bytes[0..count) strictly increase and children[0..count) are non-zero;
//      Node256: count is the number of non-zero children (after open: see I7). count <=
//      capacity. A node moves to the next larger shape when a child does not fit, and to the
//      next smaller one when it drops to 3 (16 -> 4), 12 (48 -> 16) or 40 (256 -> 48)
//      children, so a node never changes shape back and forth on one key; only a remove in a
//      pool without room for the smaller copy leaves a node in its larger shape (undersized).
//  I4. Keys are distinct, and all keys below a node of depth d share their first d bytes.
//  I5. The key count is the number of leaves reachable from Root::top. Version 1 kept it in
//      Root::count, changed in each write's transaction; version 2 recounts it on open (the
//      walk of I7) and keeps it in DRAM, and leaves Root::count at 0.
//  I6. Every allocation of kNodeTypeNum or kLeafTypeNum is reachable from Root::top exactly
//      once (no leak, no sharing); so is every live slab record.
//  I7. A slab record lies wholly inside its slab. Which slab bytes are live is not stored:
//      open walks the tree (bounded: every link checked by I1 and against the pool's bounds,
//      at most pool-size / 16 records) and claims each record in its slab; the rest of a slab
//      is garbage, and a slab without a claimed record is freed. A Node256 whose count
//      disagrees with its children (a crash between the two stores of an in-place change) is
//      given the right count by that walk.
//
// Crash argument (version 2). A single put or remove writes every new record while it is
// unreachable and persists it, then makes the change reachable with ONE persisted 8-byte
// store of a link (Root::top, a child slot, a node's `end`), or with one libpmemobj publish
// (redo log: all or none) when it also reserves or frees an allocation of its own; only then
// are the records it replaced released (a slab record becomes garbage; an own allocation was
// freed by the publish). A crash before the store leaves the old tree plus unclaimed garbage
// (or a reservation libpmemobj drops); after it, the new tree plus garbage: the state before
// or after, nothing leaked (I6, I7). Per mutation (radix.cc has the details at each step):
//   first put   a new leaf; Root::top = leaf
//   update      a new leaf; the old leaf's link (child slot or `end`) = new leaf
//   split       a new leaf and a new Node4 holding it and the subtree; the subtree's link = node
//   end set     a new leaf; node->end = leaf (the slot was 0: in place)
//   insert      Node4/16/48 with room: a copy of the node with the child added; its link = copy
//   grow        a full Node4/16/48: a copy in the next shape with the child; its link = copy
//   Node256     children[b] = leaf in place, then count + 1 in place (one word; I7 repairs it)
//   remove      the only leaf: Root::top = 0; the parent's `end`: end = 0 in place; a Node4/16/48
//               child: a copy of the parent without it, its link = copy; a Node256 child (above
//               its threshold): children[b] = 0, then count - 1, in place
//   collapse    a parent left with one entry: the parent's link = that entry (I2)
//   shrink      a parent at its threshold: a copy in the smaller shape; the parent's link = copy
//   full pool   a remove without room for a copy: the transactional path below, in place
//   batch       path copying: the operations are applied in order to a working tree that
//               shares every unchanged record with the pool's; a shared record that changes is
//               copied (and so is the node linking to it, up to the top), the batch's own
//               records are changed in place. All of them persisted, then Root::top = the
//               working top (one store, or one publish that also reserves and frees the
//               batch's allocations of their own); replaced shared records released after it.
//               The pool's tree is not written before that store: all or none
//   tx path     a batch that would replace one of its own allocations of their own (a Node256
//               of the batch shrinking, a large value written twice), and a put or remove
//               inside an open TxScope: one libpmemobj transaction (new records transaction
//               allocations of their own, every changed byte snapshotted first, replaced own
//               records freed at commit, replaced slab records released after it)
//   cleaner     live records of sparse slabs move a slab at a time, and within it deepest
//               first, a level of the tree at a time: the level's copies into fresh slab records, persisted together; then
//               each one's link = its copy (records of one level are not on each other's
//               paths, so each store is independent), persisted together; the old records
//               released
//   upgrade     version 1 -> 2: one transaction sets version = 2 and Root::count = 0, after
//               the walk; a crash before it leaves a version 1 pool, which opens the same way
// Readers never see a change before it is durable: writes hold the engine's lock exclusively
// (single-writer without a narrow write lock), from the first read to the last release.
#pragma once

#include <cstddef>
#include <cstdint>

namespace radix {

// The pmemobj layout name: a pool created by another engine fails to open with this name.
inline constexpr const char kLayoutName[] = "pmemkv_radix";
// Incremented on any change of the structures below; a pool of another version is refused.
inline constexpr uint64_t kLayoutVersion = 2;
// The oldest version this build opens: a version 1 pool is a version 2 pool without slabs and
// is marked version 2 on open (so that a version 1 build, which would free a slab's record as
// an allocation of its own, refuses it from then on).
inline constexpr uint64_t kOldestReadableVersion = 1;
// Root::magic once the root is initialized ("RADIXKV" plus a zero byte, little-endian).
inline constexpr uint64_t kRootMagic = 0x0056'4B58'4944'4152ULL;

// pmemobj type numbers of our allocations (visible to pmempool; never renumber).
inline constexpr uint64_t kNodeTypeNum = 1;
inline constexpr uint64_t kLeafTypeNum = 2;
// Since version 2: slabs of small nodes and leaves packed back to back (SDK slab_arena.h).
inline constexpr uint64_t kSlabTypeNum = 3;

// The first byte of every node and leaf. 0 is never a kind: a zeroed object is damage.
// Persistent format: never renumber.
enum Kind : uint8_t {
  kLeaf = 1,
  kNode4 = 2,
  kNode16 = 3,
  kNode48 = 4,
  kNode256 = 5,
};

// Largest key and largest value, in bytes: their sizes are stored as u32 (and depths too).
inline constexpr uint64_t kMaxKeySize = UINT32_MAX;
inline constexpr uint64_t kMaxValueSize = UINT32_MAX;

// Pool offsets: every reference between persistent objects is the `off` of a PMEMoid of this
// pool (the distance from the pool's mapping base). 0 is null: the pool header occupies
// offset 0, so no object lives there.
using PoolOffset = uint64_t;

struct Root {
  uint64_t magic;      // kRootMagic; 0 when pool creation was interrupted before initialization
  uint64_t version;    // kLayoutVersion of the code that created the pool
  PoolOffset top;      // the root inner node, or the only leaf; 0 when the tree is empty
  uint64_t count;      // version 1: number of keys (I5); version 2: 0, not read
  uint64_t reserved[4];  // zero; room for later fields without a new root object
};
static_assert(sizeof(Root) == 64, "persistent format");

struct NodeHeader {
  uint8_t kind;        // kNode4 .. kNode256
  uint8_t unused;
  uint16_t count;      // children (not counting `end`)
  uint32_t depth;      // the byte position this node discriminates on
  PoolOffset end;      // the leaf whose key has exactly `depth` bytes; 0: none
};
static_assert(sizeof(NodeHeader) == 16, "persistent format");

// Node4, Node16 and Node48: children sorted by their byte.
template <int kCap>
struct SortedNode {
  static constexpr int kCapacity = kCap;
  static constexpr int kBytesSpace = (kCap + 7) / 8 * 8;
  NodeHeader h;
  uint8_t bytes[kBytesSpace];  // bytes[i] is the byte of children[i]; sorted ascending
  PoolOffset children[kCap];
};
using Node4 = SortedNode<4>;
using Node16 = SortedNode<16>;
using Node48 = SortedNode<48>;
static_assert(sizeof(Node4) == 56, "persistent format");
static_assert(sizeof(Node16) == 160, "persistent format");
static_assert(sizeof(Node48) == 448, "persistent format");
static_assert(offsetof(Node16, children) == 32, "persistent format");

struct Node256 {
  static constexpr int kCapacity = 256;
  NodeHeader h;
  PoolOffset children[256];  // children[b]: the subtree of byte b; 0: none
};
static_assert(sizeof(Node256) == 2064, "persistent format");

// One pair: key and value inline, so a lookup reads one object after the last inner node.
struct Leaf {
  uint8_t kind;  // kLeaf
  uint8_t unused[3];
  uint32_t key_size;
  uint32_t value_size;
  uint32_t unused2;
  // followed by key_size key bytes, then value_size value bytes (no alignment, no terminator)

  const char* key() const { return reinterpret_cast<const char*>(this + 1); }
  const char* value() const { return key() + key_size; }
  char* mutable_key() { return reinterpret_cast<char*>(this + 1); }
  static uint64_t AllocSize(uint64_t key_size, uint64_t value_size) { return sizeof(Leaf) + key_size + value_size; }
};
static_assert(sizeof(Leaf) == 16, "persistent format");

// Shrink thresholds of I3: a node of this kind with this many children (or fewer) moves to the
// next smaller shape.
inline constexpr int kShrink16 = 3;
inline constexpr int kShrink48 = 12;
inline constexpr int kShrink256 = 40;

}  // namespace radix
