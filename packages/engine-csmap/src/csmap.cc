// CSMap: see csmap.h for the contract, layout.h for the persistent format and node.h for the
// skip-list node.
//
// Lock order: link_locks are taken right to left (in decreasing key order: an insert locks
// its predecessors bottom-up, level 0 first; a remove locks its victim, then the victim's
// predecessors bottom-up), so no two writers ever wait for each other in a cycle. A
// value_lock is taken last and released before any other lock is waited for. The batch gate
// is taken before any node lock and is the only lock a batch waits for.
#include "csmap.h"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <pmemkv/batch.h>
#include <pmemkv/crash_point.h>
#include <pmemkv/root.h>
#include <pmemkv/tx.h>

#include "epoch.h"

namespace csmap {

using pmemkv::ActionList;
using pmemkv::CrashPoint;
using pmemkv::KeyRange;
using pmemkv::SharedLockGuard;
using pmemkv::Slice;
using pmemkv::Status;

namespace {

Status TooLong(const char* what, size_t size) {
  return Status::InvalidArgument(std::string(what) + " of " + std::to_string(size) +
                                 " bytes is too long: csmap keys and values are at most 4294967295 bytes "
                                 "(4 GiB - 1) each");
}

Status PoolFull(size_t bytes) {
  return Status::OutOfMemory("the csmap pool is full (" + std::to_string(bytes) +
                             " bytes needed for this entry): remove entries, or create a larger pool (config.size)");
}

Status NoDram(const char* what) {
  return Status::OutOfMemory(std::string("out of memory (DRAM) for ") + what);
}

// A short spin, then the time slice: a lock holder may be descheduled on these few cores.
void Backoff(unsigned* spins) noexcept {
  if (++*spins < 32) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  } else {
    sched_yield();
  }
}

// Tower heights: P(height >= h + 1 | height >= h) = 1/4 (LevelDB's branching factor), from a
// per-thread xorshift64 generator.
int RandomHeight() noexcept {
  static thread_local uint64_t state = 0;
  uint64_t x = state;
  if (x == 0) {
    x = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        reinterpret_cast<uintptr_t>(&state) ^ 0x9E3779B97F4A7C15ull;
    if (x == 0) x = 1;
  }
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  state = x;
  int h = 1;
  while (h < kMaxHeight && (x & 3) == 0) {
    h++;
    x >>= 2;
  }
  return h;
}

std::atomic<uint32_t> g_next_stripe{0};

}  // namespace

// Holds the calling thread's stripe of the batch gate shared: no batch runs meanwhile.
class CSMap::SharedGate {
 public:
  explicit SharedGate(CSMap& m) noexcept : stripe_(m.MyStripe()) { stripe_.lock.lock_shared(); }
  ~SharedGate() { stripe_.lock.unlock_shared(); }
  SharedGate(const SharedGate&) = delete;
  SharedGate& operator=(const SharedGate&) = delete;
  GateStripe& stripe() noexcept { return stripe_; }

 private:
  GateStripe& stripe_;
};

CSMap::GateStripe& CSMap::MyStripe() noexcept {
  static thread_local uint32_t index = g_next_stripe.fetch_add(1, std::memory_order_relaxed);
  return stripes_[index % kGateStripes];
}

CSMap::CSMap(std::unique_ptr<pmemkv::Pool> pool, Root* root, const pmemkv::Comparator& cmp)
    : pool_(std::move(pool)),
      pop_(pool_->get()),
      base_(reinterpret_cast<const char*>(pop_)),
      uuid_lo_(pmemobj_oid(root).pool_uuid_lo),
      root_(root),
      compare_(cmp.compare),
      stripes_(new GateStripe[kGateStripes]) {
  SetComparator(cmp);
  Node& h = head_.node;
  h.record.store(0, std::memory_order_relaxed);
  h.marked.store(0, std::memory_order_relaxed);
  h.fully_linked.store(1, std::memory_order_relaxed);
  h.height = kMaxHeight;
  h.reserved = 0;
  h.key_size = 0;
  h.prev.store(nullptr, std::memory_order_relaxed);
  for (int l = 0; l < kMaxHeight; l++) h.next[l].store(nullptr, std::memory_order_relaxed);
  // A single-file pool maps the whole file, so its size bounds every offset.
  pool_bytes_ = pmemkv::SpanOf(*pool_).size();
}

