// Journal: an engine's own redo log of 8-byte stores, for changes that are many word stores at
// once (a batch's links, a growth step's links and counters) and must be all-or-nothing.
//
// Why not libpmemobj's publish: it persists every applied action on its own. On persistent
// memory that is a cache flush each, but on an ordinary disk every persist is an msync, so a
// batch of 1,000 links cost over 1,000 msyncs. A Journal commit costs three persists whatever
// its size: the records with the header that commits them, the applied stores (on a disk one
// msync over the span they lie in: the kernel writes only the dirty pages), and the cleared
// header.
//
// Persistent format (one object of the engine's type number, its offset in a root field):
//   +---------------+--------------+--------------+----------+------------------------------+
//   | committed u64 | checksum u64 | capacity u64 | spare x5 | records[capacity]: {target,  |
//   |               |              |              |          |  value} u64 pairs             |
//   +---------------+--------------+--------------+----------+------------------------------+
//   committed == n > 0 and checksum == Checksum(records[0, n)): records[0, n) are a whole
//   change whose stores may not all have reached the pool; open applies them again (applying
//   a store twice is the same as once), then clears the header. Any other header means
//   nothing to redo: 0 (no change in flight), or a header whose checksum does not match its
//   records (a commit that a crash interrupted before it was durable, or bytes changed since).
// Commit order (each step persisted before the next starts):
//   1. records[0, n), then committed = n and their checksum, persisted together: the commit
//      point is the moment all of it is durable (a crash before leaves a checksum that does
//      not match, whichever lines reached the pool)
//   2. every *target = value             a crash here: open redoes all of them
//   3. committed = 0, checksum = 0
// A record's target must be an 8-byte-aligned word of the pool that only the engine writes,
// and nothing may read the targets' new values before step 1 is durable except under the
// engine's own locks (the stores are made while the engine holds them).
//
// Threads: Commit may be called from any thread; commits of one Journal take turns (a lock
// held for the three persists).
//
// WordStores (below) is how an engine uses it: the 8-byte stores of a change are gathered in
// DRAM, then committed through the journal, or, when the change also allocates or frees (an
// ActionList that is not empty) or does not fit, as set-value actions of one publish.
#pragma once

#include <libpmem.h>
#include <libpmemobj.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "actions.h"
#include "locks.h"
#include "root.h"
#include "status.h"
#include "tx.h"

namespace pmemkv {

// Persists byte ranges of one pool at the lowest cost of its medium: on persistent memory
// (or PMEM_IS_PMEM_FORCE) a cache flush per range and one fence; otherwise one msync over the
// span from the lowest to the highest byte (one system call however many ranges: the kernel
// writes back only the pages that are dirty).
class RangePersister {
 public:
  RangePersister(PMEMobjpool* pop, bool is_pmem) noexcept : pop_(pop), is_pmem_(is_pmem) {}

  // Whether the pool's mapping is persistent memory to libpmem (what libpmemobj also uses).
  static bool MappingIsPmem(PMEMobjpool* pop, uint64_t pool_size) noexcept {
    return pmem_is_pmem(pop, pool_size != 0 ? pool_size : 4096) != 0;
  }

  void Add(const void* p, size_t n) noexcept {
    if (n == 0) return;
    const char* c = static_cast<const char*>(p);
    if (is_pmem_) {
      pmemobj_flush(pop_, c, n);
    } else {
      lo_ = lo_ == nullptr ? c : std::min(lo_, c);
      hi_ = std::max(hi_, c + n);
    }
  }
  // Every range added since the last Persist is durable when this returns.
  void Persist() noexcept {
    if (is_pmem_) {
      pmemobj_drain(pop_);
    } else if (lo_ != nullptr) {
      pmemobj_persist(pop_, lo_, static_cast<size_t>(hi_ - lo_));
    }
    lo_ = hi_ = nullptr;
  }

 private:
  PMEMobjpool* const pop_;
  const bool is_pmem_;
  const char* lo_ = nullptr;
  const char* hi_ = nullptr;
};

class Journal {
 public:
  struct Record {
    uint64_t target;  // pool offset of the word
    uint64_t value;
  };
  struct Area {
    uint64_t committed;
    uint64_t checksum;  // Checksum(records, committed) while committed != 0
    uint64_t capacity;  // records the object holds; set when it is allocated, never changed
    uint64_t spare[5];
    Record records[1];  // [capacity] in the pool
  };
  static constexpr size_t kHeaderBytes = 64;

