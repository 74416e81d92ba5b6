// SeekIndex: see seek_index.h for the contract and why its entries are safe to start from.
#include "seek_index.h"

#include <cstdlib>
#include <new>
#include <vector>

#include "epoch.h"

namespace csmap {

SeekIndex::~SeekIndex() { Clear(); }

void SeekIndex::Clear() noexcept {
  std::free(table_.exchange(nullptr, std::memory_order_relaxed));
  built_count_.store(0, std::memory_order_relaxed);
}

std::string SeekIndex::Verify(const Node* head) const {
  const Table* t = table_.load(std::memory_order_acquire);
  if (t == nullptr) return "";
  const Node* at = head;  // the entries' nodes appear along level kLevel in table order
  for (uint64_t i = 0; i < t->count; i++) {
    if (i > 0 && t->prefixes()[i] < t->prefixes()[i - 1]) return "the seek index is out of order";
    const Node* n = t->nodes()[i].load(std::memory_order_relaxed);
    if (n == nullptr) continue;
    if (t->prefixes()[i] != pmemkv::Prefix16(n->key())) return "a seek index prefix is not its node's";
    while (at != nullptr && at != n) at = at->next[kLevel].load(std::memory_order_relaxed);
    if (at == nullptr) return "a seek index node is not linked at its level, or out of order";
  }
  return "";
}

uint64_t SeekIndex::entries() const noexcept {
  const Table* t = table_.load(std::memory_order_acquire);
  return t == nullptr ? 0 : t->count;
}

// Branch-free halving: the upper steps touch the same few lines for every key, so they stay in
// cache; only the last few steps, over neighbouring entries, miss.
// REQUIRES: t->count > 0.
int64_t SeekIndex::LastBelow(const Table* t, const pmemkv::KeyPrefix16& key) noexcept {
  const pmemkv::KeyPrefix16* p = t->prefixes();
  uint64_t base = 0, n = t->count;  // the first entry not below key is in [base, base + n]
  while (n > 1) {
    const uint64_t half = n / 2;
    base = p[base + half] < key ? base + half : base;
    n -= half;
  }
  return static_cast<int64_t>(base + (p[base] < key ? 1 : 0)) - 1;
}

Node* SeekIndex::Start(const pmemkv::KeyPrefix16& key) const noexcept {
  const Table* t = table_.load(std::memory_order_acquire);
  if (t == nullptr || t->count == 0) return nullptr;
  // A cleared or marked entry: an earlier one serves as well, a little farther from the key.
  constexpr int kTries = 4;
  int64_t i = LastBelow(t, key);
  for (int tries = 0; i >= 0 && tries < kTries; i--, tries++) {
    Node* n = t->nodes()[i].load(std::memory_order_acquire);
    if (n != nullptr && n->marked.load(std::memory_order_acquire) == 0) return n;
  }
  return nullptr;
}

void SeekIndex::Forget(Node* n) noexcept {
  if (n->height <= kLevel) return;  // never in a table
  std::lock_guard<std::mutex> hold(build_lock_);
  Table* t = table_.load(std::memory_order_relaxed);
  if (t == nullptr || t->count == 0) return;
  const pmemkv::KeyPrefix16 key = pmemkv::Prefix16(n->key());
  // Entries are in key order, so n, if present, is among those with its prefix.
  for (int64_t i = LastBelow(t, key) + 1; i < static_cast<int64_t>(t->count) && t->prefixes()[i] == key; i++) {
    if (t->nodes()[i].load(std::memory_order_relaxed) == n) {
      t->nodes()[i].store(nullptr, std::memory_order_release);
      return;
    }
  }
}

bool SeekIndex::Rebuild(const Node* head, uint64_t count) noexcept {
  std::lock_guard<std::mutex> hold(build_lock_);
  return RebuildLocked(head, count);
}

bool SeekIndex::RebuildLocked(const Node* head, uint64_t count) noexcept {
  Table* fresh = nullptr;
  {
    Epochs::Guard guard;
    std::vector<Node*> found;
    try {
      found.reserve(count / 8 + 16);
      for (Node* n = head->next[kLevel].load(std::memory_order_acquire); n != nullptr;
           n = n->next[kLevel].load(std::memory_order_acquire))
        if (n->marked.load(std::memory_order_acquire) == 0) found.push_back(n);
    } catch (const std::bad_alloc&) {
      return false;
    }
    void* mem = std::malloc(sizeof(Table) + (sizeof(pmemkv::KeyPrefix16) + sizeof(std::atomic<Node*>)) * found.size());
    if (mem == nullptr) return false;
    fresh = static_cast<Table*>(mem);
    fresh->retire_link = 0;
    fresh->count = found.size();
    for (size_t i = 0; i < found.size(); i++) {
      fresh->prefixes()[i] = pmemkv::Prefix16(found[i]->key());
      new (&fresh->nodes()[i]) std::atomic<Node*>(found[i]);
    }
  }
  Table* old = table_.exchange(fresh, std::memory_order_acq_rel);
  built_count_.store(count, std::memory_order_relaxed);
  if (old != nullptr) Epochs::Retire(old);
  return true;
}

void SeekIndex::MaybeRebuild(const Node* head, uint64_t count) noexcept {
  if (!Stale(count)) return;
  std::unique_lock<std::mutex> hold(build_lock_, std::try_to_lock);
  if (hold.owns_lock()) RebuildLocked(head, count);  // no DRAM: the old table stays
}

}  // namespace csmap