CSMap::~CSMap() { FreeAllNodes(); }

void CSMap::FreeAllNodes() noexcept {
  for (Node* n = head()->next[0].load(std::memory_order_relaxed); n != nullptr;) {
    Node* next = n->next[0].load(std::memory_order_relaxed);
    std::free(n);
    n = next;
  }
  for (int l = 0; l < kMaxHeight; l++) head()->next[l].store(nullptr, std::memory_order_relaxed);
}

namespace {

// The first 16 bytes of `key` as two big-endian words, zero-padded: comparing them as integers
// orders keys bytewise except where the words tie.
void SortKey(pmemkv::Slice key, uint64_t out[2]) noexcept {
  unsigned char bytes[16] = {};
  std::memcpy(bytes, key.data(), key.size() < 16 ? key.size() : 16);
  for (int w = 0; w < 2; w++) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | bytes[8 * w + i];
    out[w] = v;
  }
}

}  // namespace

Status CSMap::Open(const pmemkv::Config& config, std::unique_ptr<pmemkv::Engine>* engine) {
  const pmemkv::Comparator* configured = nullptr;
  Status s = pmemkv::ComparatorFromConfig(config, "csmap", &configured);
  if (!s.ok()) return s;
  std::unique_ptr<pmemkv::Pool> pool;
  s = pmemkv::Pool::Open(config, kLayoutName, &pool);
  if (!s.ok()) return s;
  Root* root = nullptr;
  // A new pool stores the configured comparator (bytewise by default) in the initializing
  // transaction (I1, I4).
  s = pmemkv::OpenRoot<Root>(*pool, "csmap", kRootMagic, kLayoutVersion, [&](Root* r) {
    pmemkv::StoreComparatorName(&r->comparator, configured != nullptr ? *configured : pmemkv::kBytewise);
    return Status::OK();
  }, &root);
  if (!s.ok()) return s;
  const pmemkv::Comparator* cmp = nullptr;
  s = pmemkv::ResolveStoredComparator(root->comparator, configured, pool->path(), "csmap", &cmp);
  if (!s.ok()) return s;
  std::unique_ptr<CSMap> map;
  try {
    map.reset(new CSMap(std::move(pool), root, *cmp));
  } catch (const std::bad_alloc&) {
    return NoDram("opening csmap");
  }
  s = map->Recover();
  if (!s.ok()) return s;
  *engine = std::move(map);
  return Status::OK();
}