  // A 64-bit checksum of n records and of n itself (persistent format: never change it). Any
  // one changed bit, and records swapped, moved or cut short, give another value.
  static uint64_t Checksum(const Record* records, uint64_t n) noexcept {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (uint64_t i = 0; i < n; ++i) {
      h = Mix(h ^ records[i].target);
      h = Mix(h ^ records[i].value);
    }
    return Mix(h);
  }

  Journal(PMEMobjpool* pop, bool is_pmem) noexcept : pop_(pop), base_(reinterpret_cast<char*>(pop)), is_pmem_(is_pmem) {}
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Opens the journal whose offset is *slot (a root field of the engine), allocating one of
  // `capacity` records in a transaction that also sets *slot when there is none yet, and redoes
  // a committed change left by a crash. A slot or record pointing outside `span` is refused as
  // damage before anything is written. `engine` names the engine in messages.
  Status Open(uint64_t* slot, uint64_t type_num, uint64_t capacity, uint64_t alloc_flags, const PoolSpan& span,
              const std::string& path, const char* engine) {
    if (*slot == 0) {
      const size_t bytes = kHeaderBytes + capacity * sizeof(Record);
      Status s = RunTx(pop_, [&]() -> Status {
        PMEMoid oid = OID_NULL;
        Status st = TxAlloc(bytes, type_num, &oid, /*zero=*/true, alloc_flags);
        if (!st.ok()) return st;
        reinterpret_cast<Area*>(base_ + oid.off)->capacity = capacity;  // a new object: no snapshot needed
        st = TxAddRange(slot, sizeof *slot);
        if (st.ok()) *slot = oid.off;
        return st;
      });
      if (!s.ok()) return s;
    }
    const uint64_t off = *slot;
    if (off % 8 != 0 || !span.Contains(off, kHeaderBytes))
      return DamagedPool(path, std::string(engine) + " journal at offset " + std::to_string(off) + " lies outside the pool");
    area_ = reinterpret_cast<Area*>(base_ + off);
    const uint64_t cap = area_->capacity;
    if (cap == 0 || cap > span.size() / sizeof(Record) || !span.Contains(off + kHeaderBytes, cap * sizeof(Record)))
      return DamagedPool(path, std::string(engine) + " journal at offset " + std::to_string(off) + " has a capacity of " +
                                   std::to_string(cap) + " records, which no journal in this pool can have");
    capacity_ = cap;
    const uint64_t n = area_->committed;
    if (n == 0) return Status::OK();
    if (n > capacity_)
      return DamagedPool(path, std::string(engine) + " journal holds " + std::to_string(n) + " records, more than its " +
                                   std::to_string(capacity_));
    if (area_->checksum != Checksum(area_->records, n)) {
      // Not a durable commit (see the header comment): there is nothing to redo.
      Clear();
      return Status::OK();
    }
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t t = area_->records[i].target;
      if (t % 8 != 0 || !span.Contains(t, 8) || (t >= off && t - off < kHeaderBytes + cap * sizeof(Record)))
        return DamagedPool(path, std::string(engine) + " journal record " + std::to_string(i) + " targets offset " +
                                     std::to_string(t) + ", outside the pool or inside the journal");
    }
    n_ = n;
    Apply();
    return Status::OK();
  }

  uint64_t capacity() const noexcept { return capacity_; }

  // Makes the stores records[0, n) (targets as pool offsets), all or none across a crash,
  // durable when it returns (order in the header comment). Stores to one target apply in
  // order: the last wins. REQUIRES: n <= capacity(); whatever the new values point to is
  // already durable.
  void Commit(const Record* records, size_t n) noexcept {
    if (n == 0) return;
    WriteLockGuardOf<RwLock> turn(lock_);
    std::copy(records, records + n, area_->records);
    area_->checksum = Checksum(records, n);
    __atomic_store_n(&area_->committed, uint64_t{n}, __ATOMIC_RELEASE);
    pmemobj_persist(pop_, area_, kHeaderBytes + n * sizeof(Record));  // the commit point
    n_ = n;
    Apply();
  }

