// Journal: an engine's own redo log of 8-byte stores, for changes that are many word stores at
// once (a batch's links, a growth step's links and counters) and must be all-or-nothing, and
// for any change that should cost one persist on an ordinary disk.
//
// Why not libpmemobj's publish: it persists every applied action on its own. On persistent
// memory that is a cache flush each, but on an ordinary disk every persist is an msync, so a
// batch of 1,000 links cost over 1,000 msyncs.
//
// A commit appends one block to the log: its records (target, value) and the byte ranges (the
// "payload": what the stores make reachable, written by the engine beforehand) that must be
// durable with them. One persist makes the block durable: that is the commit point. Then the
// stores are made in the mapping and flushed without waiting; the log keeps them until a
// checkpoint, which waits until every store made since the last checkpoint is durable and then
// empties the log (one persisted header word). So, per commit:
//   disk   one msync (payload and block together: the payload checksum below tells a block
//          whose payload did not all reach the disk), plus a checkpoint every time the log
//          fills (two msyncs: the stores' span, the header word)
//   pmem   two fences (payload, then block); the stores' flushes are fenced by the next one
// With checkpoints kEveryCommit (the default) each commit also checkpoints at once (one more
// persist for the stores and one for the header word): engines that make their own direct
// stores need nothing more. With kWhenFull the engine owns an obligation instead: before it
// writes a word that a commit may have targeted, or frees memory that a commit may have
// targeted, by any other means (a direct persisted store, an allocator publish or free,
// defrag), it calls Checkpoint(); otherwise a crash would redo an older commit's store over
// the newer value, or into memory that has been reused. Checkpoint() is one atomic load when
// the log is empty. WordStores::Commit keeps the obligation itself when it publishes.
//
// Persistent format (one object of the engine's type number, its offset in a root field;
// format 2, marked by kFormat):
//   +------------+------------+--------------+--------------+---------------+----------+
//   | legacy u64 | legacy u64 | capacity u64 | format u64   | first_seq u64 | spare x3 |
//   +------------+------------+--------------+--------------+---------------+----------+
//   | slots[capacity]: 16-byte slots {u64, u64}                                        |
//   +----------------------------------------------------------------------------------+
//   A block at slot p, written only while no block of the log lies at or after p:
//     {seq, n << 32 | m}  {records checksum, payload checksum}  {off, len} x m  {target, value} x n
//   The log is the chain of blocks from slot 0 whose seqs are first_seq, first_seq + 1, ...,
//   each starting where the one before ends, as long as each block's records checksum
//   (RecordsChecksum: seq, n, m, the descriptors and the records) matches. A block torn by a
//   crash, or one left from before the last checkpoint (its seq is lower), ends the chain.
//   The payload checksum is checked for the last block of the chain only: blocks are written
//   one after another, each once the one before is durable, so a later block proves the one
//   before it was whole, while the earlier block's payload may since have been released and
//   its space reused. A payload checksum of 0: the payload was durable before the block was
//   written (persistent memory: a fence orders it).
//   The legacy words are format 1's header (commit count and checksum, records from slot 0):
//   open redoes a format 1 commit still in flight, then marks the journal format 2.
// Commit order (each step durable before the next starts):
//   1. payload (pmem only; on a disk it goes with step 2)
//   2. the block: the commit point
//   3. every *target = value, flushed, not waited for   a crash here: open redoes the chain
//   checkpoint: every store since the last checkpoint durable, then first_seq = the next seq
//   (the log starts again at slot 0)
// A record's target must be an 8-byte-aligned word of the pool that only the engine writes,
// and nothing may read the targets' new values before step 2 is durable except under the
// engine's own locks (the stores are made while the engine holds them).
//
// Threads: Commit and Checkpoint may be called from any thread; they take turns (a lock held
// for the persists).
//
// WordStores (below) is how an engine uses it: the 8-byte stores of a change and its payload
// are gathered in DRAM, then committed through the journal, or, when the change also
// allocates or frees (an ActionList that is not empty) or does not fit, as set-value actions
// of one publish.
#pragma once