// Recovery: every allocated record (pmemobj_first/pmemobj_next, I2) is checked against the pool
// bounds and its allocation, sorted with the stored comparator, checked for duplicates (I3) and
// threaded into a new skip list from left to right. The object walk is bounded by the number
// of objects the pool can hold, so a damaged heap is reported, never followed forever.
Status CSMap::Recover() {
  struct Found {
    uint64_t prefix[2];  // the key's first 16 bytes, big-endian, zero-padded (SortKey)
    uint64_t hash;       // HashIndex::Hash(key), taken while the record is in cache
    Slice key;
    uint64_t off;
  };
  std::vector<Found> found;
  try {
    const uint64_t limit = pool_bytes_;
    const uint64_t max_objects = limit == UINT64_MAX ? UINT64_MAX : limit / 16 + 1;
    uint64_t steps = 0;
    for (PMEMoid oid = pmemobj_first(pop_); !OID_IS_NULL(oid); oid = pmemobj_next(oid)) {
      if (++steps > max_objects) return pmemkv::DamagedPool(pool_->path(), "csmap: the heap's object list loops");
      if (pmemobj_type_num(oid) != kRecordTypeNum) continue;
      const uint64_t usable = pmemobj_alloc_usable_size(oid);
      if (oid.off == 0 || oid.off > limit || usable > limit - oid.off || usable < sizeof(Record))
        return pmemkv::DamagedPool(pool_->path(), "csmap: a record lies outside the pool");
      const Record* r = RecordAt(oid.off);
      if (Record::AllocSize(r->key_size, r->value_size) > usable)
        return pmemkv::DamagedPool(pool_->path(), "csmap: a record is larger than its allocation");
      const Slice key(r->key(), r->key_size);
      Found f{{0, 0}, HashIndex::Hash(std::string_view(key.data(), key.size())), key, oid.off};
      SortKey(key, f.prefix);
      found.push_back(f);
    }
    // Under the built-in comparators the order of two keys is the order of their 16-byte
    // prefixes whenever those differ (zero padding sorts a key before its extensions, and a
    // tie falls through to the comparator), so most comparisons stay in this array instead of
    // missing the cache on two records in the pool.
    const bool bytewise = compare_ == pmemkv::kBytewise.compare;
    const bool reverse = compare_ == pmemkv::kReverseBytewise.compare;
    std::sort(found.begin(), found.end(), [&](const Found& a, const Found& b) {
      if (bytewise || reverse) {
        for (int i = 0; i < 2; i++)
          if (a.prefix[i] != b.prefix[i]) return (a.prefix[i] < b.prefix[i]) != reverse;
      }
      return Compare(a.key, b.key) < 0;
    });
    for (size_t i = 1; i < found.size(); i++)
      if (Compare(found[i - 1].key, found[i].key) == 0)
        return pmemkv::DamagedPool(pool_->path(), "csmap: two records hold the same key");
  } catch (const std::bad_alloc&) {
    return NoDram("csmap's index on open");
  }
  Node* last[kMaxHeight];
  for (int l = 0; l < kMaxHeight; l++) last[l] = head();
  for (const Found& f : found) {
    Node* n = Node::New(f.key, f.hash, RandomHeight());
    if (n == nullptr) {
      FreeAllNodes();
      return NoDram("csmap's index on open");
    }
    n->record.store(f.off, std::memory_order_relaxed);
    n->fully_linked.store(1, std::memory_order_relaxed);
    n->prev.store(last[0], std::memory_order_relaxed);
    for (int l = 0; l < n->height; l++) {
      last[l]->next[l].store(n, std::memory_order_relaxed);
      last[l] = n;
    }
  }
  if (!index_.Rebuild(head()->next[0].load(std::memory_order_relaxed), found.size())) {
    FreeAllNodes();
    return NoDram("csmap's hash index on open");
  }
  stripes_[0].count.store(static_cast<int64_t>(found.size()), std::memory_order_release);
  return Status::OK();
}

// Searches: readers follow links with acquire loads (a node is complete before the release
// store that links it). A node already compared at the level above is not compared again.
int CSMap::Find(Slice key, Node** preds, Node** succs) const noexcept {
  int found = -1;
  Node* pred = head();
  const Node* known = nullptr;  // a node found >= key at a higher level
  for (int l = kMaxHeight - 1; l >= 0; l--) {
    Node* curr = pred->next[l].load(std::memory_order_acquire);
    while (curr != nullptr) {
      if (curr == known) break;
      const int c = Compare(curr->key(), key);
      if (c >= 0) {
        if (c == 0 && found < 0) found = l;
        known = curr;
        break;
      }
      pred = curr;
      curr = pred->next[l].load(std::memory_order_acquire);
    }
    preds[l] = pred;
    succs[l] = curr;
  }
  return found;
}

Node* CSMap::FindNode(Slice key) const noexcept {
  Node* pred = head();
  const Node* known = nullptr;
  for (int l = kMaxHeight - 1; l >= 0; l--) {
    Node* curr = pred->next[l].load(std::memory_order_acquire);
    while (curr != nullptr && curr != known) {
      const int c = Compare(curr->key(), key);
      if (c == 0) return curr;
      if (c > 0) {
        known = curr;
        break;
      }
      pred = curr;
      curr = pred->next[l].load(std::memory_order_acquire);
    }
  }
  return nullptr;
}

Node* CSMap::FindGreater(Slice target, bool inclusive) const noexcept {
  Node* pred = head();
  Node* curr = nullptr;
  for (int l = kMaxHeight - 1; l >= 0; l--) {
    curr = pred->next[l].load(std::memory_order_acquire);
    while (curr != nullptr) {
      const int c = Compare(curr->key(), target);
      if (c > 0 || (c == 0 && inclusive)) break;
      pred = curr;
      curr = pred->next[l].load(std::memory_order_acquire);
    }
  }
  return curr;
}

