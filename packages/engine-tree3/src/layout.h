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
// Incremented on any change of the structures below. Version 2 added slabs (kSlabTypeNum) and
// the batch journal (Root::journal). A version 1 pool (every KVSlot an allocation of its own,
// no journal) is a valid version 2 pool without slabs: open allocates the journal, and marks
// the pool version 2 before any slab record is linked, so that a version 1 build (which would
// free a slab record as an allocation of its own) refuses it from then on. Version 3 added
// header-less leaf objects ("Leaf objects" below); a version 1 or 2 pool is a valid version 3
// pool without them, marked version 3 on open before any leaf is allocated, so that an older
// build (which would take such a leaf for damage) refuses it from then on.
inline constexpr uint64_t kLayoutVersion = 3;
inline constexpr uint64_t kOldestReadableVersion = 1;
// Root::magic once the root is initialized ("TREE3KV" plus a zero byte, little-endian).
inline constexpr uint64_t kRootMagic = 0x0056'4B33'4545'5254ULL;

// Slots per leaf (FPTree's leaf size: one byte of fingerprint per slot, 48 slots).
inline constexpr int kLeafSlots = 48;

// pmemobj type numbers of our allocations (visible to pmempool; never renumber).
inline constexpr uint64_t kLeafTypeNum = 1;
inline constexpr uint64_t kKVSlotTypeNum = 2;     // a KVSlot that is an allocation of its own
inline constexpr uint64_t kSlabTypeNum = 3;       // a slab of KVSlots (SDK slab_arena.h)
inline constexpr uint64_t kJournalTypeNum = 4;    // the batch journal (SDK journal.h)

// Leaf objects. A leaf is allocated as kLeafBytes (a Leaf and 8 unused bytes) from a
// libpmemobj class with no allocation header (SDK alloc.h, RegisterHeaderless), so reserving
// a group of spare leaves writes nothing before its one publish; every such leaf starts at a
// multiple of kLeafAlignment. Such an object has no type number: open takes an offset of the
// leaf list for a leaf when it is an allocation of kLeafTypeNum (every leaf of a version 1 or
// 2 pool, and any leaf allocated when libpmemobj refused the class) or an object of type 0
// whose usable size is kLeafBytes at a multiple of kLeafAlignment.
inline constexpr uint64_t kLeafBytes = 448;
inline constexpr uint64_t kLeafAlignment = 64;

// Largest key and largest value, in bytes: their sizes are stored as u32.
inline constexpr uint64_t kMaxKeySize = UINT32_MAX;
inline constexpr uint64_t kMaxValueSize = UINT32_MAX;

// Pool offsets: every reference between persistent objects is the `off` of a PMEMoid of this
// pool (the distance from the pool's mapping base, what pmemobj_direct adds). 0 is null: the
// pool header occupies offset 0, so no object lives there.
using PoolOffset = uint64_t;

