// Node: one key of the DRAM skip list (the index of a csmap pool; layout.h has what persists).
//
// A node is one std::malloc block: the header, `height` forward links, then a copy of the key
// (so that a search never reads a record, which a concurrent overwrite may free). Besides its
// tower a node is on one chain of the HashIndex (hash_index.h), linked there before it becomes
// fully linked and unlinked after it is marked. The key and
// height never change. Nodes unlinked by a remove are freed through Epochs (epoch.h), so a
// reader inside an Epochs::Guard may follow any pointer it loaded from a node.
//
// Lazy skip list state (Herlihy, Lev, Luchangco, Shavit: "A Simple Optimistic Skiplist
// Algorithm", 2007): a key is present iff its node is reachable, fully_linked and not marked.
//   fully_linked  set once the node is linked at every level of its tower; never cleared
//   marked        set (under link_lock and value_lock) when the key's removal is durable;
//                 never cleared. A marked node is unlinked soon after by the same remove.
//
// Locks (DRAM, spin; see the lock order in csmap.cc):
//   link_lock   exclusive. Held by a writer that changes this node's forward links (an insert
//               or remove right after it) or removes this node. GUARDS next[] and the `prev`
//               of this node's level-0 successor.
//   value_lock  readers share it while they read the record; an overwrite or remove holds it
//               exclusively while it switches `record` and retires the old one. GUARDS record.
#pragma once

#include <pmemkv/locks.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace csmap {

// Tallest tower: with a branching factor of 4, 4^16 keys before the top level gets crowded.
inline constexpr int kMaxHeight = 16;

struct Node {
  // Pool offset of the key's current record. GUARDED_BY(value_lock) for writers; readers load
  // it under value_lock shared. Once the node is retired its first 8 bytes (this field) hold
  // the reclamation list's link (Epochs::Retire), which no reader looks at: readers read it
  // only after seeing marked == 0 under value_lock, and a retired node is marked.
  std::atomic<uint64_t> record;
  pmemkv::RwSpinLock value_lock;
  pmemkv::RwSpinLock link_lock;
  std::atomic<uint8_t> marked;
  std::atomic<uint8_t> fully_linked;
  uint8_t height;
  uint8_t reserved;
  uint32_t key_size;
  uint64_t hash;  // HashIndex::Hash(key)
  // The next node of the same HashIndex bucket (hash_index.h). Written under that bucket's
  // stripe lock, or by a rebuild with every writer excluded.
  std::atomic<Node*> hash_next;
  // The previous node at level 0 when it was last set (a hint for reverse walks, always a node
  // with a smaller key, or the head). Written under the link_lock of that previous node.
  std::atomic<Node*> prev;
  std::atomic<Node*> next[1];  // `height` links; the key bytes follow the last one

  std::string_view key() const noexcept {
    return std::string_view(reinterpret_cast<const char*>(&next[height]), key_size);
  }
  bool live() const noexcept {
    return fully_linked.load(std::memory_order_acquire) != 0 && marked.load(std::memory_order_acquire) == 0;
  }

  static size_t AllocSize(int height, size_t key_size) noexcept {
    return offsetof(Node, next) + sizeof(std::atomic<Node*>) * static_cast<size_t>(height) + key_size;
  }

  // A node of `height` links holding a copy of `key` (whose HashIndex::Hash is `hash`), not linked, not fully linked, or null
  // when DRAM ran out. Free it with std::free (directly while unreachable, else Epochs::Retire).
  static Node* New(std::string_view key, uint64_t hash, int height) noexcept {
    void* mem = std::malloc(AllocSize(height, key.size()));
    if (mem == nullptr) return nullptr;
    Node* n = new (mem) Node();
    n->record.store(0, std::memory_order_relaxed);
    n->marked.store(0, std::memory_order_relaxed);
    n->fully_linked.store(0, std::memory_order_relaxed);
    n->height = static_cast<uint8_t>(height);
    n->reserved = 0;
    n->key_size = static_cast<uint32_t>(key.size());
    n->hash = hash;
    n->hash_next.store(nullptr, std::memory_order_relaxed);
    n->prev.store(nullptr, std::memory_order_relaxed);
    for (int l = 0; l < height; l++) new (&n->next[l]) std::atomic<Node*>(nullptr);
    if (!key.empty()) std::memcpy(reinterpret_cast<char*>(&n->next[height]), key.data(), key.size());
    return n;
  }
};

// The head of a list: a node of kMaxHeight links with no key, never marked, never freed with
// the list's nodes.
struct Head {
  Node node;
  std::atomic<Node*> more_links[kMaxHeight - 1];
};
// node.next[1 ..] are more_links: no padding between them.
static_assert(offsetof(Head, more_links) == offsetof(Node, next) + sizeof(std::atomic<Node*>), "head layout");

}  // namespace csmap