Node* CSMap::FindLess(Slice target, bool inclusive) const noexcept {
  Node* pred = head();
  for (int l = kMaxHeight - 1; l >= 0; l--) {
    for (Node* curr = pred->next[l].load(std::memory_order_acquire); curr != nullptr;
         curr = pred->next[l].load(std::memory_order_acquire)) {
      const int c = Compare(curr->key(), target);
      if (c > 0 || (c == 0 && !inclusive)) break;
      pred = curr;
    }
  }
  return pred;
}

Node* CSMap::FindLast() const noexcept {
  Node* pred = head();
  for (int l = kMaxHeight - 1; l >= 0; l--)
    for (Node* curr = pred->next[l].load(std::memory_order_acquire); curr != nullptr;
         curr = pred->next[l].load(std::memory_order_acquire))
      pred = curr;
  return pred;
}

// Predecessors repeat across adjacent levels (preds[l + 1] is preds[l] or before it), so
// comparing with the previous level finds every distinct one.
bool CSMap::LockPreds(Node** preds, Node** succs, int height, Node* self) noexcept {
  Node* locked = nullptr;
  int l = 0;
  bool valid = true;
  for (; valid && l < height; l++) {
    Node* pred = preds[l];
    if (pred != locked) {
      pred->link_lock.lock();
      locked = pred;
    }
    Node* succ = succs[l];
    valid = pred->marked.load(std::memory_order_acquire) == 0 &&
            pred->next[l].load(std::memory_order_acquire) == succ &&
            (succ == nullptr || succ == self || succ->marked.load(std::memory_order_acquire) == 0);
  }
  if (!valid) UnlockPreds(preds, l);
  return valid;
}

void CSMap::UnlockPreds(Node** preds, int height) noexcept {
  Node* unlocked = nullptr;
  for (int l = 0; l < height; l++) {
    if (preds[l] != unlocked) {
      preds[l]->link_lock.unlock();
      unlocked = preds[l];
    }
  }
}

// The node is complete (key, record, its own links) before the release stores that make it
// reachable, bottom-up: a reader that reaches it at any level finds it at level 0 too.
void CSMap::Link(Node* n, Node** preds, Node** succs) noexcept {
  for (int l = 0; l < n->height; l++) n->next[l].store(succs[l], std::memory_order_relaxed);
  n->prev.store(preds[0], std::memory_order_relaxed);
  for (int l = 0; l < n->height; l++) preds[l]->next[l].store(n, std::memory_order_release);
  if (succs[0] != nullptr) succs[0]->prev.store(n, std::memory_order_release);
  index_.Insert(n);
  n->fully_linked.store(1, std::memory_order_release);
}

// Top-down, so that a reader never finds the node at a level above one it has already left.
// The node keeps its own links: a reader standing on it still moves forward from it.
void CSMap::Unlink(Node* n, Node** preds) noexcept {
  for (int l = n->height - 1; l >= 0; l--) preds[l]->next[l].store(n->next[l].load(std::memory_order_relaxed), std::memory_order_release);
  Node* succ = n->next[0].load(std::memory_order_relaxed);
  if (succ != nullptr) succ->prev.store(preds[0], std::memory_order_release);
  index_.Erase(n);
}

void CSMap::LockGate() noexcept {
  for (int i = 0; i < kGateStripes; i++) stripes_[i].lock.lock();
}

void CSMap::UnlockGate() noexcept {
  for (int i = kGateStripes; i-- > 0;) stripes_[i].lock.unlock();
}

uint64_t CSMap::TotalCount() const noexcept {
  int64_t total = 0;
  for (int i = 0; i < kGateStripes; i++) total += stripes_[i].count.load(std::memory_order_relaxed);
  return total > 0 ? static_cast<uint64_t>(total) : 0;
}

// Growth: doubling the buckets whenever the keys reach twice their number keeps chains short;
// each rebuild reads every node once (HashIndex::Grow) with every writer held at the gate (readers go on).
void CSMap::MaybeGrow() noexcept {
  if (!index_.Crowded(TotalCount()) || !grow_lock_.try_lock()) return;
  LockGate();
  const uint64_t count = TotalCount();
  if (index_.Crowded(count)) index_.Grow(head()->next[0].load(std::memory_order_acquire), count);  // no DRAM: keep the old table
  UnlockGate();
  grow_lock_.unlock();
}

