// SeekIndex: a sorted DRAM array of the skip list's nodes that are linked at level kLevel (every
// node whose tower is taller than kLevel, about one in 4^kLevel), each with the first 16 bytes of
// its key, so that a search for a key can start at level kLevel from a node just below the key
// instead of walking down from the head: a binary search over an array whose upper part stays
// in cache replaces the walk of the upper levels, whose nodes are scattered over the heap.
//
// The index is only ever a hint. Start(key) returns a node to start from, or null (start at the
// head), and a node it returns is one a search may start from at level kLevel and below:
//   - its key is smaller than key: its 16-byte prefix (pmemkv::Prefix16) is strictly smaller,
//     which under bytewise order implies it (so the index serves bytewise comparators only);
//   - it is linked at every level up to kLevel: it was reachable at level kLevel when the table
//     was built, so its insert had linked it there and at every level below (links are made
//     bottom-up); nodes are unlinked only after they are marked and never linked again, and
//     Start checks that it is not marked. A remove that marks it afterwards is one a search
//     from any node may meet: the writer's validation under its predecessors' locks catches it.
// The table goes stale as keys come and go: new nodes at level kLevel between two entries only
// add steps at that level, until Rebuild makes a new table.
//
// Reclamation: a table holds plain node pointers, so a node leaves every table a reader can
// reach before its memory can be freed. A writer that has unlinked a node taller than kLevel
// calls Forget(node) before Epochs::Retire(node). Forget and Rebuild hold build_lock_, and a
// rebuild skips marked nodes, so a table published after the node was marked never holds it,
// and Forget clears it from the table published before (a reader that loaded it from there
// earlier is inside a guard that began before the retire, so the node outlives its use).
// Tables are retired to Epochs.
//
// Thread-safety:
//   Start    lock-free; REQUIRES an Epochs::Guard.
//   Forget   build_lock_; REQUIRES: the node was unlinked (it is marked) and is not retired yet.
//   Rebuild  build_lock_ (MaybeRebuild: only when free); walks level kLevel inside its own
//            guard; readers and writers go on meanwhile.
#pragma once

#include <atomic>
#include <cstdint>

#include <mutex>
#include <string>

#include <pmemkv/key_prefix.h>

#include "node.h"

namespace csmap {

class SeekIndex {
 public:
  // The level at which searches that start from an entry begin.
  static constexpr int kLevel = 2;

  SeekIndex() = default;
  ~SeekIndex();
  SeekIndex(const SeekIndex&) = delete;
  SeekIndex& operator=(const SeekIndex&) = delete;

  // A node to start a search for a key whose prefix is `key` from, at level kLevel or below,
  // or null. REQUIRES: inside an Epochs::Guard.
  Node* Start(const pmemkv::KeyPrefix16& key) const noexcept;

  // Clears n from the current table. REQUIRES: see above.
  void Forget(Node* n) noexcept;

  // Replaces the table by one built from level kLevel of the list whose head is `head`.
  // False when DRAM ran out (the old table stays). `count` is the list's size, remembered for
  // Stale.
  bool Rebuild(const Node* head, uint64_t count) noexcept;
  // Rebuild only when no other thread is rebuilding and the table is Stale for `count` keys.
  void MaybeRebuild(const Node* head, uint64_t count) noexcept;
  // True when the list's size moved by more than a quarter since the table was built.
  bool Stale(uint64_t count) const noexcept {
    const uint64_t built = built_count_.load(std::memory_order_relaxed);
    return count > built + built / 4 + 64 || count + count / 4 + 64 < built;
  }
  uint64_t entries() const noexcept;
  // Frees the table. REQUIRES: no reader or writer runs (the list's nodes are being freed).
  void Clear() noexcept;
  // Checks the current table against the list (entries in order, each prefix its node's, each
  // node linked at level kLevel). "" when it holds. REQUIRES: quiescent.
  std::string Verify(const Node* head) const;

 private:
  // One block: the header, `count` prefixes, then `count` node pointers.
  struct Table {
    uint64_t retire_link;  // Epochs' list link once retired; readers never read it
    uint64_t count;
    pmemkv::KeyPrefix16* prefixes() noexcept { return reinterpret_cast<pmemkv::KeyPrefix16*>(this + 1); }
    const pmemkv::KeyPrefix16* prefixes() const noexcept { return reinterpret_cast<const pmemkv::KeyPrefix16*>(this + 1); }
    std::atomic<Node*>* nodes() noexcept { return reinterpret_cast<std::atomic<Node*>*>(prefixes() + count); }
    const std::atomic<Node*>* nodes() const noexcept {
      return reinterpret_cast<const std::atomic<Node*>*>(prefixes() + count);
    }
  };
  static_assert(sizeof(Table) % alignof(pmemkv::KeyPrefix16) == 0, "prefixes follow the header");

  bool RebuildLocked(const Node* head, uint64_t count) noexcept;
  // Index of the last entry whose prefix is below `key`, or -1.
  static int64_t LastBelow(const Table* t, const pmemkv::KeyPrefix16& key) noexcept;

  std::atomic<Table*> table_{nullptr};
  std::atomic<uint64_t> built_count_{0};
  // A mutex, not a spin lock: a rebuild holds it for a walk of level kLevel.
  std::mutex build_lock_;
};

}  // namespace csmap