//   Root (pmemobj root object, 64 bytes)
//   +-----------+-------------+----------+-------------+-----------------------+
//   | magic u64 | version u64 | head u64 | journal u64 | reserved u64[4] (= 0) |
//   +-----------+-------------+----------+-------------+-----------------------+
//                                  |           |
//                                  |           v
//                                  |     Journal (SDK journal.h: header + records of
//                                  |     {target offset, 8-byte value}), one object
//                                  v
//   Leaf (one pmemobj object, 440 bytes used)         Leaf                  Leaf
//   +-----------+------------------+---------------+  +------+----    ...   +------+----
//   | next  u64 | hashes  u8 [48]  | slots u64[48] |->| next |  ...          | next | = 0
//   +-----------+------------------+---------------+  +------+----          +------+----
//                                      |
//                                      v
//   KVSlot (8 + key + value bytes), either a record inside a slab (an object of kSlabTypeNum
//   holding records back to back, 8-byte aligned) when it is at most SlabArena::max_record()
//   bytes, or an allocation of its own (kKVSlotTypeNum): larger pairs, every pair of a
//   version 1 pool, and a pair written when no slab had room.
//   +--------------+----------------+-----------------+-------------------+
//   | key_size u32 | value_size u32 | key [key_size]  | value [value_size]|
//   +--------------+----------------+-----------------+-------------------+
//
// Invariants (hold at every instant at which a crash leaves the pool, after the journal's
// redo and libpmemobj's recovery):
//  I1. Every live leaf is on the list from Root::head, exactly once. A leaf holds at least one
//      pair, except a spare (an empty leaf kept on the list for a split to fill, see "spares"),
//      or after a crash or a failed change between the step that emptied it (or a batch's split
//      that created it) and the transaction that unlinks it; open frees every empty leaf. The
//      list order means nothing.
//  I2. Slot i of a leaf is live iff hashes[i] != 0; then slots[i] is the offset of a KVSlot
//      owned by that slot alone, whose bytes are durable, and hashes[i] == Fingerprint(key).
//      A dead slot's slots[i] means nothing: it may still hold the reference of a removed pair
//      or of an insert that a crash cut short. Open ignores it (claims nothing for it) and the
//      next insert into the slot overwrites it.
//  I3. Every key is live in at most one slot of the whole pool.
//  I4. The key sets of two leaves never interleave: for leaves A != B, all keys of A are less
//      than all keys of B or all greater. So sorting the non-empty leaves by their largest key
//      gives the key order of the whole tree (this is what recovery relies on).
//  I5. Every allocation of kKVSlotTypeNum is referenced by exactly one live slot (no leak):
//      every change that allocates or frees one is a transaction or a publish that also sets
//      the slots. A slab record referenced by no live slot is garbage (not stored as such:
//      which bytes of a slab are live is recomputed on open from the live slots, I6).
//  I6. A slab record lies wholly inside its slab's usable bytes; slabs hold nothing but
//      KVSlots and garbage.
//  The number of entries is not stored: it is the number of live slots, counted on open.
//
// Crash argument, one line per mutation ("persist" = flush + fence; every KVSlot is written
// and persisted while no live slot refers to it, and never modified after):
//  insert    (slab record, free slot of an existing leaf) persist the record and slots[i]
//            together, then hashes[i] = h persisted: the fingerprint byte is the commit point.
//            Off persistent memory, where each persist is an msync: one journal commit stores
//            slots[i] and the word of hashes[] that holds hashes[i], with the record as its
//            payload (the commit point; one msync).
//  overwrite (slab record replacing a slab record) persist the new record, then the 8-byte
//            store slots[i] = new, persisted, is the commit point; then the old record is
//            released (garbage). Off persistent memory the store is one journal commit with
//            the new record as its payload. When the new or the old pair is an allocation of
//            its own, the swap and the allocation/free are one transaction.
//  remove    (slab record) hashes[i] = 0 persisted is the commit point; slots[i] = 0 follows
//            (flushed, not fenced: a stale reference in a dead slot is harmless, I2); off
//            persistent memory one journal commit stores the hashes[] word and slots[i] stays
//            as it was (I2 again). An own
//            allocation: one transaction clears both and frees it. A leaf left empty is then
//            unlinked and freed in a transaction of its own (I1).
//  spares   kSpareGroup leaves reserved, zeroed and chained in front of the list, then one
//            publish allocates them all and stores Root::head: the list gains empty leaves or
//            stays as it was. Spares left at close are unlinked and freed in one transaction
//            (a crash first: open frees them as empty leaves).
//  split     (a spare at hand, and the new pair, if any, a slab record persisted before) one
//            journal commit: the moved references (and the new pair's, when it goes to the new
//            leaf) are written into the spare's dead slots directly, as the commit's payload;
//            the commit stores the spare's fingerprint words, the old leaf's with the moved
//            slots cleared, and, when the new pair stays in the old leaf, the vacated slot's
//            reference. Before its commit point the old leaf holds every pair, after it each
//            moved pair is live in the spare alone (I3) and the separator divides them (I4).
//  first put, split (otherwise) one transaction: allocate and link the leaf, move slot
//            references and fingerprints, set the new pair's slot (its record persisted
//            before the transaction begins when it is a slab record).
//  batch     splits the batch needs are planned first, each as above and moving existing pairs
//            only (the key-value contents do not change, I4 holds), but their fingerprint
//            stores wait and join the batch's commit; when the batch fails, or the two would
//            not fit the journal together, the waiting splits commit alone first (one journal
//            commit, before anything else of the batch). Then every slots[i] word
//            and every changed 8-byte word of hashes[] of the batch is set in one journal
//            commit whose payload is every new record (SDK journal.h: the records are durable
//            no later than the commit point, which is the block's persist; redone on open), or
//            the records are persisted and one publish sets the words and also reserves and
//            frees the batch's own allocations. Records replaced or removed are released after.
//  cleaner   copies a live record of a sparse slab into a fresh record, persists it, then
//            stores slots[i] = copy (8 bytes, persisted), then releases the old record; the
//            slot holds the same pair before and after the store.
//  upgrade   (version 1 pool) journal allocated (a transaction); then (version 1 or 2)
//            version = 3 (a transaction), before anything else is written.
//  journal   a commit's stores stay in its log after the commit point until a checkpoint
//            (SDK journal.h, kWhenFull; open redoes the log). The log's targets are slots[]
//            and hashes[] words of leaves, so the log is checkpointed (every logged store
//            durable, the log emptied) before any other store into a leaf and before any
//            free: otherwise a redo would put an older commit's word over a newer direct
//            store, or into memory reused since. Every direct insert, overwrite and remove
//            (persistent memory), cleaner move and transaction above starts with that
//            checkpoint (one atomic load when the log is empty); a slab's free and a publish
//            that stores into leaves make it themselves (the spares' publish stores only
//            Root::head, which no commit targets).

struct Root {
  uint64_t magic;     // kRootMagic; 0 when pool creation was interrupted before initialization
  uint64_t version;   // kLayoutVersion of the pool's format (a version 1 pool is upgraded on open)
  PoolOffset head;    // first leaf of the leaf list; 0 when the pool has no leaf yet
  PoolOffset journal;  // the batch journal (version 2); 0 until open allocates it
  uint64_t reserved[4];  // zero; room for later fields without a new root object
};
static_assert(sizeof(Root) == 64, "persistent format");

struct Leaf {
  PoolOffset next;                 // next leaf of the list (any order); 0 ends the list
  uint8_t hashes[kLeafSlots];      // fingerprint of slot i's key; 0 = empty slot (no bitmap)
  PoolOffset slots[kLeafSlots];    // KVSlot of slot i when hashes[i] != 0; meaningless otherwise
};
static_assert(offsetof(Leaf, hashes) == 8, "persistent format");
static_assert(offsetof(Leaf, slots) == 56, "persistent format");
static_assert(sizeof(Leaf) == 440, "persistent format");
static_assert(sizeof(Leaf) <= kLeafBytes && kLeafBytes % kLeafAlignment == 0, "persistent format");

// One buffer per pair: a leaf split moves the 8-byte slot reference and copies no key or
// value bytes. Written and persisted before any live slot refers to it, never modified after
// (an overwrite writes a new KVSlot), so a reader never sees a torn pair.
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
  uint64_t bytes() const { return AllocSize(key_size, value_size); }
};
static_assert(sizeof(KVSlot) == 8, "persistent format");

}  // namespace tree3