PMEMoid CSMap::NewRecord(ActionList& acts, Slice key, Slice value) noexcept {
  const uint64_t size = Record::AllocSize(key.size(), value.size());
  if (size > PMEMOBJ_MAX_ALLOC_SIZE) return OID_NULL;
  const PMEMoid oid = acts.Reserve(size, kRecordTypeNum, pool_->AllocFlags(size));
  if (OID_IS_NULL(oid)) return oid;
  Record* r = reinterpret_cast<Record*>(const_cast<char*>(base_) + oid.off);
  r->key_size = static_cast<uint32_t>(key.size());
  r->value_size = static_cast<uint32_t>(value.size());
  if (!key.empty()) std::memcpy(r->mutable_data(), key.data(), key.size());
  if (!value.empty()) std::memcpy(r->mutable_data() + key.size(), value.data(), value.size());
  // Durable before it is published: the publish only makes the allocation permanent (I2).
  pmemobj_persist(pop_, r, size);
  CrashPoint("record persisted");
  return oid;
}

// Put: the record is written before any lock is taken. An existing key is overwritten under
// its value_lock (layout.h "overwrite"); a new key is published while its predecessors are
// locked and validated, so no other thread can publish the same key meanwhile (I3), and linked
// after the publish (layout.h "insert"). A key whose node is being removed or inserted by
// another thread is retried once that finishes.
Status CSMap::Put(Slice key, Slice value) {
  if (key.size() > kMaxKeySize) return TooLong("key", key.size());
  if (value.size() > kMaxValueSize) return TooLong("value", value.size());
  const uint64_t hash = HashIndex::Hash(key);
  bool grow = false;
  Status s = PutLocked(key, value, hash, &grow);
  if (grow) MaybeGrow();
  return s;
}

Status CSMap::PutLocked(Slice key, Slice value, uint64_t hash, bool* grow) {
  SharedGate gate(*this);
  ActionList acts(pop_);
  const PMEMoid fresh = NewRecord(acts, key, value);
  if (OID_IS_NULL(fresh)) return PoolFull(Record::AllocSize(key.size(), value.size()));
  Node* node = nullptr;  // the new node, made once the key is known to be missing
  Node* preds[kMaxHeight];
  Node* succs[kMaxHeight];
  Epochs::Guard guard;
  for (unsigned spins = 0;; Backoff(&spins)) {
    Node* n = Lookup(key, hash);
    if (n == nullptr) {
      const int found = Find(key, preds, succs);  // also the insertion point, when missing
      if (found >= 0) n = succs[found];
    }
    if (n != nullptr) {
      if (!n->live()) continue;  // an insert still linking it, or a remove about to unlink it
      n->value_lock.lock();
      if (n->marked.load(std::memory_order_relaxed) != 0) {
        n->value_lock.unlock();
        continue;
      }
      const uint64_t old = n->record.load(std::memory_order_relaxed);
      Status s = acts.Free(Oid(old)) ? acts.Publish() : NoDram("this put");
      if (s.ok()) n->record.store(fresh.off, std::memory_order_release);
      n->value_lock.unlock();
      std::free(node);
      return s;
    }
    if (node == nullptr) {
      node = Node::New(key, hash, RandomHeight());
      if (node == nullptr) return NoDram("a csmap index node");
    }
    const int h = node->height;
    if (!LockPreds(preds, succs, h, nullptr)) continue;
    Status s = acts.Publish();
    if (!s.ok()) {
      UnlockPreds(preds, h);
      std::free(node);
      return s;
    }
    CrashPoint("insert published");
    node->record.store(fresh.off, std::memory_order_relaxed);
    Link(node, preds, succs);
    UnlockPreds(preds, h);
    AddCount(gate.stripe(), +1);
    *grow = (gate.stripe().count.load(std::memory_order_relaxed) & 255) == 0;
    return Status::OK();
  }
}