#include <libpmem.h>
#include <libpmemobj.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
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
  // Forgets the ranges added since the last Persist, for a caller that makes them durable by
  // other means (a journal commit's payload). On persistent memory their flushes were issued
  // already and are fenced by the next Persist or commit.
  void Discard() noexcept { lo_ = hi_ = nullptr; }
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
  // When a commit's stores are made durable: at once (the engine writes the targets by other
  // means too, without calling Checkpoint), or when the log fills or Checkpoint is called.
  enum Checkpoints { kEveryCommit, kWhenFull };

  // One 16-byte slot of the log: a record {target, value}, a payload descriptor {off, len} or
  // half of a block header.
  struct Record {
    uint64_t target;  // pool offset of the word
    uint64_t value;
  };
  // A byte range of the pool that a commit needs durable (pool offsets).
  struct Range {
    uint64_t off;
    uint64_t len;
  };
  struct Area {
    uint64_t legacy_committed;  // format 1's commit count; 0 in format 2
    uint64_t legacy_checksum;   // format 1's checksum
    uint64_t capacity;          // slots the object holds; set when it is allocated, never changed
    uint64_t format;            // kFormat
    uint64_t first_seq;         // seq of the block at slot 0 that starts the log
    uint64_t spare[3];
    Record records[1];  // [capacity] slots in the pool
  };
  static constexpr size_t kHeaderBytes = 64;
  static constexpr uint64_t kFormat = 0x324C4E524A4B4D50ull;  // "PMKJRNL2" little-endian
  static constexpr size_t kBlockHeaderSlots = 2;

  // Format 1's checksum of n records and of n itself (persistent format: never change it).
  static uint64_t Checksum(const Record* records, uint64_t n) noexcept {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (uint64_t i = 0; i < n; ++i) {
      h = Mix(h ^ records[i].target);
      h = Mix(h ^ records[i].value);
    }
    return Mix(h);
  }
  // A block's records checksum: its seq, n, m and its m + n slots after the header
  // (persistent format: never change it). Any one changed bit, and slots swapped, moved or
  // cut short, give another value.
  static uint64_t RecordsChecksum(uint64_t seq, uint64_t n, uint64_t m, const Record* body) noexcept {
    uint64_t h = Mix(0xC2B2AE3D27D4EB4Full ^ seq);
    h = Mix(h ^ (n << 32 | m));
    for (uint64_t i = 0; i < m + n; ++i) {
      h = Mix(h ^ body[i].target);
      h = Mix(h ^ body[i].value);
    }
    return Mix(h);
  }
  // A block's payload checksum: the ranges' offsets, lengths and bytes; never 0 (persistent
  // format: never change it). REQUIRES: every range lies inside the mapping at `base`.
  static uint64_t PayloadChecksum(const char* base, const Range* ranges, uint64_t m) noexcept {
    uint64_t h = 0x165667B19E3779F9ull;
    for (uint64_t i = 0; i < m; ++i) {
      h = Mix(h ^ ranges[i].off);
      h = Mix(h ^ ranges[i].len);
      const char* p = base + ranges[i].off;
      uint64_t left = ranges[i].len;
      for (; left >= 8; left -= 8, p += 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        h = Mix(h ^ w);
      }
      if (left != 0) {
        uint64_t w = 0;
        std::memcpy(&w, p, left);
        h = Mix(h ^ w ^ (left << 56));
      }
    }
    h = Mix(h);
    return h != 0 ? h : 1;
  }

  Journal(PMEMobjpool* pop, bool is_pmem, Checkpoints checkpoints = kEveryCommit) noexcept
      : pop_(pop), base_(reinterpret_cast<char*>(pop)), is_pmem_(is_pmem), lazy_(checkpoints == kWhenFull) {}
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Opens the journal whose offset is *slot (a root field of the engine), allocating one of
  // `capacity` slots in a transaction that also sets *slot when there is none yet, and redoes
  // the commits a crash left in it (format 1's too, after which it is marked format 2). A
  // slot, block or record pointing outside `span` is refused as damage before anything is
  // written. `engine` names the engine in messages. Leaves the log empty.
  Status Open(uint64_t* slot, uint64_t type_num, uint64_t capacity, uint64_t alloc_flags, const PoolSpan& span,
              const std::string& path, const char* engine) {
    if (*slot == 0) {
      const size_t bytes = kHeaderBytes + capacity * sizeof(Record);
      Status s = RunTx(pop_, [&]() -> Status {
        PMEMoid oid = OID_NULL;
        Status st = TxAlloc(bytes, type_num, &oid, /*zero=*/true, alloc_flags);
        if (!st.ok()) return st;
        Area* fresh = reinterpret_cast<Area*>(base_ + oid.off);  // a new object: no snapshot needed
        fresh->capacity = capacity;
        fresh->format = kFormat;
        fresh->first_seq = 1;
        st = TxAddRange(slot, sizeof *slot);
        if (st.ok()) *slot = oid.off;
        return st;
      });
      if (!s.ok()) return s;
    }
    const std::string who = std::string(engine) + " journal at offset " + std::to_string(*slot);
    const uint64_t off = *slot;
    if (off % 8 != 0 || !span.Contains(off, kHeaderBytes)) return DamagedPool(path, who + " lies outside the pool");
    area_ = reinterpret_cast<Area*>(base_ + off);
    const uint64_t cap = area_->capacity;
    if (cap <= kBlockHeaderSlots || cap >= (uint64_t{1} << 32) || cap > span.size() / sizeof(Record) ||
        !span.Contains(off + kHeaderBytes, cap * sizeof(Record)))
      return DamagedPool(path, who + " has a capacity of " + std::to_string(cap) + " slots, which no journal in this pool can have");
    capacity_ = cap;
    const auto outside = [&](uint64_t t) {
      return t % 8 != 0 || !span.Contains(t, 8) || (t >= off && t - off < kHeaderBytes + cap * sizeof(Record));
    };
    if (area_->legacy_committed != 0) {
      Status s = RedoLegacy(outside, path, who);
      if (!s.ok()) return s;
    }
    if (area_->format != kFormat) {
      area_->first_seq = 1;
      area_->format = kFormat;
      pmemobj_persist(pop_, &area_->format, 2 * sizeof(uint64_t));
    }
    if (area_->first_seq == 0) return DamagedPool(path, who + " starts its log at sequence number 0, which no log has");
    return Redo(span, outside, path, who);
  }

  // Records one commit can hold with m payload ranges.
  uint64_t capacity() const noexcept { return capacity_ - kBlockHeaderSlots; }
  bool Fits(size_t n, size_t m) const noexcept { return kBlockHeaderSlots + m + n <= capacity_; }

  // Makes the stores records[0, n) (targets as pool offsets) and the bytes of payload[0, m),
  // all or none across a crash, durable when it returns (order in the header comment). Stores
  // to one target apply in order: the last wins. REQUIRES: Fits(n, m); the payload's ranges
  // lie in the pool and hold what the stores point to (already written); the targets lie in
  // the pool, outside the journal.
  void Commit(const Record* records, size_t n, const Range* payload = nullptr, size_t m = 0) noexcept {
    if (n == 0) {  // nothing to log: the payload is simply made durable
      RangePersister persist(pop_, is_pmem_);
      for (size_t i = 0; i < m; ++i) persist.Add(base_ + payload[i].off, payload[i].len);
      persist.Persist();
      return;
    }
    WriteLockGuardOf<RwLock> turn(lock_);
    if (pos_ + kBlockHeaderSlots + m + n > capacity_) CheckpointLocked();
    Record* block = area_->records + pos_;
    Record* body = block + kBlockHeaderSlots;
    for (size_t i = 0; i < m; ++i) body[i] = Record{payload[i].off, payload[i].len};
    std::copy(records, records + n, body + m);
    block[0] = Record{seq_, uint64_t{n} << 32 | m};
    uint64_t payload_sum = 0;
    RangePersister persist(pop_, is_pmem_);
    for (size_t i = 0; i < m; ++i) persist.Add(base_ + payload[i].off, payload[i].len);
    if (is_pmem_)
      persist.Persist();  // step 1: the payload, fenced before the block
    else
      payload_sum = PayloadChecksum(base_, payload, m);  // one msync for payload and block
    block[1] = Record{RecordsChecksum(seq_, n, m, body), payload_sum};
    persist.Add(block, (kBlockHeaderSlots + m + n) * sizeof(Record));
    persist.Persist();  // step 2: the commit point
    pos_ += kBlockHeaderSlots + m + n;
    ++seq_;
    for (size_t i = 0; i < n; ++i) Store(records[i]);
    pending_.store(true, std::memory_order_release);
    if (!lazy_) CheckpointLocked();
  }

  // Every committed store durable and the log empty. REQUIRES (kWhenFull): called before the
  // engine writes, by any means but the journal, a word a commit may have targeted, or frees
  // memory one may have targeted. Cheap when the log is empty.
  void Checkpoint() noexcept {
    if (!pending_.load(std::memory_order_acquire)) return;
    WriteLockGuardOf<RwLock> turn(lock_);
    CheckpointLocked();
  }

 private:
  // Makes one store and flushes it (pmem) or adds it to the span the checkpoint persists.
  void Store(const Record& r) noexcept {
    uint64_t* word = reinterpret_cast<uint64_t*>(base_ + r.target);
    __atomic_store_n(word, r.value, __ATOMIC_RELEASE);
    if (is_pmem_) {
      pmemobj_flush(pop_, word, sizeof *word);
    } else {
      const char* c = reinterpret_cast<const char*>(word);
      lo_ = lo_ == nullptr ? c : std::min(lo_, c);
      hi_ = std::max(hi_, c + sizeof *word);
    }
  }

  // REQUIRES: lock_ held (or the journal not yet shared: Open).
  void CheckpointLocked() noexcept {
    if (!pending_.load(std::memory_order_relaxed)) return;
    if (is_pmem_)
      pmemobj_drain(pop_);
    else if (lo_ != nullptr)
      pmemobj_persist(pop_, lo_, static_cast<size_t>(hi_ - lo_));
    lo_ = hi_ = nullptr;
    __atomic_store_n(&area_->first_seq, seq_, __ATOMIC_RELEASE);
    pmemobj_persist(pop_, &area_->first_seq, sizeof area_->first_seq);
    pos_ = 0;
    pending_.store(false, std::memory_order_release);
  }

  // Walks the chain of blocks from slot 0 (at most capacity_ blocks: each takes a slot or
  // more), checks every target of every block and the last block's payload ranges before any
  // store, then redoes the blocks in order and checkpoints. A last block whose payload does
  // not match its checksum never committed (its payload did not all reach the disk).
  template <class Outside>
  Status Redo(const PoolSpan& span, const Outside& outside, const std::string& path, const std::string& who) {
    struct Block {
      uint64_t pos, n, m;
    };
    std::vector<Block> chain;
    uint64_t seq = area_->first_seq, pos = 0;
    try {
      while (pos + kBlockHeaderSlots <= capacity_ && seq != 0) {
        const Record* block = area_->records + pos;
        if (block[0].target != seq) break;
        const uint64_t n = block[0].value >> 32, m = block[0].value & 0xFFFFFFFFull;
        if (n == 0 || kBlockHeaderSlots + m + n > capacity_ - pos) break;
        if (block[1].target != RecordsChecksum(seq, n, m, block + kBlockHeaderSlots)) break;
        chain.push_back({pos, n, m});
        pos += kBlockHeaderSlots + m + n;
        ++seq;
      }
    } catch (const std::bad_alloc&) {
      return Status::OutOfMemory(who + ": no memory (DRAM) to read its log");
    }
    for (size_t b = 0; b < chain.size(); ++b) {
      const Record* body = area_->records + chain[b].pos + kBlockHeaderSlots;
      for (uint64_t i = 0; i < chain[b].n; ++i) {
        const uint64_t t = body[chain[b].m + i].target;
        if (outside(t))
          return DamagedPool(path, who + ": record " + std::to_string(i) + " of the commit at slot " +
                                       std::to_string(chain[b].pos) + " targets offset " + std::to_string(t) +
                                       ", outside the pool or inside the journal");
      }
    }
    if (!chain.empty()) {
      const Block& last = chain.back();
      const Record* block = area_->records + last.pos;
      if (block[1].value != 0) {
        const Range* ranges = reinterpret_cast<const Range*>(block + kBlockHeaderSlots);
        for (uint64_t i = 0; i < last.m; ++i)
          if (!span.Contains(ranges[i].off, ranges[i].len))
            return DamagedPool(path, who + ": the commit at slot " + std::to_string(last.pos) +
                                         " needs bytes outside the pool (offset " + std::to_string(ranges[i].off) + ")");
        if (PayloadChecksum(base_, ranges, last.m) != block[1].value) chain.pop_back();
      }
    }
    for (const Block& b : chain) {
      const Record* body = area_->records + b.pos + kBlockHeaderSlots + b.m;
      for (uint64_t i = 0; i < b.n; ++i) Store(body[i]);
    }
    // The next commits start again at slot 0 with a seq past every block read here, so that
    // no block left in the log (a torn one included) can join their chain.
    seq_ = seq + 1;
    pending_.store(true, std::memory_order_relaxed);
    CheckpointLocked();
    return Status::OK();
  }

  // A format 1 commit in flight: redone when its checksum matches (else it never committed),
  // refused as damage when it is larger than the journal or targets words outside the pool.
  template <class Outside>
  Status RedoLegacy(const Outside& outside, const std::string& path, const std::string& who) {
    const uint64_t n = area_->legacy_committed;
    if (n > capacity_)
      return DamagedPool(path, who + " holds " + std::to_string(n) + " records, more than its " + std::to_string(capacity_));
    if (area_->legacy_checksum == Checksum(area_->records, n)) {
      for (uint64_t i = 0; i < n; ++i) {
        const uint64_t t = area_->records[i].target;
        if (outside(t))
          return DamagedPool(path, who + " record " + std::to_string(i) + " targets offset " + std::to_string(t) +
                                       ", outside the pool or inside the journal");
      }
      RangePersister persist(pop_, is_pmem_);
      for (uint64_t i = 0; i < n; ++i) {
        uint64_t* word = reinterpret_cast<uint64_t*>(base_ + area_->records[i].target);
        __atomic_store_n(word, area_->records[i].value, __ATOMIC_RELEASE);
        persist.Add(word, sizeof *word);
      }
      persist.Persist();
    }
    __atomic_store_n(&area_->legacy_committed, uint64_t{0}, __ATOMIC_RELEASE);
    area_->legacy_checksum = 0;
    pmemobj_persist(pop_, area_, 2 * sizeof(uint64_t));
    // Format 1's records occupied the log's slots: a new seq keeps them out of any chain.
    if (area_->format == kFormat) {
      area_->first_seq += uint64_t{1} << 32;
      pmemobj_persist(pop_, &area_->first_seq, sizeof area_->first_seq);
    }
    return Status::OK();
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
  const bool lazy_;
  Area* area_ = nullptr;
  uint64_t capacity_ = 0;
  // GUARDED_BY(lock_):
  uint64_t pos_ = 0;                                   // the slot the next block starts at
  uint64_t seq_ = 1;                                   // the next block's seq
  const char* lo_ = nullptr;                           // disk: span of the stores since the
  const char* hi_ = nullptr;                           //   last checkpoint
  std::atomic<bool> pending_{false};  // a commit since the last checkpoint (written under lock_)
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

// PersistLink through `journal`: points `link` at `target` and makes [payload, payload + n)
// (the record `target` names, written and not persisted) durable in one commit, for a medium
// where a commit (one msync on a disk) is cheaper than a persist of the record followed by
// one of the link. Allocates nothing. REQUIRES: the caller's locks exclude readers of the
// link; the journal holds at least 3 records beside one payload range.
inline void CommitLink(Journal& journal, PMEMobjpool* pop, PMEMoid* link, const PMEMoid& target, const void* payload,
                       size_t n) noexcept {
  const char* base = reinterpret_cast<const char*>(pop);
  Journal::Record records[2];
  size_t k = 0;
  if (!OID_IS_NULL(target) && link->pool_uuid_lo != target.pool_uuid_lo)
    records[k++] = {static_cast<uint64_t>(reinterpret_cast<const char*>(&link->pool_uuid_lo) - base), target.pool_uuid_lo};
  records[k++] = {static_cast<uint64_t>(reinterpret_cast<const char*>(&link->off) - base), target.off};
  const bool with_payload = payload != nullptr && n != 0;
  const Journal::Range range{with_payload ? static_cast<uint64_t>(static_cast<const char*>(payload) - base) : 0, n};
  journal.Commit(records, k, &range, with_payload ? 1 : 0);
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

  // At commit, the bytes [p, p + n) of the pool are durable (a record the stores make
  // reachable: written before the commit, not persisted by the caller). A range that starts
  // where the last one ends extends it. false when DRAM ran out.
  bool AddPayload(const void* p, size_t n) noexcept {
    if (n == 0) return true;
    const uint64_t off = static_cast<uint64_t>(static_cast<const char*>(p) - base_);
    if (!payload_.empty() && payload_.back().off + payload_.back().len == off) {
      payload_.back().len += n;
      return true;
    }
    try {
      payload_.push_back({off, n});
      return true;
    } catch (const std::bad_alloc&) {
      return false;
    }
  }

  // Room for n stores and m payload ranges, so that adding that many later cannot run out of
  // DRAM. false when DRAM ran out now.
  bool Reserve(size_t n, size_t m) noexcept {
    try {
      records_.reserve(n);
      payload_.reserve(m);
      return true;
    } catch (const std::bad_alloc&) {
      return false;
    }
  }
  // What Commit would log: stores, and payload ranges (adjacent ranges counted once).
  size_t stores() const noexcept { return records_.size(); }
  size_t payload_ranges() const noexcept { return payload_.size(); }

  // Commits the payload and the stores: through `journal` when `acts` holds nothing and they
  // fit, else the payload is persisted, the journal checkpointed (a publish stores into the
  // targets directly) and the stores become set-value actions of acts' publish (with whatever
  // acts holds). Errors as ActionList::Publish; the stores are forgotten either way.
  Status Commit(Journal& journal, ActionList& acts) noexcept {
    struct Forget {
      WordStores& w;
      ~Forget() {
        w.records_.clear();
        w.payload_.clear();
      }
    } forget{*this};
    if (acts.size() == 0 && journal.Fits(records_.size(), payload_.size())) {
      journal.Commit(records_.data(), records_.size(), payload_.data(), payload_.size());
      return Status::OK();
    }
    journal.Commit(nullptr, 0, payload_.data(), payload_.size());  // persists the payload alone
    journal.Checkpoint();
    for (const Journal::Record& r : records_)
      if (!acts.Set(reinterpret_cast<uint64_t*>(base_ + r.target), r.value)) {
        acts.Cancel();
        return Status::OutOfMemory("no memory (DRAM) for the actions of this change");
      }
    return acts.Publish();
  }

  // Commit with no allocation or free beside the stores: through the journal when they fit
  // (then it cannot fail), else as one publish of set-value actions.
  Status Commit(Journal& journal) noexcept {
    ActionList none(reinterpret_cast<PMEMobjpool*>(base_));
    return Commit(journal, none);
  }

 private:
  char* const base_;
  std::vector<Journal::Record> records_;
  std::vector<Journal::Range> payload_;
};

}  // namespace pmemkv
