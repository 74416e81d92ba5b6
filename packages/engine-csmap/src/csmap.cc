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
#include <random>
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
      bytewise_(cmp.compare == pmemkv::kBytewise.compare),
      is_pmem_(pmemkv::RangePersister::MappingIsPmem(pop_, pool_->size())),
      journal_(pop_, is_pmem_, pmemkv::Journal::kWhenFull),
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
  NewArena();
}

CSMap::~CSMap() { FreeAllNodes(); }

void CSMap::NewArena() {
  const uint64_t slab = pmemkv::SlabArena::SlabBytesFor(pool_->size() != 0 ? pool_->size() : pool_bytes_);
  arena_.reset(new pmemkv::SlabArena(pop_, kSlabTypeNum, slab, pool_->AllocFlags(slab)));
  // A slab's words may be targets of a commit still in the log (kWhenFull): durable first.
  arena_->SetBeforeFree([](void* self) { static_cast<CSMap*>(self)->journal_.Checkpoint(); }, this);
}

void CSMap::FreeAllNodes() noexcept {
  seek_.Clear();
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

// A salt for RecordChecksum: random, never 0.
uint64_t NewSalt() {
  std::random_device rd;
  uint64_t s = (uint64_t{rd()} << 32) ^ rd() ^
               static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return s != 0 ? s : 0x5BD1E9955BD1E995ull;
}

// Journal slots: room for a batch of a few thousand operations in a pool of 64 MiB or more.
uint64_t JournalRecordsFor(uint64_t pool_bytes) {
  if (pool_bytes >= (uint64_t{64} << 20)) return ((uint64_t{256} << 10) - 16 - pmemkv::Journal::kHeaderBytes) / sizeof(pmemkv::Journal::Record);
  if (pool_bytes >= (uint64_t{8} << 20)) return ((uint64_t{64} << 10) - 16 - pmemkv::Journal::kHeaderBytes) / sizeof(pmemkv::Journal::Record);
  return 1024;
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
  // A new pool stores the configured comparator (bytewise by default) and its salt in the
  // initializing transaction (layout.h "init").
  s = pmemkv::OpenRoot<Root>(*pool, "csmap", kRootMagic, kLayoutVersion, [&](Root* r) {
    pmemkv::StoreComparatorName(&r->comparator, configured != nullptr ? *configured : pmemkv::kBytewise);
    r->salt = NewSalt();
    return Status::OK();
  }, &root, kOldestReadableVersion);
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
  s = map->OpenJournal();
  if (!s.ok()) return s;
  if (root->version < kLayoutVersion) {
    s = map->Upgrade();
    if (!s.ok()) return s;
  }
  s = map->Recover();
  if (!s.ok()) return s;
  *engine = std::move(map);
  return Status::OK();
}

// Allocates the journal when the pool has none (a transaction that also sets Root::journal)
// and redoes a commit a crash left in it, before any record is read.
Status CSMap::OpenJournal() {
  const pmemkv::PoolSpan span = pmemkv::SpanOf(*pool_);
  const uint64_t records = JournalRecordsFor(pool_->size() != 0 ? pool_->size() : pool_bytes_);
  return journal_.Open(&root_->journal, kJournalTypeNum, records,
                       pool_->AllocFlags(pmemkv::Journal::kHeaderBytes + records * sizeof(pmemkv::Journal::Record)), span,
                       pool_->path(), "csmap");
}

void CSMap::SortFound(std::vector<Found>& found) const {
  // Under the built-in comparators the order of two keys is the order of their 16-byte
  // prefixes whenever those differ (zero padding sorts a key before its extensions, and a
  // tie falls through to the comparator), so most comparisons stay in this array instead of
  // missing the cache on two records in the pool. Equal keys: the higher seq first.
  const bool bytewise = compare_ == pmemkv::kBytewise.compare;
  const bool reverse = compare_ == pmemkv::kReverseBytewise.compare;
  std::sort(found.begin(), found.end(), [&](const Found& a, const Found& b) {
    if (bytewise || reverse) {
      for (int i = 0; i < 2; i++)
        if (a.prefix[i] != b.prefix[i]) return (a.prefix[i] < b.prefix[i]) != reverse;
    }
    const int c = Compare(a.key, b.key);
    return c != 0 ? c < 0 : a.seq > b.seq;
  });
}

bool CSMap::FreeObjects(const std::vector<uint64_t>& offs) noexcept {
  for (size_t i = 0; i < offs.size();) {
    ActionList acts(pop_);
    for (size_t k = 0; k < 64 && i < offs.size(); k++, i++)
      if (!acts.Free(Oid(offs[i]))) return false;
    if (!acts.Publish().ok()) return false;
  }
  return true;
}

// Upgrade of a version 1 pool (layout.h "upgrade"): every step before `version = 2` is undone
// by rerunning it, so a crash anywhere leaves a pool that opens (and upgrades) again.
Status CSMap::Upgrade() {
  const uint64_t salt = NewSalt();
  Status s = pmemkv::RunTx(pop_, [&]() -> Status {
    Status st = pmemkv::TxAddRange(&root_->salt, sizeof root_->salt);
    if (st.ok()) root_->salt = salt;
    return st;
  });
  if (!s.ok()) return s;
  salt_ = salt;
  std::vector<Found> found;
  std::vector<uint64_t> stale;  // slabs and large records of an earlier attempt
  try {
    const pmemkv::PoolSpan span = pmemkv::SpanOf(*pool_);
    const uint64_t limit = pool_bytes_;
    const uint64_t max_objects = limit == UINT64_MAX ? UINT64_MAX : limit / 16 + 1;
    uint64_t steps = 0;
    for (PMEMoid oid = pmemobj_first(pop_); !OID_IS_NULL(oid); oid = pmemobj_next(oid)) {
      if (++steps > max_objects) return pmemkv::DamagedPool(pool_->path(), "csmap: the heap's object list loops");
      const uint64_t type = pmemobj_type_num(oid);
      if (type == kSlabTypeNum || type == kLargeTypeNum) {
        stale.push_back(oid.off);
        continue;
      }
      if (type != kV1RecordTypeNum) continue;
      const uint64_t usable = pmemobj_alloc_usable_size(oid);
      if (oid.off == 0 || !span.Contains(oid.off, usable) || usable < sizeof(V1Record))
        return pmemkv::DamagedPool(pool_->path(), "csmap: a record lies outside the pool");
      const V1Record* r = reinterpret_cast<const V1Record*>(base_ + oid.off);
      if (sizeof(V1Record) + uint64_t{r->key_size} + r->value_size > usable)
        return pmemkv::DamagedPool(pool_->path(), "csmap: a record is larger than its allocation");
      const Slice key(r->key(), r->key_size);
      Found f{{0, 0}, 0, key, oid.off, 0, false};
      SortKey(key, f.prefix);
      found.push_back(f);
    }
    SortFound(found);
    for (size_t i = 1; i < found.size(); i++)
      if (Compare(found[i - 1].key, found[i].key) == 0)
        return pmemkv::DamagedPool(pool_->path(), "csmap: two records hold the same key");
  } catch (const std::bad_alloc&) {
    return NoDram("upgrading csmap");
  }
  if (!FreeObjects(stale)) return Status::Unknown(std::string("csmap: cannot free what an earlier upgrade left: ") + pmemobj_errormsg());
  NewArena();
  if (!arena_->Load(pmemkv::SpanOf(*pool_)) || !arena_->Finish()) return NoDram("upgrading csmap");
  next_seq_.store(1, std::memory_order_relaxed);
  for (const Found& f : found) {
    const V1Record* r = reinterpret_cast<const V1Record*>(base_ + f.off);
    bool no_dram = false;
    if (NewRecord(f.key, Slice(r->value(), r->value_size), Write::kLive, nullptr, pmemkv::SlabArena::kForWrite, &no_dram) == 0)
      return no_dram ? NoDram("upgrading csmap")
                     : Status::OutOfMemory("the csmap pool at " + pool_->path() +
                                           " has no room to upgrade it to layout version 2 (the upgrade copies every record once): "
                                           "open it with the release that created it and remove entries, or copy its entries into a larger pool");
    CrashPoint("upgrade: record copied");
  }
  s = pmemkv::RunTx(pop_, [&]() -> Status {
    Status st = pmemkv::TxAddRange(&root_->version, sizeof root_->version);
    if (st.ok()) root_->version = kLayoutVersion;
    return st;
  });
  if (!s.ok()) return s;
  CrashPoint("upgrade: version 2");
  return Status::OK();
}

// One slab, as layout.h "Walking a slab" says, then the check of W2 over the rest of it.
Status CSMap::WalkSlab(uint64_t slab, uint64_t size, Scan* out) const {
  uint64_t pos = 0;
  while (size - pos >= sizeof(Record)) {
    const Record* r = RecordAt(slab + pos);
    if (!ValidRecord(r, size - pos, salt_)) break;
    out->max_seq = std::max(out->max_seq, r->seq_number());
    if (!r->dead()) {
      const Slice key(r->key(), r->key_size);
      Found f{{0, 0}, HashIndex::Hash(std::string_view(key.data(), key.size())), key, slab + pos, r->seq_number(), false};
      SortKey(key, f.prefix);
      out->live.push_back(f);
    }
    pos += r->bytes();
  }
  for (uint64_t q = pos; size - q >= sizeof(Record); q += 8) {
    const Record* r = RecordAt(slab + q);
    const uint64_t word = r->seq;
    if (word == 0 || (word & kDeadBit) != 0 || !ValidRecord(r, size - q, salt_)) continue;
    return pmemkv::DamagedPool(pool_->path(), "csmap: the slab at offset " + std::to_string(slab) + " holds a record at +" +
                                                  std::to_string(q) + " after bytes at +" + std::to_string(pos) +
                                                  " that are not a whole record");
  }
  return Status::OK();
}

Status CSMap::ScanRecords(Scan* out) const {
  const pmemkv::PoolSpan span = pmemkv::SpanOf(*pool_);
  const uint64_t limit = pool_bytes_;
  const uint64_t max_objects = limit == UINT64_MAX ? UINT64_MAX : limit / 16 + 1;
  uint64_t steps = 0;
  for (PMEMoid oid = pmemobj_first(pop_); !OID_IS_NULL(oid); oid = pmemobj_next(oid)) {
    if (++steps > max_objects) return pmemkv::DamagedPool(pool_->path(), "csmap: the heap's object list loops");
    const uint64_t type = pmemobj_type_num(oid);
    if (type != kSlabTypeNum && type != kLargeTypeNum && type != kV1RecordTypeNum) continue;
    const uint64_t usable = pmemobj_alloc_usable_size(oid);
    if (oid.off == 0 || oid.off % 8 != 0 || !span.Contains(oid.off, usable))
      return pmemkv::DamagedPool(pool_->path(), "csmap: an object at offset " + std::to_string(oid.off) + " lies outside the pool");
    if (type == kV1RecordTypeNum) {
      out->v1.push_back(oid.off);
    } else if (type == kSlabTypeNum) {
      Status s = WalkSlab(oid.off, usable, out);
      if (!s.ok()) return s;
    } else {
      const Record* r = RecordAt(oid.off);
      // A large record is published only once whole (NewRecord): anything else is damage.
      if (!ValidRecord(r, usable, salt_))
        return pmemkv::DamagedPool(pool_->path(), "csmap: the large record at offset " + std::to_string(oid.off) +
                                                      " has a wrong size or checksum");
      out->max_seq = std::max(out->max_seq, r->seq_number());
      if (r->dead()) {
        out->dead_large.push_back(oid.off);
      } else {
        const Slice key(r->key(), r->key_size);
        Found f{{0, 0}, HashIndex::Hash(std::string_view(key.data(), key.size())), key, oid.off, r->seq_number(), true};
        SortKey(key, f.prefix);
        out->live.push_back(f);
      }
    }
  }
  return Status::OK();
}

// Recovery: every record is found (ScanRecords), sorted with the stored comparator; per key
// the live record of highest seq wins and the others are made dead (slab) or freed (large),
// along with dead large records and version 1 leftovers (layout.h). The winners are claimed
// in the arena, which then frees empty slabs, and threaded into a new skip list.
Status CSMap::Recover() {
  salt_ = root_->salt;
  if (salt_ == 0) return pmemkv::DamagedPool(pool_->path(), "csmap: a version 2 root without its record salt");
  Scan scan;
  std::vector<Found>& found = scan.live;
  std::vector<uint64_t> to_free;
  try {
    NewArena();
    if (!arena_->Load(pmemkv::SpanOf(*pool_))) throw std::bad_alloc();
    Status s = ScanRecords(&scan);
    if (!s.ok()) return s;
    SortFound(found);
    to_free = scan.dead_large;
    to_free.insert(to_free.end(), scan.v1.begin(), scan.v1.end());
    size_t kept = 0;
    for (size_t i = 0; i < found.size(); i++) {
      if (kept > 0 && Compare(found[kept - 1].key, found[i].key) == 0) {
        // A lower seq (or an equal copy) of a key: an operation that had not returned (W3).
        Record* r = MutableRecordAt(found[i].off);
        __atomic_store_n(&r->seq, r->seq | kDeadBit, __ATOMIC_RELEASE);
        pmemobj_persist(pop_, &r->seq, sizeof r->seq);
        if (found[i].large) to_free.push_back(found[i].off);
        continue;
      }
      found[kept++] = found[i];
    }
    found.resize(kept);
  } catch (const std::bad_alloc&) {
    return NoDram("csmap's index on open");
  }
  if (!FreeObjects(to_free)) return Status::Unknown(std::string("csmap: cannot free a dead record: ") + pmemobj_errormsg());
  for (const Found& f : found)
    if (!f.large && arena_->Claim(f.off, RecordAt(f.off)->bytes()) != pmemkv::SlabArena::Claimed::kInSlab)
      return pmemkv::DamagedPool(pool_->path(), "csmap: a record runs past the end of its slab");
  if (!arena_->Finish()) return Status::Unknown(std::string("csmap: cannot free an empty slab: ") + pmemobj_errormsg());
  next_seq_.store(scan.max_seq + 1, std::memory_order_relaxed);
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
  if (bytewise_) seek_.Rebuild(head(), found.size());  // a hint: without DRAM for it, searches start at the head
  stripes_[0].count.store(static_cast<int64_t>(found.size()), std::memory_order_release);
  return Status::OK();
}
// Searches: readers follow links with acquire loads (a node is complete before the release
// store that links it). A node already compared at the level above is not compared again.
int CSMap::Find(Slice key, Node** preds, Node** succs, int height) const noexcept {
  int found = -1;
  int top = 0;
  Node* pred = SearchStart(key, height, &top);
  const Node* known = nullptr;  // a node found >= key at a higher level
  for (int l = top; l >= 0; l--) {
    Node* curr = pred->next[l].load(std::memory_order_acquire);
    while (curr != nullptr) {
      if (curr == known) break;
      // Where a drop from pred would go next: fetched while curr is compared, so that the
      // two cache misses overlap instead of following one another. So is curr's second cache
      // line, where the key of a short tower lies (node.h: it follows the links).
      if (l > 0) __builtin_prefetch(pred->next[l - 1].load(std::memory_order_relaxed));
      __builtin_prefetch(reinterpret_cast<const char*>(curr) + 64);
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
  int top = 0;
  Node* pred = SearchStart(key, 1, &top);
  const Node* known = nullptr;
  for (int l = top; l >= 0; l--) {
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
  int top = 0;
  Node* pred = SearchStart(target, 1, &top);
  Node* curr = nullptr;
  for (int l = top; l >= 0; l--) {
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
  int top = 0;
  Node* pred = SearchStart(target, 1, &top);
  for (int l = top; l >= 0; l--) {
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

uint64_t CSMap::NewRecord(Slice key, Slice value, Write how, pmemkv::WordStores* stores,
                          pmemkv::SlabArena::Purpose purpose, bool* no_dram) noexcept {
  const uint64_t bytes = Record::Bytes(key.size(), value.size());
  const bool batch = how == Write::kForBatch;
  uint64_t seq = 0;
  const auto fill = [&](uint64_t off, bool dead) {
    Record* r = MutableRecordAt(off);
    seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
    r->key_size = static_cast<uint32_t>(key.size());
    r->value_size = static_cast<uint32_t>(value.size());
    if (!key.empty()) std::memcpy(r->mutable_data(), key.data(), key.size());
    if (!value.empty()) std::memcpy(r->mutable_data() + key.size(), value.data(), value.size());
    r->checksum = RecordChecksum(salt_, seq, r->key_size, r->value_size, r->key());
    r->seq = seq | (dead ? kDeadBit : 0);
  };
  if (bytes <= arena_->max_record()) {
    // W1: filled (and, for a single write, persisted) while the lane is held.
    const uint64_t off = arena_->AllocateFilled(bytes, [&](uint64_t o) {
      fill(o, batch);
      if (!batch) pmemobj_persist(pop_, base_ + o, bytes);
    }, purpose);
    if (off == 0) return 0;
    if (batch) {
      Record* r = MutableRecordAt(off);
      if (!stores->AddPayload(r, bytes) || !stores->Set(&r->seq, seq)) {
        arena_->Release(off, bytes);  // dead: garbage
        if (no_dram != nullptr) *no_dram = true;
        return 0;
      }
      return off;
    }
    CrashPoint("record persisted");
    return off;
  }
  // A large record is written dead, so that bytes of a reservation that never got published
  // (a crash, a cancel) can never pass for a live record (W2).
  if (bytes > PMEMOBJ_MAX_ALLOC_SIZE) return 0;
  ActionList acts(pop_);
  const PMEMoid oid = acts.Reserve(bytes, kLargeTypeNum, pool_->AllocFlags(bytes));
  if (OID_IS_NULL(oid)) return 0;
  fill(oid.off, true);
  Record* r = MutableRecordAt(oid.off);
  pmemobj_persist(pop_, r, bytes);
  if (!acts.Publish().ok()) return 0;
  if (batch) {
    if (!stores->Set(&r->seq, seq)) {
      ReleaseDead(oid.off);
      if (no_dram != nullptr) *no_dram = true;
      return 0;
    }
    return oid.off;
  }
  __atomic_store_n(&r->seq, seq, __ATOMIC_RELEASE);
  pmemobj_persist(pop_, &r->seq, sizeof r->seq);
  CrashPoint("record persisted");
  return oid.off;
}

void CSMap::Retire(uint64_t off) noexcept {
  Record* r = MutableRecordAt(off);
  __atomic_store_n(&r->seq, r->seq | kDeadBit, __ATOMIC_RELEASE);
  pmemobj_persist(pop_, &r->seq, sizeof r->seq);
  CrashPoint("old record dead");
  ReleaseDead(off);
}

void CSMap::ReleaseDead(uint64_t off) noexcept {
  if (IsLarge(off)) {
    journal_.Checkpoint();  // a batch's commit may have set its dead bit
    // A failed free leaves a dead object, which the next open frees.
    ActionList acts(pop_);
    if (acts.Free(Oid(off))) (void)acts.Publish();
  } else {
    arena_->Release(off, RecordAt(off)->bytes());
  }
}

// The cleaner, one slab at a time with every writer held at the gate (layout.h "cleaner"):
// the slab's records are walked from its start; each that a live node names is copied whole
// (seq and checksum too) into the cleaner's lane, marked dead. Three persists, each for all
// copies at once (no other writer runs meanwhile):
//   1. the dead copies: a crash during it may leave any subset of them whole, but none live,
//      so no live record can lie past a torn one (W1, W2);
//   2. the copies' dead bits cleared: now each key has two equal live records;
//   3. each node switched to its copy under its value_lock (readers hold it shared while they
//      read) and the original's dead bit set.
// Then the originals' space is released, which frees the slab. Open resolves the equal pairs
// a crash between 2 and 3 leaves.
uint64_t CSMap::CleanSlab(uint64_t slab) noexcept {
  struct Move {
    Node* node;
    uint64_t from, to, bytes;
  };
  std::vector<Move> moves;
  Epochs::Guard guard;
  pmemkv::RangePersister copies(pop_, is_pmem_);
  const uint64_t size = pmemobj_alloc_usable_size(Oid(slab));
  try {
    for (uint64_t pos = 0; size - pos >= sizeof(Record);) {
      const Record* r = RecordAt(slab + pos);
      if (!ValidRecord(r, size - pos, salt_)) break;
      const uint64_t off = slab + pos, bytes = r->bytes();
      pos += bytes;
      if (r->dead()) continue;
      const std::string_view key(r->key(), r->key_size);
      Node* n = Lookup(Slice(key.data(), key.size()), HashIndex::Hash(key));
      if (n == nullptr || !n->live() || n->record.load(std::memory_order_relaxed) != off) continue;
      if (moves.size() == moves.capacity()) moves.reserve(2 * moves.size() + 64);
      const uint64_t copy = arena_->AllocateFilled(bytes, [&](uint64_t o) {
        std::memcpy(const_cast<char*>(base_) + o, r, bytes);
        Record* c = MutableRecordAt(o);
        c->seq |= kDeadBit;
        copies.Add(c, bytes);
      }, pmemkv::SlabArena::kForCleaner);
      if (copy == 0) break;
      moves.push_back({n, off, copy, bytes});
    }
  } catch (const std::bad_alloc&) {
    // The copies made so far are moved; the rest stay where they are.
  }
  copies.Persist();
  if (moves.empty()) return 0;
  CrashPoint("cleaner copies persisted");
  pmemkv::RangePersister live(pop_, is_pmem_);
  for (const Move& m : moves) {
    Record* c = MutableRecordAt(m.to);
    __atomic_store_n(&c->seq, c->seq & ~kDeadBit, __ATOMIC_RELEASE);
    live.Add(&c->seq, sizeof c->seq);
  }
  live.Persist();
  CrashPoint("cleaner copies live");
  pmemkv::RangePersister marks(pop_, is_pmem_);
  for (const Move& m : moves) {
    m.node->value_lock.lock();
    m.node->record.store(m.to, std::memory_order_release);
    Record* r = MutableRecordAt(m.from);
    __atomic_store_n(&r->seq, r->seq | kDeadBit, __ATOMIC_RELEASE);
    marks.Add(&r->seq, sizeof r->seq);
    m.node->value_lock.unlock();
  }
  marks.Persist();
  CrashPoint("cleaner originals dead");
  for (const Move& m : moves) arena_->Release(m.from, m.bytes);
  return moves.size();
}

// Cleans the sparsest slab with at least min_garbage bytes of garbage, then the next, up to
// max_slabs of them (and never more than there were slabs: the copies fill slabs that may be
// sparse in turn); stops early at a slab it could not empty.
uint64_t CSMap::CleanLocked(uint64_t min_garbage, uint64_t max_slabs) noexcept {
  journal_.Checkpoint();  // before any direct store into the pool (csmap.h: journal_)
  uint64_t moved = 0;
  max_slabs = std::min<uint64_t>(max_slabs, arena_->slab_count());
  for (uint64_t i = 0; i < max_slabs; i++) {
    const uint64_t slab = arena_->SparsestSlab(min_garbage);
    if (slab == 0) break;
    moved += CleanSlab(slab);
    if (arena_->SlabOf(slab) == slab && arena_->Sparse(slab, min_garbage)) break;  // not emptied
  }
  return moved;
}

// Single-key writers call this after each write: every kCleanEvery writes of a thread, while
// the arena says the slabs hold too much garbage, one slab is cleaned.
void CSMap::MaybeClean(uint64_t writes) noexcept {
  static thread_local uint64_t credit = 0;
  credit += writes;
  if (credit < kCleanEvery || !arena_->NeedsCleaning()) return;
  credit = 0;
  if (!clean_lock_.try_lock()) return;
  LockGate();
  if (CleanLocked(arena_->slab_size() / 4, 1) == 0) CleanLocked(arena_->slab_size() / 16, 1);
  UnlockGate();
  clean_lock_.unlock();
}

bool CSMap::CleanForRoom(uint64_t needed) noexcept {
  if (!arena_->AnySparse(needed)) return false;
  clean_lock_.lock();
  LockGate();
  const uint64_t moved = CleanLocked(needed, UINT64_MAX);
  UnlockGate();
  clean_lock_.unlock();
  return moved > 0;
}

void CSMap::CleanAllForTest(uint64_t min_garbage) {
  clean_lock_.lock();
  LockGate();
  CleanLocked(min_garbage, UINT64_MAX);
  UnlockGate();
  clean_lock_.unlock();
}

// Put: the record is written and persisted before any lock is taken (layout.h W3: from then
// on it is a put in progress). An existing key is overwritten under its value_lock (the old
// record retired before the lock is released); a new key is linked while its predecessors
// are locked and validated. A key whose node is being removed or inserted by another thread
// is retried once that finishes.
Status CSMap::Put(Slice key, Slice value) {
  if (key.size() > kMaxKeySize) return TooLong("key", key.size());
  if (value.size() > kMaxValueSize) return TooLong("value", value.size());
  const uint64_t hash = HashIndex::Hash(key);
  bool grow = false;
  Status s = PutLocked(key, value, hash, &grow);
  if (s.code() == pmemkv::Code::kOutOfMemory && CleanForRoom(Record::Bytes(key.size(), value.size())))
    s = PutLocked(key, value, hash, &grow);
  if (grow) {
    MaybeGrow();
    MaybeRebuildSeek();
  }
  if (s.ok()) MaybeClean(1);
  return s;
}

Status CSMap::PutLocked(Slice key, Slice value, uint64_t hash, bool* grow) {
  SharedGate gate(*this);
  journal_.Checkpoint();  // before any direct store into the pool (csmap.h: journal_)
  Epochs::Guard guard;
  index_.Prefetch(hash);  // the bucket's line arrives while the record is written
  bool no_dram = false;
  const uint64_t fresh = NewRecord(key, value, Write::kLive, nullptr, pmemkv::SlabArena::kForWrite, &no_dram);
  if (fresh == 0) return no_dram ? NoDram("this put") : PoolFull(Record::Bytes(key.size(), value.size()));
  Node* node = nullptr;  // the new node, made once the key is known to be missing
  const int height = RandomHeight();  // its height, known first so that Find searches no higher
  Node* preds[kMaxHeight];
  Node* succs[kMaxHeight];
  for (unsigned spins = 0;; Backoff(&spins)) {
    Node* n = Lookup(key, hash);
    if (n == nullptr) {
      const int found = Find(key, preds, succs, height);  // also the insertion point, when missing
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
      n->record.store(fresh, std::memory_order_release);
      Retire(old);
      n->value_lock.unlock();
      std::free(node);
      return Status::OK();
    }
    if (node == nullptr) {
      node = Node::New(key, hash, height);
      if (node == nullptr) {
        Retire(fresh);  // never any node's: a put that failed leaves no live record
        return NoDram("a csmap index node");
      }
    }
    const int h = node->height;
    if (!LockPreds(preds, succs, h, nullptr)) continue;
    node->record.store(fresh, std::memory_order_relaxed);
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

// Remove: the victim is locked and its record retired (dead bit persisted, layout.h "remove")
// under its value_lock; the node is then marked (the removal's linearization point, after it is
// durable), unlinked under its predecessors' locks, and retired to the epoch domain once no
// guard of this thread holds it.
Status CSMap::RemoveLocked(Slice key, bool* shrunk) {
  SharedGate gate(*this);
  journal_.Checkpoint();  // before any direct store into the pool (csmap.h: journal_)
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
      Retire(victim->record.load(std::memory_order_relaxed));
      CrashPoint("remove persisted");
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
  seek_.Forget(victim);  // out of every table a reader can reach before it can be freed
  Epochs::Retire(victim);
  if ((gate.stripe().count.load(std::memory_order_relaxed) & 255) == 0) *shrunk = true;
  return Status::OK();
}

Status CSMap::Remove(Slice key) {
  bool shrunk = false;
  Status s = RemoveLocked(key, &shrunk);
  if (shrunk) MaybeRebuildSeek();
  if (s.ok()) MaybeClean(1);
  return s;
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
// and stays so. Every new record is written dead, every new node allocated, and the stores of
// the one commit gathered (layout.h W4: the new records' seq words live, the replaced ones'
// dead) before the commit; every changed key's value_lock is held across it. Nothing after
// the commit can fail. A failure before it releases everything: nothing changed.
Status CSMap::Batch(const std::vector<pmemkv::BatchOp>& ops) {
  for (size_t i = 0; i < ops.size(); i++) {
    if (ops[i].key.size() > kMaxKeySize) return pmemkv::BatchOpError(i, TooLong("key", ops[i].key.size()));
    if (ops[i].is_put && ops[i].value.size() > kMaxValueSize)
      return pmemkv::BatchOpError(i, TooLong("value", ops[i].value.size()));
  }
  if (ops.empty()) return Status::OK();
  std::vector<Node*> retired;
  LockGate();
  bool no_room = false;
  Status s = BatchLocked(ops, &retired, &no_room);
  if (no_room && CleanLocked(arena_->max_record(), UINT64_MAX) > 0) s = BatchLocked(ops, &retired, &no_room);
  UnlockGate();
  for (Node* n : retired) {
    seek_.Forget(n);  // out of every table a reader can reach before it can be freed
    Epochs::Retire(n);
  }
  if (s.ok()) {
    MaybeGrow();
    MaybeRebuildSeek();
    MaybeClean(ops.size());
  }
  return s;
}

Status CSMap::BatchLocked(const std::vector<pmemkv::BatchOp>& ops, std::vector<Node*>* retired, bool* no_room) {
  struct Step {
    const pmemkv::PlannedOp* plan;
    Node* node;       // the key's node before the batch, or null
    uint64_t fresh;   // the new record of a put, else 0
    Node* created;    // the new node of a put of a missing key, else null
  };
  *no_room = false;
  std::vector<pmemkv::PlannedOp> plan;
  std::vector<Step> steps;
  std::vector<uint64_t> replaced;
  pmemkv::WordStores stores(pop_);
  Epochs::Guard guard;
  auto discard = [&steps, this] {
    for (const Step& st : steps) {
      std::free(st.created);
      if (st.fresh != 0) ReleaseDead(st.fresh);  // written dead: garbage
    }
  };
  auto mark_dead = [&](Node* n) {
    Record* r = MutableRecordAt(n->record.load(std::memory_order_relaxed));
    return stores.Set(&r->seq, r->seq | kDeadBit);
  };
  try {
    plan = pmemkv::PlanBatch(ops, [](Slice) { return uint64_t{0}; });
    steps.reserve(plan.size());
    retired->reserve(plan.size());
    replaced.reserve(plan.size());
    for (const pmemkv::PlannedOp& p : plan) {
      const pmemkv::BatchOp& op = *p.op;
      const uint64_t hash = HashIndex::Hash(op.key);
      Node* n = Lookup(op.key, hash);
      if (!op.is_put) {
        if (n == nullptr) continue;  // a remove of a missing key changes nothing
        if (!mark_dead(n)) throw std::bad_alloc();
        steps.push_back({&p, n, 0, nullptr});
        continue;
      }
      bool no_dram = false;
      const uint64_t fresh = NewRecord(op.key, op.value, Write::kForBatch, &stores, pmemkv::SlabArena::kForWrite, &no_dram);
      if (fresh == 0) {
        if (no_dram) throw std::bad_alloc();
        discard();
        *no_room = true;
        return pmemkv::BatchOpError(p.index, PoolFull(Record::Bytes(op.key.size(), op.value.size())));
      }
      steps.push_back({&p, n, fresh, nullptr});
      if (n != nullptr) {
        if (!mark_dead(n)) throw std::bad_alloc();
      } else {
        steps.back().created = Node::New(op.key, hash, RandomHeight());
        if (steps.back().created == nullptr) throw std::bad_alloc();
      }
    }
  } catch (const std::bad_alloc&) {
    discard();
    return NoDram("this batch");
  }
  CrashPoint("batch records written");

  for (const Step& st : steps)
    if (st.node != nullptr) st.node->value_lock.lock();
  ActionList acts(pop_);  // empty: WordStores publishes through it only when the journal is too small
  Status s = stores.Commit(journal_, acts);
  if (s.ok()) CrashPoint("batch committed");
  for (const Step& st : steps) {
    if (st.node == nullptr) continue;
    if (s.ok()) {
      replaced.push_back(st.node->record.load(std::memory_order_relaxed));  // capacity reserved above
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
  // The replaced records are dead (the commit): their space goes back now that no reader can
  // reach them.
  for (uint64_t off : replaced) ReleaseDead(off);

  // The structure: no other writer runs, so links change without node locks; readers see each
  // node linked or unlinked as in a single-key put or remove.
  Node* preds[kMaxHeight];
  Node* succs[kMaxHeight];
  int64_t delta = 0;
  for (const Step& st : steps) {
    if (st.created != nullptr) {
      Find(st.plan->op->key, preds, succs, st.created->height);
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
    if (r->dead()) return "a node names a dead record";
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
  Scan scan;
  try {
    Status s = ScanRecords(&scan);
    if (!s.ok()) return s.message();
  } catch (const std::bad_alloc&) {
    return "out of DRAM";
  }
  const uint64_t records = scan.live.size();
  if (records != live) return "the pool holds " + std::to_string(records) + " live records for " + std::to_string(live) + " keys";
  if (!scan.v1.empty()) return "the pool holds version 1 records";
  if (!scan.dead_large.empty()) return "the pool holds dead large records";
  if (scan.max_seq >= next_seq_.load()) return "a record's seq is not below the next seq";
  return seek_.Verify(head());
}

}  // namespace csmap