Status CSMap::Get(Slice key, pmemkv::ValueReceiver& out) {
  const uint64_t hash = HashIndex::Hash(key);
  Epochs::Guard guard;
  Node* n = Lookup(key, hash);
  if (n == nullptr || !n->live()) return Status::NotFound();
  SharedLockGuard value(n->value_lock);
  // Under value_lock shared the record cannot be freed; a marked node's record is gone.
  if (n->marked.load(std::memory_order_acquire) != 0) return Status::NotFound();
  const Record* r = RecordAt(n->record.load(std::memory_order_acquire));
  out.Receive(Slice(r->value(), r->value_size));
  return Status::OK();
}

Status CSMap::Exists(Slice key) {
  const uint64_t hash = HashIndex::Hash(key);
  Epochs::Guard guard;
  Node* n = Lookup(key, hash);
  return n != nullptr && n->live() ? Status::OK() : Status::NotFound();
}

// Remove: the victim is locked and its record freed by one publish under its value_lock
// (layout.h "remove"); the node is then marked (the removal's linearization point, after it is
// durable), unlinked under its predecessors' locks, and retired to the epoch domain once no
// guard of this thread holds it.
Status CSMap::Remove(Slice key) {
  SharedGate gate(*this);
  Node* victim = nullptr;
  {
    Epochs::Guard guard;
    Node* preds[kMaxHeight];
    Node* succs[kMaxHeight];
    const int found = Find(key, preds, succs);
    if (found < 0) return Status::NotFound();
    victim = succs[found];
    // Not fully linked: its insert has not finished (it is not there yet). Marked: removed.
    if (!victim->live() || found != victim->height - 1) return Status::NotFound();
    victim->link_lock.lock();
    if (victim->marked.load(std::memory_order_relaxed) != 0) {
      victim->link_lock.unlock();
      return Status::NotFound();
    }
    {
      victim->value_lock.lock();
      ActionList acts(pop_);
      Status s = acts.Free(Oid(victim->record.load(std::memory_order_relaxed))) ? acts.Publish() : NoDram("this remove");
      if (!s.ok()) {
        victim->value_lock.unlock();
        victim->link_lock.unlock();
        return s;
      }
      CrashPoint("remove published");
      victim->marked.store(1, std::memory_order_release);
      victim->value_lock.unlock();
    }
    const int h = victim->height;
    for (unsigned spins = 0;; Backoff(&spins)) {
      for (int l = 0; l < h; l++) succs[l] = victim;
      if (LockPreds(preds, succs, h, victim)) break;
      Find(key, preds, succs);
    }
    Unlink(victim, preds);
    UnlockPreds(preds, h);
    victim->link_lock.unlock();
  }
  AddCount(gate.stripe(), -1);
  Epochs::Retire(victim);
  return Status::OK();
}

Status CSMap::Count(const KeyRange& range, uint64_t* count) {
  *count = 0;
  if (range.IsFull()) {
    *count = TotalCount();
    return Status::OK();
  }
  if (range.IsEmpty()) return Status::OK();
  Epochs::Guard guard;
  Node* n = range.lower.present ? FindGreater(range.lower.key, range.lower.inclusive)
                                : head()->next[0].load(std::memory_order_acquire);
  uint64_t found = 0;
  for (; n != nullptr && range.BelowUpper(n->key()); n = n->next[0].load(std::memory_order_acquire))
    if (n->live()) found++;
  *count = found;
  return Status::OK();
}

// The cursor: a live node and a copy of its value, taken under the node's value_lock when the
// cursor moved there. Moves only ever go to a greater key (Next, following links that all
// point to greater keys, or searching past a removed node's key) or to a smaller one (Prev, by
// the prev hint when it still links to this node, else a search), so keys come strictly in
// order and never twice. Its guard keeps every node it may stand on allocated.
class CSMapCursor final : public pmemkv::Cursor {
 public:
  explicit CSMapCursor(const CSMap& map) : map_(map) {}

  void SeekToFirst() override { Forward(map_.head()->next[0].load(std::memory_order_acquire)); }
  void SeekToLast() override { Backward(map_.FindLast()); }
  void Seek(Slice target) override { Forward(map_.FindGreater(target, true)); }
  void SeekForPrev(Slice target) override { Backward(map_.FindLess(target, true)); }
  void Next() override {
    Node* cur = node_;
    // A removed node's links may skip keys inserted after its removal: search past it instead.
    Forward(cur->marked.load(std::memory_order_acquire) != 0 ? map_.FindGreater(cur->key(), false)
                                                            : cur->next[0].load(std::memory_order_acquire));
  }
  void Prev() override { Backward(Before(node_)); }
  bool Valid() const override { return node_ != nullptr; }
  Slice key() const override { return node_->key(); }
  Slice value() const override { return value_; }