 private:
  void Apply() noexcept {
    RangePersister persist(pop_, is_pmem_);
    for (uint64_t i = 0; i < n_; ++i) {
      uint64_t* word = reinterpret_cast<uint64_t*>(base_ + area_->records[i].target);
      __atomic_store_n(word, area_->records[i].value, __ATOMIC_RELEASE);
      persist.Add(word, sizeof *word);
    }
    persist.Persist();
    Clear();
    n_ = 0;
  }

  // Header back to "nothing to redo", persisted.
  void Clear() noexcept {
    __atomic_store_n(&area_->committed, uint64_t{0}, __ATOMIC_RELEASE);
    area_->checksum = 0;
    pmemobj_persist(pop_, area_, 2 * sizeof(uint64_t));
  }

  static uint64_t Mix(uint64_t x) noexcept {  // a 64-bit finalizer (splitmix64's)
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  }

  PMEMobjpool* const pop_;
  char* const base_;
  const bool is_pmem_;
  Area* area_ = nullptr;
  uint64_t capacity_ = 0;
  uint64_t n_ = 0;  // records being applied
  RwLock lock_;
};

// Points `link` at `target` durably in one 8-byte step, for a change that is that one store:
// the offset is stored and persisted; when the link holds another pool uuid (a link never set
// holds zero), the uuid is stored and persisted first, while the offset still says what the
// link pointed to. A null target clears only the offset (OID_IS_NULL looks at the offset
// alone). The same rule as ActionList::SetLink and WordStores::SetLink, without a log.
// REQUIRES: the caller's locks exclude readers of the link; the target is already durable.
inline void PersistLink(PMEMobjpool* pop, PMEMoid* link, const PMEMoid& target) noexcept {
  if (!OID_IS_NULL(target) && link->pool_uuid_lo != target.pool_uuid_lo) {
    link->pool_uuid_lo = target.pool_uuid_lo;
    pmemobj_persist(pop, &link->pool_uuid_lo, sizeof link->pool_uuid_lo);
  }
  __atomic_store_n(&link->off, target.off, __ATOMIC_RELEASE);
  pmemobj_persist(pop, &link->off, sizeof link->off);
}

// The 8-byte stores of one change, gathered in DRAM and committed together (see Journal).
class WordStores {
 public:
  explicit WordStores(PMEMobjpool* pop) noexcept : base_(reinterpret_cast<char*>(pop)) {}

  // At commit, *target = value. false when DRAM ran out (nothing is committed then).
  bool Set(uint64_t* target, uint64_t value) noexcept {
    try {
      records_.push_back({static_cast<uint64_t>(reinterpret_cast<char*>(target) - base_), value});
      return true;
    } catch (const std::bad_alloc&) {
      return false;
    }
  }
  // At commit, `link` points at `target`, as ActionList::SetLink.
  bool SetLink(PMEMoid* link, const PMEMoid& target) noexcept {
    if (!OID_IS_NULL(target) && link->pool_uuid_lo != target.pool_uuid_lo && !Set(&link->pool_uuid_lo, target.pool_uuid_lo))
      return false;
    return Set(&link->off, target.off);
  }

  // Commits the stores: through `journal` when `acts` holds nothing and they fit, else as
  // set-value actions of acts' publish (with whatever acts holds). Errors as
  // ActionList::Publish; the stores are forgotten either way.
  Status Commit(Journal& journal, ActionList& acts) noexcept {
    if (acts.size() == 0 && records_.size() <= journal.capacity()) {
      journal.Commit(records_.data(), records_.size());
      records_.clear();
      return Status::OK();
    }
    for (const Journal::Record& r : records_)
      if (!acts.Set(reinterpret_cast<uint64_t*>(base_ + r.target), r.value)) {
        acts.Cancel();
        records_.clear();
        return Status::OutOfMemory("no memory (DRAM) for the actions of this change");
      }
    records_.clear();
    return acts.Publish();
  }

 private:
  char* const base_;
  std::vector<Journal::Record> records_;
};

}  // namespace pmemkv
