// The persistent format of a csmap pool, and the argument that it survives a crash at any
// instant. Everything ordered (the skip list, its towers, the per-node locks, the entry count)
// lives in DRAM and is rebuilt from this on open.
//
// Persistent format: the numbers below (layout name, version, magic, type number, field
// order) are what existing pools contain. Never change them; a new format gets a new
// kLayoutVersion, and a pool of another version is refused on open, never misread.
//
//   Root (pmemobj root object, 80 bytes)
//   +-----------+-------------+-------------------------------+-------------------+
//   | magic u64 | version u64 | comparator name (32 B, NUL-   | reserved u64[4]   |
//   |           |             | padded; see comparator.h)     | (zero)            |
//   +-----------+-------------+-------------------------------+-------------------+
//
//   Record (one libpmemobj object of type kRecordTypeNum per key/value pair; nothing points
//   to it: the heap's own allocation state is the set of records)
//   +--------------+----------------+----------------+--------------------+
//   | key_size u32 | value_size u32 | key [key_size] | value [value_size] |
//   +--------------+----------------+----------------+--------------------+
//
// The pool holds no order and no links: the entries of a pool are exactly its allocated
// objects of kRecordTypeNum, which open enumerates with pmemobj_first/pmemobj_next, sorts
// with the stored comparator and threads into a fresh DRAM skip list. A record is written
// once, before it is published, and never modified afterwards.
//
// Invariants (hold after every publish, so after any crash and recovery):
//  I1. magic == kMagic and version == kLayoutVersion once the root is initialized; a root of
//      all zeroes is a pool whose initializing transaction never committed (OpenRoot).
//  I2. Every allocated kRecordTypeNum object is a complete record: 8 + key_size + value_size
//      <= its usable size, and its bytes are those its writer persisted before publishing it.
//  I3. No two records hold the same key (in the order of the stored comparator, equal keys
//      are equal bytes for both built-in comparators).
//  I4. The comparator name never changes after initialization.
//
// Crash argument, one line per mutation (libpmemobj's action API: pmemobj_reserve, then one
// pmemobj_publish that applies every action of a list through a redo log, all or none after
// a crash; a reservation that was never published is released at the next open, see
// pmemobj_action(3)):
//   insert     reserve, fill, persist; publish {the reservation}. Before: key absent; after:
//              one complete record (I2). Only the thread that holds the key's insertion
//              point in the DRAM list locked publishes, so I3 holds.
//   overwrite  reserve, fill, persist; publish {the reservation, free old record}. The new
//              record appears and the old one disappears in one redo log: old value or new,
//              never both (I3), never neither.
//   remove     publish {free record}: present or absent.
//   batch      every new record reserved, filled and persisted first; one publish holds all
//              reservations and the frees of every replaced or removed record: after a crash
//              the whole batch is there or none of it.
//   init       OpenRoot's transaction: comparator name, version and magic together (I1, I4).
#pragma once

#include <pmemkv/comparator.h>

#include <cstddef>
#include <cstdint>

namespace csmap {

// The pmemobj layout name: a pool created by another engine fails to open with this name.
inline constexpr const char kLayoutName[] = "pmemkv_csmap";
// Incremented on any change of the structures below; a pool of another version is refused.
inline constexpr uint64_t kLayoutVersion = 1;
// Root::magic once the root is initialized ("CSMAPKV" plus a zero byte, little-endian).
inline constexpr uint64_t kRootMagic = 0x0056'4B50'414D'5343ULL;

// pmemobj type number of records (visible to pmempool; never renumber).
inline constexpr uint64_t kRecordTypeNum = 1;

// Largest key and largest value, in bytes: their sizes are stored as u32.
inline constexpr uint64_t kMaxKeySize = UINT32_MAX;
inline constexpr uint64_t kMaxValueSize = UINT32_MAX;

struct Root {
  uint64_t magic;                          // kRootMagic; 0 until the initializing tx commits
  uint64_t version;                        // kLayoutVersion of the code that created the pool
  pmemkv::StoredComparatorName comparator; // the key order of this pool, fixed at creation (I4)
  uint64_t reserved[4];                    // zero; room for later fields
};
static_assert(offsetof(Root, comparator) == 16, "persistent format");
static_assert(sizeof(Root) == 80, "persistent format");

struct Record {
  uint32_t key_size;
  uint32_t value_size;
  // followed by key_size key bytes, then value_size value bytes (no alignment, no terminator)

  const char* key() const noexcept { return reinterpret_cast<const char*>(this + 1); }
  const char* value() const noexcept { return key() + key_size; }
  char* mutable_data() noexcept { return reinterpret_cast<char*>(this + 1); }
  static uint64_t AllocSize(uint64_t key_size, uint64_t value_size) noexcept {
    return sizeof(Record) + key_size + value_size;
  }
};
static_assert(sizeof(Record) == 8, "persistent format");

}  // namespace csmap