 private:
  Node* Before(Node* n) const noexcept {
    Node* p = n->prev.load(std::memory_order_acquire);
    if (p != nullptr && p->marked.load(std::memory_order_acquire) == 0 && p->next[0].load(std::memory_order_acquire) == n)
      return p;
    return map_.FindLess(n->key(), false);
  }
  // Copies n's value when n is live.
  bool Capture(Node* n) {
    SharedLockGuard value(n->value_lock);
    if (!n->live()) return false;
    const Record* r = map_.RecordAt(n->record.load(std::memory_order_acquire));
    value_.assign(r->value(), r->value_size);
    return true;
  }
  void Forward(Node* n) {
    while (n != nullptr && !Capture(n)) n = n->next[0].load(std::memory_order_acquire);
    node_ = n;
  }
  void Backward(Node* n) {
    while (n != map_.head() && !Capture(n)) n = Before(n);
    node_ = n == map_.head() ? nullptr : n;
  }

  Epochs::Guard guard_;
  const CSMap& map_;
  Node* node_ = nullptr;
  std::string value_;
};

Status CSMap::NewCursor(std::unique_ptr<pmemkv::Cursor>* out) {
  out->reset(new CSMapCursor(*this));
  return Status::OK();
}

// Batch: the gate held exclusively, so no single-key writer runs and every node found is live
// and stays so. Every new record is reserved, filled and persisted, every new node allocated
// and every changed key's value_lock taken before the one publish (layout.h "batch"); nothing
// after the publish can fail. A failure before it releases everything: nothing changed.
Status CSMap::Batch(const std::vector<pmemkv::BatchOp>& ops) {
  for (size_t i = 0; i < ops.size(); i++) {
    if (ops[i].key.size() > kMaxKeySize) return pmemkv::BatchOpError(i, TooLong("key", ops[i].key.size()));
    if (ops[i].is_put && ops[i].value.size() > kMaxValueSize)
      return pmemkv::BatchOpError(i, TooLong("value", ops[i].value.size()));
  }
  if (ops.empty()) return Status::OK();
  std::vector<Node*> retired;
  LockGate();
  Status s = BatchLocked(ops, &retired);
  UnlockGate();
  for (Node* n : retired) Epochs::Retire(n);
  if (s.ok()) MaybeGrow();
  return s;
}

