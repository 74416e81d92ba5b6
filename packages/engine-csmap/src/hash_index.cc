// HashIndex: see hash_index.h for the contract and why lookups beside a rebuild are safe.
#include "hash_index.h"

#include <cstdlib>
#include <new>

#include "epoch.h"

namespace csmap {

namespace {

constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;

uint64_t Mix(uint64_t h) noexcept {
  h ^= h >> 31;
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return h;
}

}  // namespace

// Eight bytes at a time, each word folded in with a multiply; the length seeds it so that keys
// differing only in trailing zero bytes hash apart.
uint64_t HashIndex::Hash(std::string_view key) noexcept {
  const char* p = key.data();
  size_t n = key.size();
  uint64_t h = kMul ^ (n * 0xFF51AFD7ED558CCDull);
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ Mix(w)) * kMul;
  }
  if (n > 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ Mix(w)) * kMul;
  }
  return Mix(h);
}

HashIndex::~HashIndex() { std::free(table_.load(std::memory_order_relaxed)); }

HashIndex::Table* HashIndex::NewTable(uint64_t buckets) noexcept {
  void* mem = std::malloc(offsetof(Table, buckets) + sizeof(std::atomic<Node*>) * buckets);
  if (mem == nullptr) return nullptr;
  Table* t = static_cast<Table*>(mem);
  t->retire_link = 0;
  t->mask = buckets - 1;
  for (uint64_t b = 0; b < buckets; b++) new (&t->buckets[b]) std::atomic<Node*>(nullptr);
  return t;
}

Node* HashIndex::Find(std::string_view key, uint64_t hash, bool* sure) const noexcept {
  const uint64_t seq = rebuilds_.load(std::memory_order_acquire);
  const Table* t = table_.load(std::memory_order_acquire);
  if (t != nullptr && (seq & 1) == 0) {
    int steps = 0;
    for (Node* n = t->buckets[hash & t->mask].load(std::memory_order_acquire); n != nullptr && steps < kMaxChainSteps;
         n = n->hash_next.load(std::memory_order_acquire), steps++) {
      if (n->hash == hash && n->key() == key) {
        *sure = true;
        return n;
      }
    }
    if (steps < kMaxChainSteps) {
      // Sequence lock read side: the chain loads above happen before this re-read.
      std::atomic_thread_fence(std::memory_order_acquire);
      *sure = rebuilds_.load(std::memory_order_relaxed) == seq;
      return nullptr;
    }
  }
  *sure = false;
  return nullptr;
}

void HashIndex::Insert(Node* n) noexcept {
  Table* t = table_.load(std::memory_order_relaxed);
  const uint64_t b = n->hash & t->mask;
  Stripe& s = stripes_[b % kStripes];
  s.lock.lock();
  n->hash_next.store(t->buckets[b].load(std::memory_order_relaxed), std::memory_order_relaxed);
  t->buckets[b].store(n, std::memory_order_release);
  s.lock.unlock();
}

void HashIndex::Erase(Node* n) noexcept {
  Table* t = table_.load(std::memory_order_relaxed);
  const uint64_t b = n->hash & t->mask;
  Stripe& s = stripes_[b % kStripes];
  s.lock.lock();
  for (std::atomic<Node*>* link = &t->buckets[b]; link->load(std::memory_order_relaxed) != nullptr;
       link = &link->load(std::memory_order_relaxed)->hash_next) {
    if (link->load(std::memory_order_relaxed) == n) {
      // n keeps its own link: a lookup standing on it still reaches the rest of the chain.
      link->store(n->hash_next.load(std::memory_order_relaxed), std::memory_order_release);
      break;
    }
  }
  s.lock.unlock();
}

template <class Fill>
bool HashIndex::Replace(uint64_t count, Fill&& fill) noexcept {
  uint64_t buckets = kMinBuckets;
  while (buckets < count) buckets *= 2;
  Table* fresh = NewTable(buckets);
  if (fresh == nullptr) return false;
  // Sequence lock write side: odd before any chain changes, even after the new table is in.
  rebuilds_.store(rebuilds_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  fill(fresh);
  Table* old = table_.exchange(fresh, std::memory_order_acq_rel);
  rebuilds_.store(rebuilds_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  if (old != nullptr) Epochs::Retire(old);
  return true;
}

namespace {

// Pushes live node n onto its chain of `buckets` (n's old link is overwritten: read it first).
template <class Table>
void LinkInto(Table* t, Node* n) noexcept {
  std::atomic<Node*>& bucket = t->buckets[n->hash & t->mask];
  n->hash_next.store(bucket.load(std::memory_order_relaxed), std::memory_order_release);
  bucket.store(n, std::memory_order_relaxed);
}

}  // namespace

bool HashIndex::Rebuild(Node* first, uint64_t count) noexcept {
  return Replace(count, [first](Table* fresh) {
    for (Node* n = first; n != nullptr; n = n->next[0].load(std::memory_order_relaxed))
      if (n->marked.load(std::memory_order_relaxed) == 0) LinkInto(fresh, n);
  });
}

bool HashIndex::Grow(Node* first, uint64_t count) noexcept {
  const Table* old = table_.load(std::memory_order_relaxed);
  if (old == nullptr) return Rebuild(first, count);
  return Replace(count, [old](Table* fresh) {
    constexpr uint64_t kAhead = 8;  // buckets prefetched ahead: enough misses in flight
    const uint64_t n_old = old->mask + 1;
    for (uint64_t b = 0; b < n_old; b++) {
      if (b + kAhead < n_old) {
        const Node* ahead = old->buckets[b + kAhead].load(std::memory_order_relaxed);
        if (ahead != nullptr) __builtin_prefetch(ahead, 1);
      }
      for (Node* n = old->buckets[b].load(std::memory_order_relaxed); n != nullptr;) {
        Node* next = n->hash_next.load(std::memory_order_relaxed);
        if (next != nullptr) __builtin_prefetch(next, 1);
        if (n->marked.load(std::memory_order_relaxed) == 0) LinkInto(fresh, n);
        n = next;
      }
    }
  });
}

}  // namespace csmap
