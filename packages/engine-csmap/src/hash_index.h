// HashIndex: a DRAM hash table from key bytes to skip-list nodes, so that Get, Exists and the
// overwrite path of Put reach a key in a couple of cache misses instead of a skip-list search.
// The skip list stays the authority on which keys exist; the index only finds nodes faster.
//
// Chaining through the nodes themselves (Node::hash_next): a key's node is linked into its
// bucket before the node becomes live (fully_linked) and unlinked after it is marked, so a
// lookup that finds a live node has found the key, and a live node is always in its bucket.
// Equal keys are equal bytes under both built-in comparators, so hashing bytes is exact.
//
// Thread-safety:
//   Find     lock-free; REQUIRES an Epochs::Guard (nodes and tables are freed through Epochs).
//   Insert,  the bucket's stripe lock (a leaf lock: taken last, never held while waiting for
//   Erase    another). REQUIRES: no Rebuild runs (the engine's batch gate held shared or
//            exclusively).
//   Rebuild  REQUIRES: no Insert, Erase or other Rebuild runs (the batch gate held
//            exclusively). Lookups run beside it: it rewrites the chains of live nodes, so a
//            lookup that overlapped it may miss a key it should find. `rebuilds_` is a
//            sequence lock around it: a lookup that finds nothing reports `sure == false`
//            when a rebuild ran meanwhile (the caller then searches the skip list). Chains
//            stay acyclic during a rebuild (a rewritten link points to a node rewritten
//            earlier, an old one along an old chain), and a lookup gives up after
//            kMaxChainSteps links anyway.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include <pmemkv/locks.h>

#include "node.h"

namespace csmap {

class HashIndex {
 public:
  HashIndex() = default;
  ~HashIndex();
  HashIndex(const HashIndex&) = delete;
  HashIndex& operator=(const HashIndex&) = delete;

  // A 64-bit hash of the key's bytes (DRAM only: never stored, so it may change freely).
  static uint64_t Hash(std::string_view key) noexcept;

  // The node in the index holding key (live or not), or null. *sure is false when a null
  // answer cannot be trusted (a rebuild overlapped the lookup). REQUIRES: inside a guard.
  Node* Find(std::string_view key, uint64_t hash, bool* sure) const noexcept;

  // Starts loading the bucket of `hash` into the cache (a hint). REQUIRES: inside a guard.
  void Prefetch(uint64_t hash) const noexcept {
    const Table* t = table_.load(std::memory_order_relaxed);
    if (t != nullptr) __builtin_prefetch(&t->buckets[hash & t->mask]);
  }

  // Links n (n->hash set) into its bucket / unlinks it. REQUIRES: see above.
  void Insert(Node* n) noexcept;
  void Erase(Node* n) noexcept;

  // Replaces the table by one of at least `count` buckets holding the nodes of level 0 from
  // `first` on. Returns false (the table unchanged) when DRAM ran out. The old table is
  // retired to Epochs. REQUIRES: see above.
  bool Rebuild(Node* first, uint64_t count) noexcept;

  // Rebuild for growth: the same result, built from the current table's chains (which hold
  // every live node while no Insert or Erase runs) instead of level 0. The old buckets are
  // read in order and each maps to the same few buckets of the new table, so only the nodes
  // themselves are random accesses, and those are prefetched a few buckets ahead: writers
  // wait at the gate for a fraction of a level-0 walk, which chases one dependent pointer per
  // node. Without a current table it is Rebuild from `first`. REQUIRES: as Rebuild.
  bool Grow(Node* first, uint64_t count) noexcept;

  // True when a table of the current size is crowded for `count` keys.
  bool Crowded(uint64_t count) const noexcept {
    const Table* t = table_.load(std::memory_order_relaxed);
    return t == nullptr || count > 2 * (t->mask + 1);
  }
  uint64_t buckets() const noexcept {
    const Table* t = table_.load(std::memory_order_relaxed);
    return t == nullptr ? 0 : t->mask + 1;
  }

 private:
  static constexpr int kMaxChainSteps = 256;
  static constexpr uint64_t kMinBuckets = 1024;
  static constexpr size_t kStripes = 256;

  struct Table {
    uint64_t retire_link;  // Epochs' list link once retired; readers never read it
    uint64_t mask;         // buckets - 1 (a power of two minus one)
    std::atomic<Node*> buckets[1];
  };
  struct alignas(64) Stripe {
    pmemkv::RwSpinLock lock;
  };

  static Table* NewTable(uint64_t buckets) noexcept;
  // Rebuild's shared part: `fill(fresh)` links every live node into `fresh`, inside the
  // sequence lock; then `fresh` replaces the table.
  template <class Fill>
  bool Replace(uint64_t count, Fill&& fill) noexcept;

  std::atomic<Table*> table_{nullptr};
  std::atomic<uint64_t> rebuilds_{0};  // odd while a rebuild runs
  std::unique_ptr<Stripe[]> stripes_{new Stripe[kStripes]};
};

}  // namespace csmap