Status CSMap::BatchLocked(const std::vector<pmemkv::BatchOp>& ops, std::vector<Node*>* retired) {
  struct Step {
    const pmemkv::PlannedOp* plan;
    Node* node;       // the key's node before the batch, or null
    uint64_t fresh;   // the new record of a put, else 0
    Node* created;    // the new node of a put of a missing key, else null
  };
  std::vector<pmemkv::PlannedOp> plan;
  std::vector<Step> steps;
  ActionList acts(pop_);
  Epochs::Guard guard;
  auto discard = [&steps] {
    for (const Step& st : steps) std::free(st.created);
  };
  try {
    plan = pmemkv::PlanBatch(ops, [](Slice) { return uint64_t{0}; });
    steps.reserve(plan.size());
    retired->reserve(plan.size());
    for (const pmemkv::PlannedOp& p : plan) {
      const pmemkv::BatchOp& op = *p.op;
      const uint64_t hash = HashIndex::Hash(op.key);
      Node* n = Lookup(op.key, hash);
      if (!op.is_put) {
        if (n == nullptr) continue;  // a remove of a missing key changes nothing
        if (!acts.Free(Oid(n->record.load(std::memory_order_relaxed)))) throw std::bad_alloc();
        steps.push_back({&p, n, 0, nullptr});
        continue;
      }
      const PMEMoid fresh = NewRecord(acts, op.key, op.value);
      if (OID_IS_NULL(fresh)) {
        discard();
        return pmemkv::BatchOpError(p.index, PoolFull(Record::AllocSize(op.key.size(), op.value.size())));
      }
      Node* created = nullptr;
      if (n != nullptr) {
        if (!acts.Free(Oid(n->record.load(std::memory_order_relaxed)))) throw std::bad_alloc();
      } else {
        created = Node::New(op.key, hash, RandomHeight());
        if (created == nullptr) throw std::bad_alloc();
      }
      steps.push_back({&p, n, fresh.off, created});
    }
  } catch (const std::bad_alloc&) {
    discard();
    return NoDram("this batch");
  }

  for (const Step& st : steps)
    if (st.node != nullptr) st.node->value_lock.lock();
  Status s = acts.Publish();
  if (s.ok()) CrashPoint("batch published");
  for (const Step& st : steps) {
    if (st.node == nullptr) continue;
    if (s.ok()) {
      if (st.fresh != 0)
        st.node->record.store(st.fresh, std::memory_order_release);
      else
        st.node->marked.store(1, std::memory_order_release);
    }
    st.node->value_lock.unlock();
  }
  if (!s.ok()) {
    discard();
    return Status(s.code(), "batch of " + std::to_string(ops.size()) + " operations: " + s.message());
  }

  // The structure: no other writer runs, so links change without node locks; readers see each
  // node linked or unlinked as in a single-key put or remove.
  Node* preds[kMaxHeight];
  Node* succs[kMaxHeight];
  int64_t delta = 0;
  for (const Step& st : steps) {
    if (st.created != nullptr) {
      Find(st.plan->op->key, preds, succs);
      st.created->record.store(st.fresh, std::memory_order_relaxed);
      Link(st.created, preds, succs);
      delta++;
    } else if (st.fresh == 0) {
      Find(st.plan->op->key, preds, succs);
      Unlink(st.node, preds);
      retired->push_back(st.node);  // capacity reserved above
      delta--;
    }
  }
  AddCount(stripes_[0], delta);
  return Status::OK();
}

std::string CSMap::StoredComparator() const {
  return std::string(root_->comparator.bytes, strnlen(root_->comparator.bytes, sizeof root_->comparator.bytes));
}

std::string CSMap::Verify() const {
  uint64_t live = 0;
  const Node* before = head();
  for (const Node* n = head()->next[0].load(); n != nullptr; before = n, n = n->next[0].load()) {
    if (!n->live()) return "a node that is not live is linked";
    if (n->prev.load() != before) return "a prev hint is not the previous node";
    if (before != head() && Compare(before->key(), n->key()) >= 0) return "level 0 is out of order or repeats a key";
    if (n->height < 1 || n->height > kMaxHeight) return "a tower height is out of range";
    const uint64_t off = n->record.load();
    if (off == 0 || off > pool_bytes_ - sizeof(Record)) return "a record offset lies outside the pool";
    const Record* r = RecordAt(off);
    if (Slice(r->key(), r->key_size) != n->key()) return "a node's key differs from its record's";
    live++;
  }
  for (int l = 1; l < kMaxHeight; l++) {
    // Level l must hold exactly the nodes of height > l, in level-0 order.
    const Node* at = head()->next[l].load();
    for (const Node* n = head()->next[0].load(); n != nullptr; n = n->next[0].load()) {
      if (n->height > l) {
        if (at != n) return "level " + std::to_string(l) + " skips a node of its height";
        at = at->next[l].load();
      }
    }
    if (at != nullptr) return "level " + std::to_string(l) + " holds a node not on level 0";
  }
  for (const Node* n = head()->next[0].load(); n != nullptr; n = n->next[0].load()) {
    bool sure = false;
    if (n->hash != HashIndex::Hash(n->key())) return "a node's hash differs from its key's";
    if (index_.Find(n->key(), n->hash, &sure) != n) return "a live node is missing from the hash index";
  }
  int64_t counted = 0;
  for (int i = 0; i < kGateStripes; i++) counted += stripes_[i].count.load();
  if (counted < 0 || static_cast<uint64_t>(counted) != live) return "the entry count differs from the list";
  uint64_t records = 0;
  for (PMEMoid oid = pmemobj_first(pop_); !OID_IS_NULL(oid); oid = pmemobj_next(oid))
    if (pmemobj_type_num(oid) == kRecordTypeNum) records++;
  if (records != live) return "the pool holds " + std::to_string(records) + " records for " + std::to_string(live) + " keys";
  return "";
}

}  // namespace csmap
