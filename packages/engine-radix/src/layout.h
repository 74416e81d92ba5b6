// The persistent format of a radix pool: a PATRICIA-style radix tree over the bytes of the keys,
// every node and every pair in persistent memory, and the invariants that make a pool readable
// after a crash at any instant. Nothing is kept in DRAM: open reads the root object and is done.
//
// Persistent format: the numbers below (layout name, version, magic, kinds, type numbers, field
// order and sizes) are what existing pools contain. Never change them; a new format gets a new
// kLayoutVersion.
//
//   Root (pmemobj root object, 64 bytes)
//   +-----------+-------------+---------+-----------+------------------+
//   | magic u64 | version u64 | top u64 | count u64 | reserved u64 [4] |
//   +-----------+-------------+---------+-----------+------------------+
//                                 |
//                                 v    an inner node or, in a tree of one key, a leaf
//   Inner node: NodeHeader, then the children, in one of four shapes by capacity
//   +----------+------------+-------------+-----------+------------------------------------+
//   | kind u8  | unused u8  | count u16   | depth u32 | end u64                            |
//   +----------+------------+-------------+-----------+------------------------------------+
//   Node4/16/48:  bytes u8 [cap] (sorted, the first `count` used), children u64 [cap]
//   Node256:      children u64 [256], indexed by byte (0: no child)
//
//   Leaf (one allocation per pair, 16 + key + value bytes)
//   +----------+------------+--------------+----------------+-------------+-----+-------+
//   | kind u8  | unused u8 3| key_size u32 | value_size u32 | unused u32  | key | value |
//   +----------+------------+--------------+----------------+-------------+-----+-------+
//
// The tree: an inner node of `depth` d discriminates on byte d of the keys below it; all keys
// below it share their first d bytes (which are stored only in the leaves, PATRICIA-style:
// a lookup descends by key[d] and compares the whole key once, at the leaf). Its `end` is the
// leaf whose key is exactly those d bytes (a key that is a prefix of every other key below
// the node sorts first); its children are the subtrees of keys whose byte d is the child's byte.
//
// Invariants (hold after every committed transaction, so after any crash and recovery):
//  I1. Depth grows strictly downwards: a child inner node's depth is greater than its
//      parent's; a leaf under byte b of a node of depth d has a key longer than d with
//      key[d] == b; the `end` leaf of a node of depth d has a key of exactly d bytes.
//      So every descent ends within (key length + 1) steps, and a link that points back up
//      the tree (a cycle) breaks I1 and is detected where it is followed.
//  I2. Path compression: every inner node has at least two entries (children plus `end`),
//      so a node with a single child exists only when it also ends a key.
//  I3. Node4/16/48: bytes[0..count) strictly increase and children[0..count) are non-zero;
//      Node256: count is the number of non-zero children. count <= capacity, and count is
//      above the shape's shrink threshold (Node16 >= 4, Node48 >= 13, Node256 >= 41): a node
//      moves to the next larger shape when a child does not fit, and to the next smaller one
//      when it drops to 3 (16 -> 4), 12 (48 -> 16) or 40 (256 -> 48) children, so a node
//      never changes shape back and forth on one key.
//  I4. Keys are distinct, and all keys below a node of depth d share their first d bytes.
//  I5. Root::count is the number of leaves reachable from Root::top; it changes in the same
//      transaction as the tree (so reopening needs no walk).
//  I6. Every allocation of kNodeTypeNum or kLeafTypeNum is reachable from Root::top exactly
//      once (no leak, no sharing).
//
// Crash argument: every mutation is one libpmemobj transaction (a batch is one transaction for
// all its mutations). Each byte of the tree that existed before the transaction is
// snapshotted (TxAddRange) before its first change, new nodes and leaves are allocated in the
// transaction (rolled back with it) and filled before a snapshotted link makes them reachable,
// and replaced nodes and leaves are freed at commit. A crash before commit restores every
// snapshot and frees every new object: the tree is exactly as before; after commit it is
// exactly as after. Per mutation (radix.cc has the details at each step):
//   insert   a leaf hangs from a free child slot or `end` of an existing node (the node and
//            the count snapshotted), or a new Node4 takes the place of a subtree in its
//            parent's slot (the slot snapshotted) holding the subtree and the new leaf; a full
//            node is first copied into a larger new node that replaces it in its parent's slot
//   update   same-sized pairs in place (value bytes snapshotted), else a new leaf replaces
//            the old one in its slot
//   remove   the leaf's slot is cleared (node snapshotted); a node left with one entry is
//            replaced in its parent's slot by that entry and freed (I2), a node below its
//            shrink threshold is copied into a smaller new node
#pragma once

#include <cstddef>
#include <cstdint>

namespace radix {

// The pmemobj layout name: a pool created by another engine fails to open with this name.
inline constexpr const char kLayoutName[] = "pmemkv_radix";
// Incremented on any change of the structures below; a pool of another version is refused.
inline constexpr uint64_t kLayoutVersion = 1;
// Root::magic once the root is initialized ("RADIXKV" plus a zero byte, little-endian).
inline constexpr uint64_t kRootMagic = 0x0056'4B58'4944'4152ULL;

// pmemobj type numbers of our allocations (visible to pmempool; never renumber).
inline constexpr uint64_t kNodeTypeNum = 1;
inline constexpr uint64_t kLeafTypeNum = 2;

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
  uint64_t count;      // number of keys (I5)
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
