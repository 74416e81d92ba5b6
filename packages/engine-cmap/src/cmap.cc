#include "cmap.h"

#include <pmemkv/actions.h>
#include <pmemkv/batch.h>
#include <pmemkv/crash_point.h>
#include <pmemkv/root.h>
#include <pmemkv/tx.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "hash.h"

namespace pmemkv {
namespace cmap {

namespace {

constexpr uint64_t kMaxPart = 0xFFFFFFFFull;  // largest key or value (Entry sizes are u32)

// Buckets added by one MaybeGrow call, bounding the latency one put can pick up. Several
// threads feed growth but one grows at a time, so it must outpace them all.
constexpr uint64_t kMaxSplitsPerGrow = 1024;

bool SameOid(const PMEMoid& a, const PMEMoid& b) noexcept { return a.off == b.off; }

// Gives every bucket head of a fresh (zeroed) segment the pool's uuid, so that linking an entry
// into an empty bucket is one 8-byte action (the offset) instead of two. A head without it (a
// pool written before, or a crash before the persist below) still works: SetLink adds the uuid.
// REQUIRES: the segment is unreachable or empty, inside the transaction that allocated it.
void StampBuckets(char* segment, uint64_t buckets, uint64_t uuid) {
  Bucket* b = reinterpret_cast<Bucket*>(segment);
  for (uint64_t i = 0; i < buckets; ++i) b[i].head.pool_uuid_lo = uuid;
  pmemobj_persist(pmemobj_pool_by_ptr(segment), segment, buckets * sizeof(Bucket));
}

// Bit i of v becomes bit 63 - i.
uint64_t ReverseBits(uint64_t v) noexcept {
  v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
  v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((v & 0x0F0F0F0F0F0F0F0Full) << 4);
  return __builtin_bswap64(v);
}

// Walk tokens: 'C', then the reversed-hash position as 8 little-endian bytes.
constexpr char kTokenTag = 'C';
constexpr size_t kTokenSize = 9;

std::string EncodeToken(uint64_t position) {
  std::string t(kTokenSize, '\0');
  t[0] = kTokenTag;
  std::memcpy(&t[1], &position, sizeof position);
  return t;
}

}  // namespace

Status CMap::Open(const Config& config, std::unique_ptr<Engine>* engine) {
  std::unique_ptr<Pool> pool;
  Status s = Pool::Open(config, kLayoutName, &pool);
  if (!s.ok()) return s;
  std::unique_ptr<CMap> map;
  s = OpenPool(std::move(pool), &map);
  if (s.ok()) *engine = std::move(map);
  return s;
}

Status CMap::OpenPool(std::unique_ptr<Pool> pool, std::unique_ptr<CMap>* map) {
  std::unique_ptr<CMap> m;
  try {
    m.reset(new CMap(std::move(pool)));
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("cmap: no memory for the lock table");
  }
  Status s = m->Init();
  if (s.ok()) *map = std::move(m);
  return s;
}

CMap::CMap(std::unique_ptr<Pool> pool)
    : pool_(std::move(pool)),
      pop_(pool_->get()),
      base_(reinterpret_cast<char*>(pop_)),
      stripes_(new Stripe[kStripes]),
      arena_(pop_, kTypeSlab, SlabArena::SlabBytesFor(pool_->size()),
             pool_->AllocFlags(SlabArena::SlabBytesFor(pool_->size()))),
      is_pmem_(RangePersister::MappingIsPmem(pop_, pool_->size())),
      journal_(pop_, is_pmem_, Journal::kWhenFull) {
  // A slab freed while the log still holds a store into it could be handed out again and then
  // be overwritten by that store's redo (journal.h, kWhenFull).
  arena_.SetBeforeFree([](void* self) { static_cast<CMap*>(self)->journal_.Checkpoint(); }, this);
}

CMap::~CMap() { journal_.Checkpoint(); }  // a clean log: the next open redoes nothing

// Points `link` at `target`, whose record [record, record + size) is written and not yet
// persisted, durably. On persistent memory: the log emptied first (a direct store must not be
// followed by the redo of an older logged one, journal.h), the record persisted, then the
// link (PersistLink). On a disk: one journal commit of both, one msync instead of two or three.
// REQUIRES: the stripe of the link's bucket held exclusively.
void CMap::StoreLink(PMEMoid* link, const PMEMoid& target, const void* record, size_t size) noexcept {
  if (is_pmem_) {
    journal_.Checkpoint();
    if (record != nullptr) pmemobj_persist(pop_, record, size);
    PersistLink(pop_, link, target);
  } else {
    CommitLink(journal_, pop_, link, target, record, size);
  }
}

// A fresh pool (root all zeroes, I1) gets segment 0 and its bucket count in the transaction
// that sets the magic (OpenRoot), so a crash leaves either a zero root (initialized again on
// the next open) or a complete table.
Status CMap::Init() {
  const size_t seg0 = SegmentBuckets(0) * sizeof(Bucket);
  Status s = OpenRoot<Root>(*pool_, "cmap", kMagic, kLayoutVersion, [&](Root* root) -> Status {
    PMEMoid seg;
    Status st = TxAlloc(seg0, kTypeSegment, &seg, /*zero=*/true, pool_->AllocFlags(seg0));
    if (!st.ok()) return st;
    StampBuckets(reinterpret_cast<char*>(pmemobj_direct(seg)), SegmentBuckets(0), seg.pool_uuid_lo);
    root->segments[0] = seg;
    root->bucket_count = kBaseBuckets;
    return Status::OK();
  }, &root_, kOldestReadableVersion);
  if (!s.ok()) return s;
  const PoolSpan span = SpanOf(*pool_);
  const std::string& path = pool_->path();
  // Redoes a batch or split that committed before a crash, before anything reads the table.
  // Capacity (a batch that changes more links than that commits with one publish instead, and
  // a growth commit splits at most a quarter of it): 1,024 records (16 KiB, the allocation class
  // of the first bucket segments, whose run it shares) in pools under 64 MiB; one whole 256 KiB
  // chunk, 16,379 records (0.4 % of the pool or less), from 64 MiB; three chunks, 49,147
  // records, from 256 MiB. Chosen when the pool is created; an existing journal keeps its own.
  const auto chunks = [](uint64_t n) { return (n * (uint64_t{256} << 10) - 16 - Journal::kHeaderBytes) / sizeof(Journal::Record); };
  const uint64_t records = pool_->size() >= (uint64_t{256} << 20) ? chunks(3) : pool_->size() >= (uint64_t{64} << 20) ? chunks(1) : 1024;
  s = journal_.Open(&root_->journal, kTypeJournal, records,
                    pool_->AllocFlags(Journal::kHeaderBytes + records * sizeof(Journal::Record)), span,
                    path, "cmap");
  if (!s.ok()) return s;
  const uint64_t n = root_->bucket_count;
  if (n < kBaseBuckets || SegmentOf(n - 1) >= kMaxSegments)
    return DamagedPool(path, "cmap bucket count " + std::to_string(n) + " is outside [" +
                                 std::to_string(kBaseBuckets) + ", 2^" + std::to_string(kBaseBucketsLog2 + kMaxSegments - 1) + ")");
  const uint64_t uuid = root_->segments[0].pool_uuid_lo;
  for (unsigned s = 0; s < kMaxSegments; ++s) {
    const PMEMoid& oid = root_->segments[s];
    if (OID_IS_NULL(oid)) {
      if (s <= SegmentOf(n - 1)) return DamagedPool(path, "cmap bucket segment " + std::to_string(s) + " is missing");
      continue;
    }
    if (oid.pool_uuid_lo != uuid || !span.Contains(oid.off, SegmentBuckets(s) * sizeof(Bucket)))
      return DamagedPool(path, "cmap bucket segment " + std::to_string(s) + " at offset " + std::to_string(oid.off) +
                                   " lies outside the pool");
    segments_[s].store(reinterpret_cast<Bucket*>(Direct(oid)), std::memory_order_relaxed);
  }
  bucket_count_.store(n, std::memory_order_release);
  uuid_ = uuid;
  if (!arena_.Load(span)) return Status::OutOfMemory("cmap: no memory (DRAM) to list the pool's slabs");
  s = Recount(span);
  if (!s.ok()) return s;
  if (!arena_.Finish()) return Status::Unknown(std::string("cmap: cannot free an empty slab: ") + pmemobj_errormsg());
  if (root_->version < kLayoutVersion) {  // a version 1 pool: valid as it is, marked version 2 (layout.h)
    s = RunTx(pop_, [&]() -> Status {
      Status st = TxAddRange(&root_->version, sizeof root_->version);
      if (st.ok()) root_->version = kLayoutVersion;
      return st;
    });
  }
  return s;
}

// Rebuilds the entry count from the chains (exact by I3), checking on the way everything a
// later lookup will trust, so a damaged pool is refused instead of misread: every link stays
// inside the pool's heap with the pool's uuid, every entry's key and value lie inside the
// pool, its stored hash is its key's (I5) and places it in its bucket (I3), and no chain
// loops (Brent's cycle detection: a walk of a looping chain ends within twice its length).
Status CMap::Recount(const PoolSpan& span) {
  const uint64_t n = bucket_count_.load(std::memory_order_relaxed);
  const uint64_t uuid = root_->segments[0].pool_uuid_lo;
  const std::string& path = pool_->path();
  int64_t total = 0;
  for (uint64_t b = 0; b < n; ++b) {
    int64_t in_bucket = 0;
    uint64_t mark = 0, power = 1, steps = 0;  // Brent: `mark` is the offset compared against
    for (const PMEMoid* link = &BucketAt(b)->head; !OID_IS_NULL(*link); link = &EntryAt(*link)->next) {
      const std::string where = "cmap bucket " + std::to_string(b) + ", entry at offset " + std::to_string(link->off);
      if (link->pool_uuid_lo != uuid || !span.Contains(link->off, sizeof(Entry)))
        return DamagedPool(path, where + " lies outside the pool");
      const Entry* e = EntryAt(*link);
      if (!span.Contains(link->off + sizeof(Entry), uint64_t{e->key_size} + e->value_size))
        return DamagedPool(path, where + ": its key (" + std::to_string(e->key_size) + " bytes) and value (" +
                                     std::to_string(e->value_size) + " bytes) run past the end of the pool");
      if (e->hash != HashKey(e->key(), e->key_size) || BucketOf(e->hash, n) != b)
        return DamagedPool(path, where + ": its hash does not match its key or its bucket");
      if (arena_.Claim(link->off, SizeOf(e)) == SlabArena::Claimed::kStraddles)
        return DamagedPool(path, where + " runs past the end of its slab");
      if (link->off == mark) return DamagedPool(path, "cmap bucket " + std::to_string(b) + ": its chain loops");
      if (++steps == power) {
        mark = link->off;
        power *= 2;
        steps = 0;
      }
      ++in_bucket;
    }
    StripeOf(b).count.fetch_add(in_bucket, std::memory_order_relaxed);
    total += in_bucket;
  }
  approx_count_.store(total, std::memory_order_relaxed);
  return Status::OK();
}

// Lock protocol: read the table size, lock the stripe of h's bucket under it, and read the
// size again. A split that moves keys out of bucket b needs b's stripe exclusively, so once
// the re-read maps h to the locked bucket, h stays there until we unlock; if it maps h
// elsewhere, a split moved it meanwhile: retry with the new size. Splits of other buckets
// may still advance the size; they never move keys of b.
//
// The bucket is prefetched before the stripe is locked, so that the two cache misses of a
// lookup in a large table overlap (b < n, so its segment exists; a prefetch never faults).
uint64_t CMap::LockBucketShared(uint64_t h, uint64_t* size) const noexcept {
  uint64_t n = bucket_count_.load(std::memory_order_acquire);
  for (;;) {
    const uint64_t b = BucketOf(h, n);
    __builtin_prefetch(BucketAt(b));
    Stripe& stripe = StripeOf(b);
    stripe.lock.lock_shared();
    n = bucket_count_.load(std::memory_order_acquire);
    if (BucketOf(h, n) == b) {
      if (size != nullptr) *size = n;
      return b;
    }
    stripe.lock.unlock_shared();
  }
}

uint64_t CMap::LockBucketExclusive(uint64_t h) const noexcept {
  uint64_t n = bucket_count_.load(std::memory_order_acquire);
  for (;;) {
    const uint64_t b = BucketOf(h, n);
    __builtin_prefetch(BucketAt(b));
    Stripe& stripe = StripeOf(b);
    stripe.lock.lock();
    n = bucket_count_.load(std::memory_order_acquire);
    if (BucketOf(h, n) == b) return b;
    stripe.lock.unlock();
  }
}

PMEMoid* CMap::FindLink(uint64_t b, uint64_t h, Slice key) const noexcept {
  for (PMEMoid* link = &BucketAt(b)->head; !OID_IS_NULL(*link);) {
    Entry* e = EntryAt(*link);
    if (e->hash == h && e->key_size == key.size() && std::memcmp(e->key(), key.data(), key.size()) == 0)
      return link;
    link = &e->next;
  }
  return nullptr;
}

Status CMap::Get(Slice key, ValueReceiver& out) {
  const uint64_t h = HashKey(key.data(), key.size());
  const uint64_t b = LockBucketShared(h);
  Stripe& stripe = StripeOf(b);
  const PMEMoid* link = FindLink(b, h, key);
  if (link == nullptr) {
    stripe.lock.unlock_shared();
    return Status::NotFound();
  }
  const Entry* e = EntryAt(*link);
  out.Receive(Slice(e->value(), e->value_size));  // the entry cannot be freed while we hold the stripe
  stripe.lock.unlock_shared();
  return Status::OK();
}

Status CMap::Exists(Slice key) {
  const uint64_t h = HashKey(key.data(), key.size());
  const uint64_t b = LockBucketShared(h);
  const bool found = FindLink(b, h, key) != nullptr;
  StripeOf(b).lock.unlock_shared();
  return found ? Status::OK() : Status::NotFound();
}

uint64_t CMap::NewEntry(size_t size, ActionList& acts, bool* in_slab, uint64_t old, bool* old_in_slab) noexcept {
  if (size <= arena_.max_record()) {
    const uint64_t off = arena_.Allocate(size, SlabArena::kForWrite, old, old_in_slab);
    if (off != 0) {
      *in_slab = true;
      return off;
    }
  }
  *in_slab = false;
  if (old_in_slab != nullptr && size > arena_.max_record()) *old_in_slab = old != 0 && arena_.InSlab(old);
  return acts.Reserve(size, kTypeEntry, pool_->AllocFlags(size)).off;
}

// Put (layout.h "put"): the new pair is written and persisted while still invisible, then one
// link is pointed at it. The DRAM counters change only after that, so a failed put
// (OUT_OF_MEMORY) changes nothing at all; it is retried once after a cleaning pass when the
// slabs hold garbage that the pass can turn into room.
Status CMap::Put(Slice key, Slice value) {
  if (key.size() > kMaxPart || value.size() > kMaxPart)
    return Status::InvalidArgument("cmap keys and values are limited to 4 GiB - 1 bytes each");
  Status outside = CheckOutsideTx();  // direct stores never join an application's transaction
  if (!outside.ok()) return outside;
  const uint64_t h = HashKey(key.data(), key.size());
  const size_t size = sizeof(Entry) + key.size() + value.size();

  for (int attempt = 0;; ++attempt) {
    const uint64_t b = LockBucketExclusive(h);
    Stripe& stripe = StripeOf(b);
    PMEMoid* const found = FindLink(b, h, key);
    PMEMoid* const link = found != nullptr ? found : &BucketAt(b)->head;
    ActionList acts(pop_);
    bool in_slab = false, old_in_slab = false;
    const uint64_t fresh = NewEntry(size, acts, &in_slab, found != nullptr ? found->off : 0, &old_in_slab);
    if (fresh == 0) {
      stripe.lock.unlock();
      if (attempt == 0 && CleanForRoom(size)) continue;
      return Status::OutOfMemory("the cmap pool is full: remove entries or open a larger pool (" +
                                 std::to_string(size) + " bytes needed for this entry)");
    }
    Entry* e = reinterpret_cast<Entry*>(base_ + fresh);
    // Overwrite in place of the old entry (keeps the chain order); insert at the chain head.
    e->next = found != nullptr ? EntryAt(*found)->next : *link;
    if (e->next.off == 0) e->next.pool_uuid_lo = uuid_;  // every link this version writes holds the uuid
    e->hash = h;
    e->key_size = static_cast<uint32_t>(key.size());
    e->value_size = static_cast<uint32_t>(value.size());
    std::memcpy(e->key(), key.data(), key.size());
    std::memcpy(e->key() + key.size(), value.data(), value.size());
    const PMEMoid old = *link;
    const size_t old_size = found != nullptr ? SizeOf(EntryAt(old)) : 0;
    Status s;
    if (in_slab && (found == nullptr || old_in_slab)) {
      StoreLink(link, PMEMoid{uuid_, fresh}, e, size);  // no allocator action: one 8-byte step
    } else {
      // Durable before it becomes reachable: the publish only makes it reachable. The
      // publish stores into the link directly: the log is emptied first.
      pmemobj_persist(pop_, e, size);
      journal_.Checkpoint();
      s = acts.SetLink(link, PMEMoid{uuid_, fresh}) && (found == nullptr || old_in_slab || acts.Free(old))
              ? acts.Publish()
              : Status::OutOfMemory("cmap: no memory (DRAM) for this put");
      if (!s.ok()) {
        if (in_slab) arena_.Release(fresh, size);
        stripe.lock.unlock();
        return s;
      }
    }
    if (old_in_slab) arena_.Release(old.off, old_size);
    const bool count_published = found == nullptr && AccountChange(stripe, +1);
    stripe.lock.unlock();
    if (count_published) MaybeGrow();
    MaybeClean(1);
    return Status::OK();
  }
}

// Remove (layout.h "remove"): the link to the victim is pointed past it; a victim of its own
// is freed in the same publish.
Status CMap::Remove(Slice key) {
  Status outside = CheckOutsideTx();
  if (!outside.ok()) return outside;
  const uint64_t h = HashKey(key.data(), key.size());
  const uint64_t b = LockBucketExclusive(h);
  Stripe& stripe = StripeOf(b);
  PMEMoid* const link = FindLink(b, h, key);
  if (link == nullptr) {
    stripe.lock.unlock();
    return Status::NotFound();
  }
  const PMEMoid victim = *link;
  const Entry* e = EntryAt(victim);
  Status s;
  if (arena_.InSlab(victim.off)) {
    const size_t size = SizeOf(e);
    StoreLink(link, PMEMoid{uuid_, e->next.off}, nullptr, 0);
    arena_.Release(victim.off, size);
  } else {
    journal_.Checkpoint();  // the publish stores into the link and frees the victim directly
    ActionList acts(pop_);
    s = acts.SetLink(link, e->next) && acts.Free(victim) ? acts.Publish()
                                                         : Status::OutOfMemory("cmap: no memory (DRAM) for this remove");
  }
  if (s.ok()) AccountChange(stripe, -1);
  stripe.lock.unlock();
  if (s.ok()) MaybeClean(1);
  return s;
}

// Batch (layout.h "batch"). Per bucket touched, the chain after the batch is built in DRAM:
// its entries in their old order, each replaced by its new entry or dropped when the batch
// puts or removes its key, then the batch's new keys in front. New entries are carved (or
// reserved), filled with their final `next` and persisted while unreachable; then every link
// of the old chains whose target changes (bucket heads and `next` of entries that stay) is
// set in one journal commit, or in one publish that also frees the replaced or removed
// entries of their own (WordStores::Commit). A crash before the commit point leaves every
// chain as it was (carved records are unclaimed garbage, reservations are released at the
// next open); after it, all as planned (I3, I4).
Status CMap::Batch(const std::vector<BatchOp>& ops) {
  Status outside = CheckOutsideTx();  // a journal commit never joins an application's transaction
  if (!outside.ok()) return outside;
  bool grow = false;
  Status s = BatchLocked(ops, &grow);
  if (s.code() == Code::kOutOfMemory && CleanForRoom(arena_.max_record())) s = BatchLocked(ops, &grow);
  if (grow) MaybeGrow();  // after the locks are released: growth takes them itself
  if (s.ok()) MaybeClean(ops.size());
  return s;
}

Status CMap::BatchLocked(const std::vector<BatchOp>& ops, bool* grow) {
  for (size_t i = 0; i < ops.size(); ++i)
    if (ops[i].key.size() > kMaxPart || ops[i].value.size() > kMaxPart)
      return BatchOpError(i, Status::InvalidArgument("cmap keys and values are limited to 4 GiB - 1 bytes each"));
  if (ops.empty()) return Status::OK();
  SharedLockGuard numbering(grow_lock_);  // no split while the plan uses the bucket numbering
  const uint64_t n = bucket_count_.load(std::memory_order_acquire);
  std::vector<PlannedOp> plan;
  std::vector<uint64_t> stripe_ids;
  try {
    plan = PlanBatch(ops, [n](Slice key) { return BucketOf(HashKey(key.data(), key.size()), n); });
    for (const PlannedOp& p : plan) stripe_ids.push_back(p.lock & (kStripes - 1));
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("cmap: no memory (DRAM) to plan this batch");
  }
  std::sort(stripe_ids.begin(), stripe_ids.end());
  stripe_ids.erase(std::unique(stripe_ids.begin(), stripe_ids.end()), stripe_ids.end());
  for (uint64_t id : stripe_ids) stripes_[id].lock.lock();
  struct Unlock {
    CMap* map;
    const std::vector<uint64_t>& ids;
    ~Unlock() {
      for (size_t i = ids.size(); i-- > 0;) map->stripes_[ids[i]].lock.unlock();
    }
  } unlock{this, stripe_ids};

  ActionList acts(pop_);
  const uint64_t uuid = uuid_;
  std::vector<int64_t> delta(stripe_ids.size(), 0);  // entry count change per locked stripe
  // Slab records: carved for this batch (given back unless the commit succeeds), and replaced
  // or removed by it (released once the commit made them unreachable).
  struct Record {
    uint64_t off;
    size_t size;
  };
  std::vector<Record> carved, dropped;
  struct GiveBack {
    SlabArena& arena;
    std::vector<Record>& records;
    ~GiveBack() {
      for (const Record& r : records) arena.Release(r.off, r.size);
    }
  } give_back{arena_, carved};
  WordStores links(pop_);
  try {
    carved.reserve(ops.size());
    dropped.reserve(ops.size());
    struct Node {
      PMEMoid oid;
      bool fresh;
    };
    std::vector<Node> chain, front;
    std::vector<const PlannedOp*> in_bucket;
    std::vector<bool> matched;
    // Bucket heads and first entries are random accesses: all heads are prefetched first, then
    // all first entries, so that the misses overlap instead of following one another. (A
    // pipeline 8 or 48 operations ahead measured no better on batches of 1,000.)
    for (const PlannedOp& p : plan) __builtin_prefetch(BucketAt(p.lock));
    for (const PlannedOp& p : plan) {
      const PMEMoid& head = BucketAt(p.lock)->head;
      if (!OID_IS_NULL(head)) __builtin_prefetch(Direct(head));
    }
    for (size_t first = 0; first < plan.size();) {
      const uint64_t b = plan[first].lock;
      size_t last = first;
      while (last < plan.size() && plan[last].lock == b) ++last;
      in_bucket.clear();
      for (size_t j = first; j < last; ++j) in_bucket.push_back(&plan[j]);
      int64_t& stripe_delta = delta[std::lower_bound(stripe_ids.begin(), stripe_ids.end(), b & (kStripes - 1)) - stripe_ids.begin()];

      // The new chain: existing entries (replaced or dropped), then new keys in front.
      chain.clear();
      matched.assign(in_bucket.size(), false);
      Status s;
      auto fresh_entry = [&](const PlannedOp& p, PMEMoid* out) -> Status {
        const BatchOp& op = *p.op;
        const size_t size = sizeof(Entry) + op.key.size() + op.value.size();
        bool in_slab = false;
        const PMEMoid oid{uuid, NewEntry(size, acts, &in_slab)};
        if (OID_IS_NULL(oid))
          return BatchOpError(p.index, Status::OutOfMemory("the cmap pool is full: remove entries or open a larger pool"));
        if (in_slab) carved.push_back({oid.off, size});
        Entry* e = EntryAt(oid);
        e->hash = HashKey(op.key.data(), op.key.size());
        e->key_size = static_cast<uint32_t>(op.key.size());
        e->value_size = static_cast<uint32_t>(op.value.size());
        std::memcpy(e->key(), op.key.data(), op.key.size());
        std::memcpy(e->key() + op.key.size(), op.value.data(), op.value.size());
        *out = oid;
        return Status::OK();
      };
      for (PMEMoid cur = BucketAt(b)->head; !OID_IS_NULL(cur); cur = EntryAt(cur)->next) {
        const Entry* e = EntryAt(cur);
        size_t hit = in_bucket.size();
        for (size_t j = 0; j < in_bucket.size(); ++j) {
          const std::string& k = in_bucket[j]->op->key;
          if (!matched[j] && e->key_size == k.size() && std::memcmp(e->key(), k.data(), k.size()) == 0) {
            hit = j;
            break;
          }
        }
        if (hit == in_bucket.size()) {
          chain.push_back({cur, false});
          continue;
        }
        matched[hit] = true;
        if (arena_.InSlab(cur.off))
          dropped.push_back({cur.off, SizeOf(e)});
        else if (!acts.Free(cur))
          return Status::OutOfMemory("cmap: no memory (DRAM) for this batch");
        if (in_bucket[hit]->op->is_put) {
          PMEMoid oid;
          if (!(s = fresh_entry(*in_bucket[hit], &oid)).ok()) return s;
          chain.push_back({oid, true});
        } else {
          --stripe_delta;
        }
      }
      front.clear();
      for (size_t j = 0; j < in_bucket.size(); ++j) {
        if (matched[j] || !in_bucket[j]->op->is_put) continue;  // a remove of a missing key changes nothing
        PMEMoid oid;
        if (!(s = fresh_entry(*in_bucket[j], &oid)).ok()) return s;
        front.push_back({oid, true});
        ++stripe_delta;
      }
      chain.insert(chain.begin(), front.begin(), front.end());

      // Links: fresh entries get their final `next` now (they are unreachable); the head and
      // the `next` of entries that stay get a store when their target changes.
      PMEMoid* link = &BucketAt(b)->head;
      bool link_is_fresh = false;
      for (size_t j = 0; j <= chain.size(); ++j) {
        const PMEMoid target = j < chain.size() ? chain[j].oid : PMEMoid{uuid, 0};  // the end keeps the uuid
        if (link_is_fresh) {
          *link = target;
        } else if (!SameOid(*link, target)) {
          if (!links.SetLink(link, target)) return Status::OutOfMemory("cmap: no memory (DRAM) for this batch");
        }
        if (j == chain.size()) break;
        link = &EntryAt(chain[j].oid)->next;
        link_is_fresh = chain[j].fresh;
      }
      for (const Node& node : chain)  // durable with the commit (on a disk, in its one msync)
        if (node.fresh && !links.AddPayload(EntryAt(node.oid), SizeOf(EntryAt(node.oid))))
          return Status::OutOfMemory("cmap: no memory (DRAM) for this batch");
      first = last;
    }
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("cmap: no memory (DRAM) for this batch");
  }
  Status s = links.Commit(journal_, acts);  // fresh entries durable no later than their links
  if (!s.ok()) return Status(s.code(), "batch of " + std::to_string(ops.size()) + " operations: " + s.message());
  carved.clear();  // reachable now
  for (const Record& r : dropped) arena_.Release(r.off, r.size);
  for (size_t i = 0; i < stripe_ids.size(); ++i)
    if (delta[i] != 0 && AccountChange(stripes_[stripe_ids[i]], delta[i]) && delta[i] > 0) *grow = true;
  return Status::OK();
}

bool CMap::AccountChange(Stripe& stripe, int64_t delta) noexcept {
  stripe.count.store(stripe.count.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  stripe.pending += delta;
  // Small tables publish every change so that they grow on time; large ones batch them so
  // that puts on different stripes do not all write one cache line.
  const int64_t threshold = approx_count_.load(std::memory_order_relaxed) < int64_t{1} << 16 ? 1 : 32;
  if (stripe.pending < threshold && stripe.pending > -threshold) return false;
  approx_count_.fetch_add(stripe.pending, std::memory_order_relaxed);
  stripe.pending = 0;
  return true;
}

Status CMap::Count(const KeyRange& range, uint64_t* count) {
  if (!range.IsFull()) return Status::NotSupported("cmap is unsorted: it counts only all entries");
  int64_t total = 0;
  for (uint64_t i = 0; i < kStripes; ++i) total += stripes_[i].count.load(std::memory_order_relaxed);
  *count = total > 0 ? static_cast<uint64_t>(total) : 0;
  return Status::OK();
}

// WalkChunk (see cmap.h): position t is a point of the reversed-hash space; the bucket whose
// interval holds t is the bucket of the hash ReverseBits(t). Each bucket is copied out under
// its stripe lock and visited after unlocking, so a visitor that takes long (or a writer on
// another thread) never waits on a lock held by the other.
Status CMap::WalkChunk(Slice from, uint64_t limit, Visitor& visitor, std::string* next, bool* more) {
  uint64_t t = 0;
  if (!from.empty()) {
    if (from.size() != kTokenSize || from[0] != kTokenTag)
      return Status::InvalidArgument("cmap: this walk token was not made by the cmap engine");
    std::memcpy(&t, from.data() + 1, sizeof t);
  }
  std::string copy;
  uint64_t visited = 0;
  try {
    for (;;) {
      uint64_t n = 0;
      const uint64_t h = ReverseBits(t);
      const uint64_t b = LockBucketShared(h, &n);
      // Buckets below n - M (split already) and from M up hold one key bit more than the rest.
      const uint64_t m = HighBit(n);
      const unsigned level = static_cast<unsigned>(63 - __builtin_clzll(m)) + (b < n - m || b >= m ? 1 : 0);
      const uint64_t start = t & ~(~uint64_t{0} >> level);  // the interval of bucket b: [start, start + width)
      const uint64_t width = uint64_t{1} << (64 - level);
      copy.clear();
      {
        struct Unlock {
          RwSpinLock& lock;
          ~Unlock() { lock.unlock_shared(); }
        } unlock{StripeOf(b).lock};
        for (const PMEMoid* link = &BucketAt(b)->head; !OID_IS_NULL(*link); link = &EntryAt(*link)->next) {
          const Entry* e = EntryAt(*link);
          if (ReverseBits(e->hash) < t) continue;  // before the token (only for a token inside an interval)
          const uint32_t sizes[2] = {e->key_size, e->value_size};
          copy.append(reinterpret_cast<const char*>(sizes), sizeof sizes);
          copy.append(e->key(), size_t{e->key_size} + e->value_size);
        }
      }
      for (size_t at = 0; at < copy.size();) {
        uint32_t sizes[2];
        std::memcpy(sizes, copy.data() + at, sizeof sizes);
        at += sizeof sizes;
        const Slice k(copy.data() + at, sizes[0]);
        const Slice v(copy.data() + at + sizes[0], sizes[1]);
        at += size_t{sizes[0]} + sizes[1];
        visited++;
        if (visitor.Visit(k, v)) return Status::StoppedByCallback();
      }
      t = start + width;
      if (t == 0) {  // wrapped: the last interval is done
        *more = false;
        return Status::OK();
      }
      if (visited >= limit && visited > 0) {
        *next = EncodeToken(t);
        *more = true;
        return Status::OK();
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("cmap: no memory to copy a bucket during a walk");
  }
}

// Defrag: grow_lock_ shared keeps the numbering fixed; each chunk of buckets is handed to
// pmemobj_defrag with every link into its chains (bucket heads and `next` fields, the only
// references to entries, I3) while the chunk's stripes are held exclusively, so no reader
// follows a link that is being moved. pmemobj_defrag also rewrites links that live inside
// entries it moves.
Status CMap::Defrag(double start_percent, double amount_percent) {
  SharedLockGuard numbering(grow_lock_);
  const uint64_t n = bucket_count_.load(std::memory_order_acquire);
  const double end_percent = start_percent + amount_percent;
  const uint64_t first = std::min(n, static_cast<uint64_t>(static_cast<double>(n) * start_percent / 100));
  const uint64_t last =
      end_percent >= 100 ? n : std::min(n, static_cast<uint64_t>(static_cast<double>(n) * end_percent / 100));
  std::vector<PMEMoid*> links;
  std::vector<uint64_t> stripe_ids;
  for (uint64_t lo = first; lo < last; lo += kDefragChunk) {
    const uint64_t hi = std::min(last, lo + kDefragChunk);
    int rc = 0;
    try {
      // Distinct stripes (kDefragChunk <= kStripes), locked in ascending order like every
      // multi-stripe locker (SplitSome), so lockers never wait on each other in a cycle.
      stripe_ids.clear();
      for (uint64_t b = lo; b < hi; ++b) stripe_ids.push_back(b & (kStripes - 1));
      std::sort(stripe_ids.begin(), stripe_ids.end());
      for (uint64_t id : stripe_ids) stripes_[id].lock.lock();
      links.clear();
      for (uint64_t b = lo; b < hi; ++b)
        for (PMEMoid* link = &BucketAt(b)->head; !OID_IS_NULL(*link); link = &EntryAt(*link)->next)
          if (!arena_.InSlab(link->off)) links.push_back(link);  // slab entries: the cleaner's below
    } catch (const std::bad_alloc&) {
      for (uint64_t id : stripe_ids) stripes_[id].lock.unlock();
      return Status::OutOfMemory("cmap: no memory to list the entries to defragment");
    }
    if (!links.empty()) {
      journal_.Checkpoint();  // defrag moves entries and rewrites links directly (under the chunk's stripes)
      rc = pmemobj_defrag(pop_, links.data(), links.size(), nullptr);
    }
    for (uint64_t id : stripe_ids) stripes_[id].lock.unlock();
    if (rc != 0)
      return Status::DefragError(std::string("cmap: pmemobj_defrag failed: ") + pmemobj_errormsg() +
                                 "; every entry is still valid, retry when the pool has more free space");
  }
  if (!CleanRange(first, last, arena_.slab_size() * kDefragGarbagePercent / 100))
    return Status::DefragError("cmap: no room to move the entries of a sparse slab; every entry is still valid, "
                               "remove entries or retry when the pool has more free space");
  return Status::OK();
}

// The cleaner (layout.h "slabs"). Each bucket is cleaned under its stripe held exclusively:
// an entry of a sparse slab is copied whole (its `next` included) into a fresh record, which
// is persisted before the one link to the entry is stored; the old record is released after
// that store, so its slab is freed once its last live entry has moved. Readers of the bucket
// wait for the stripe and then see the old chain or the new.
bool CMap::CleanBucket(uint64_t b, uint64_t min_garbage) noexcept {
  Stripe& stripe = StripeOf(b);
  stripe.lock.lock();
  bool ok = true;
  for (PMEMoid* link = &BucketAt(b)->head; !OID_IS_NULL(*link); link = &EntryAt(*link)->next) {
    if (!arena_.Sparse(link->off, min_garbage)) continue;
    const Entry* old = EntryAt(*link);
    const size_t size = SizeOf(old);
    const uint64_t fresh = arena_.Allocate(size, SlabArena::kForCleaner);
    if (fresh == 0) {
      ok = false;
      break;
    }
    std::memcpy(base_ + fresh, old, size);
    const uint64_t was = link->off;
    StoreLink(link, PMEMoid{uuid_, fresh}, base_ + fresh, size);
    arena_.Release(was, size);
  }
  stripe.lock.unlock();
  return ok;
}

// Buckets [first, last) under grow_lock_ shared (the numbering stays fixed), one at a time.
// Defrag calls it with grow_lock_ already shared: taking it shared again cannot deadlock,
// since the only exclusive taker (MaybeGrow) uses try_lock and never raises the lock's
// writer-waiting bit.
bool CMap::CleanRange(uint64_t first, uint64_t last, uint64_t min_garbage) noexcept {
  if (cleaning_.exchange(true, std::memory_order_acquire)) return true;  // another thread cleans
  bool ok = true;
  {
    SharedLockGuard numbering(grow_lock_);
    last = std::min(last, bucket_count_.load(std::memory_order_acquire));
    for (uint64_t b = first; ok && b < last; ++b) ok = CleanBucket(b, min_garbage);
  }
  cleaning_.store(false, std::memory_order_release);
  return ok;
}

void CMap::MaybeClean(uint64_t writes) noexcept {
  if (!arena_.NeedsCleaning() || cleaning_.exchange(true, std::memory_order_acquire)) return;
  {
    SharedLockGuard numbering(grow_lock_);
    const uint64_t n = bucket_count_.load(std::memory_order_acquire);
    uint64_t b = clean_cursor_.load(std::memory_order_relaxed);
    for (uint64_t i = 0; i < std::min(n, kCleanStep * writes); ++i, ++b) {
      if (b >= n) b = 0;
      if (!CleanBucket(b, arena_.slab_size() * kSparseGarbagePercent / 100)) break;
    }
    clean_cursor_.store(b, std::memory_order_relaxed);
  }
  cleaning_.store(false, std::memory_order_release);
}

bool CMap::CleanForRoom(uint64_t needed) noexcept {
  if (!arena_.AnySparse(needed)) return false;
  CleanRange(0, UINT64_MAX, needed);
  return true;
}

bool CMap::NeedsGrowth() const noexcept {
  const int64_t count = approx_count_.load(std::memory_order_relaxed);
  return count >= static_cast<int64_t>(bucket_count_.load(std::memory_order_relaxed) * kMaxLoad + kSplitBatch) &&
         count >= grow_retry_at_.load(std::memory_order_relaxed);
}

void CMap::MaybeGrow() noexcept {
  if (!NeedsGrowth() || !grow_lock_.try_lock()) return;
  // Each commit splits the whole excess, up to kMaxSplitStep buckets and what the journal
  // holds (a split bucket takes about two records), so a batch of new keys is followed by one
  // growth commit rather than one per kSplitBatch keys. Off persistent memory a commit costs
  // its msyncs whatever its size, so growth there always takes the largest step (the table
  // runs ahead of the entries by up to that many buckets, 16 bytes each).
  const uint64_t step_limit =
      std::max<uint64_t>(kSplitBatch, std::min<uint64_t>(is_pmem_ ? kMaxSplitStep : kMaxSplitStepOffPmem, journal_.capacity() / 4));
  for (uint64_t done = 0; done < kMaxSplitsPerGrow && NeedsGrowth();) {
    const uint64_t excess = static_cast<uint64_t>(approx_count_.load(std::memory_order_relaxed)) -
                            bucket_count_.load(std::memory_order_relaxed) * kMaxLoad;
    const uint64_t step = std::min(step_limit, is_pmem_ ? excess : std::max(excess, step_limit));
    done += step;
    if (!SplitSome(step)) {
      // No room in the pool for a segment or for the split's undo log: keep the current
      // size (lookups only get slower) and try again after a sixteenth more entries.
      const int64_t n = static_cast<int64_t>(bucket_count_.load(std::memory_order_relaxed));
      grow_retry_at_.store(approx_count_.load(std::memory_order_relaxed) + n / 16 + 64, std::memory_order_relaxed);
      break;
    }
  }
  grow_lock_.unlock();
}

// Segment (layout.h "segment"): reserved, every bucket written empty and persisted while
// nothing can reach it, then one publish allocates it and links it from segments[s] (on a
// disk a few msyncs, where a transaction costs about fifteen). No journal checkpoint first:
// the publish stores only into segments[s] and the heap's own state, which no logged store
// targets (the log targets bucket heads and entry links of memory in use, and memory is freed
// only after a checkpoint).
bool CMap::AllocateSegment(unsigned s) noexcept {
  const size_t bytes = SegmentBuckets(s) * sizeof(Bucket);
  ActionList acts(pop_);
  const PMEMoid seg = acts.Reserve(bytes, kTypeSegment, pool_->AllocFlags(bytes));
  if (OID_IS_NULL(seg)) return false;
  std::memset(Direct(seg), 0, bytes);
  StampBuckets(Direct(seg), SegmentBuckets(s), seg.pool_uuid_lo);  // persists the segment
  CrashPoint("segment: written");
  if (!acts.SetLink(&root_->segments[s], seg)) return false;
  if (!acts.Publish().ok()) return false;
  CrashPoint("segment: published");
  segments_[s].store(reinterpret_cast<Bucket*>(Direct(seg)), std::memory_order_release);
  return true;
}

// Split (layout.h "split"): buckets p = n - M .. n - M + k - 1 give the new buckets
// n .. n + k - 1 the entries whose bucket under n + k is the new one (new bucket n + i takes
// only from parent p + i). Every chain is rebuilt in its old relative order and bucket_count
// advances in the same journal commit; only links whose target changes get a store (stores
// apply at the commit, so every comparison below sees the chains as they were). DRAM
// bucket_count_ advances after the commit, while all 2k stripes are still held, so a reader
// that locked any of these buckets sees the old numbering and the old chains, or the new.
bool CMap::SplitSome(uint64_t k) noexcept {
  const uint64_t n = bucket_count_.load(std::memory_order_relaxed);
  const uint64_t m = HighBit(n);
  k = std::min(k, 2 * m - n);  // stay below the next power of two: one segment, parents < n
  const unsigned seg = SegmentOf(n);
  if (seg >= kMaxSegments) return false;
  if (segments_[seg].load(std::memory_order_relaxed) == nullptr && !AllocateSegment(seg)) return false;
  const uint64_t first_parent = n - m;

  // The parents' chains are walked side by side, one entry of each per round, so that the
  // cache misses of different chains overlap (each chain's next entry is prefetched a round
  // ahead); within a chain the links are decided in chain order, as a walk of it alone would.
  struct Walk {
    PMEMoid* stay;  // the link the next entry that stays is stored into
    PMEMoid* move;  // the link the next entry that moves is stored into
    PMEMoid cur;    // the next entry of the parent's chain to place
  };
  std::vector<uint64_t> ids;
  std::vector<Walk> walks;
  std::vector<uint64_t> active;  // chains not yet walked to their end
  try {
    ids.resize(2 * k);
    walks.resize(k);
    active.resize(k);
  } catch (const std::bad_alloc&) {
    return false;
  }
  size_t nids = 0;
  for (uint64_t i = 0; i < k; ++i) {
    ids[nids++] = (first_parent + i) & (kStripes - 1);
    ids[nids++] = (n + i) & (kStripes - 1);
  }
  std::sort(ids.begin(), ids.end());
  nids = static_cast<size_t>(std::unique(ids.begin(), ids.end()) - ids.begin());
  for (size_t i = 0; i < nids; ++i) stripes_[ids[i]].lock.lock();  // ascending, like Defrag

  // The parents' first entries are random accesses: prefetched together before the walk.
  for (uint64_t i = 0; i < k; ++i) {
    PMEMoid* head = &BucketAt(first_parent + i)->head;
    walks[i] = Walk{head, &BucketAt(n + i)->head, *head};  // the child is empty: never used under the old numbering
    active[i] = i;
    if (!OID_IS_NULL(*head)) __builtin_prefetch(Direct(*head));
  }
  bool ok = true;
  WordStores stores(pop_);  // the split is all stores, committed through the journal
  ok = stores.Set(&root_->bucket_count, n + k);
  for (size_t live = k; ok && live > 0;) {
    size_t kept = 0;
    for (size_t a = 0; ok && a < live; ++a) {
      Walk& w = walks[active[a]];
      if (OID_IS_NULL(w.cur)) {  // the chain's end: both tails end the two chains
        if (!OID_IS_NULL(*w.stay)) ok = stores.SetLink(w.stay, OID_NULL);
        if (ok && !OID_IS_NULL(*w.move)) ok = stores.SetLink(w.move, OID_NULL);
        continue;
      }
      Entry* e = EntryAt(w.cur);
      PMEMoid** tail = BucketOf(e->hash, n + k) == n + active[a] ? &w.move : &w.stay;
      if (!SameOid(**tail, w.cur)) ok = stores.SetLink(*tail, w.cur);
      *tail = &e->next;
      w.cur = e->next;
      if (!OID_IS_NULL(w.cur)) __builtin_prefetch(Direct(w.cur));
      active[kept++] = active[a];
    }
    live = kept;
  }
  ok = ok && stores.Commit(journal_).ok();  // no DRAM for the list or no room to log it: nothing changed
  if (ok) bucket_count_.store(n + k, std::memory_order_release);
  for (size_t i = nids; i-- > 0;) stripes_[ids[i]].lock.unlock();
  return ok;
}

}  // namespace cmap
}  // namespace pmemkv
