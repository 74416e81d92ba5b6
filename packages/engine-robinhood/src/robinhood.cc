#include "robinhood.h"

#include <pmemkv/actions.h>
#include <pmemkv/batch.h>
#include <pmemkv/crash_point.h>
#include <pmemkv/tx.h>

#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "hash.h"

namespace pmemkv {
namespace robinhood {

namespace {

// Slot words are read by lock-free readers while a writer stores them: every access to a word
// that a reader may see is an atomic 8-byte load or store.
inline uint64_t Read(const uint64_t* p) noexcept { return __atomic_load_n(p, __ATOMIC_RELAXED); }
// A hash word, read before the value it publishes (a writer stores the value first).
inline uint64_t ReadPublished(const uint64_t* p) noexcept { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

// A reader waiting for a writer of its shard: spin a little, then give up the time slice (the
// writer may be descheduled; these machines have few cores).
inline void Backoff(unsigned* spins) noexcept {
  if (++*spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  } else {
    sched_yield();
  }
}

// No libpmemobj object lies in the pool's first 4 KiB (its header): an offset below it is damage,
// and an object's allocation header (read by IsObject) lies in the 64 bytes before it.
constexpr uint64_t kPoolHeaderBytes = 4096;

// Walk tokens: 'R', then the next hash to visit as 8 little-endian bytes.
constexpr char kTokenTag = 'R';
constexpr size_t kTokenSize = 9;

std::string EncodeToken(uint64_t t) {
  std::string out(kTokenSize, '\0');
  out[0] = kTokenTag;
  std::memcpy(&out[1], &t, sizeof t);
  return out;
}

Status SizeError(const char* what, size_t n) {
  return Status::InvalidArgument("the robinhood engine takes " + std::string(what) + "s of exactly 8 bytes; this " +
                                 what + " has " + std::to_string(n));
}

Status CheckSizes(Slice key, Slice value) {
  if (key.size() != 8) return SizeError("key", key.size());
  if (value.size() != 8) return SizeError("value", value.size());
  return Status::OK();
}

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Status RobinHood::Open(const Config& config, std::unique_ptr<Engine>* engine) {
  std::unique_ptr<RobinHood> map;
  Status s = OpenEngine(config, &map);
  if (s.ok()) *engine = std::move(map);
  return s;
}

Status RobinHood::OpenEngine(const Config& config, std::unique_ptr<RobinHood>* engine) {
  Options options;
  Status s = ReadOptions(config, &options);
  if (!s.ok()) return s;
  std::unique_ptr<Pool> pool;
  s = Pool::Open(config, kLayoutName, &pool);
  if (!s.ok()) return s;
  std::unique_ptr<RobinHood> map;
  try {
    map.reset(new RobinHood(std::move(pool), options));
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("robinhood: no memory (DRAM) for the engine");
  }
  s = map->Init(options);
  if (s.ok()) *engine = std::move(map);
  return s;
}

RobinHood::RobinHood(std::unique_ptr<Pool> pool, const Options& options)
    : pool_(std::move(pool)), pop_(pool_->get()), base_(reinterpret_cast<char*>(pop_)), load_factor_(options.load_factor) {}

// A fresh pool (root all zeroes) gets its directory in the transaction that sets the magic
// (OpenRoot, layout.h "init"), so a crash leaves a zero root (initialized again) or a whole one.
Status RobinHood::Init(const Options& options) {
  Status s = OpenRoot<Root>(*pool_, "robinhood", kMagic, kLayoutVersion, [&](Root* root) -> Status {
    const size_t bytes = options.shards * sizeof(ShardRecord);
    PMEMoid dir = OID_NULL;
    Status st = TxAlloc(bytes, kTypeDirectory, &dir, /*zero=*/true, pool_->AllocFlags(bytes));
    if (!st.ok())
      return Status(st.code(), "robinhood: no room for the directory of " + std::to_string(options.shards) +
                                   " shards (" + std::to_string(bytes) + " bytes): " + st.message());
    root->shards_number = options.shards;
    root->directory = dir.off;
    return Status::OK();
  }, &root_);
  if (!s.ok()) return s;
  uuid_lo_ = pmemobj_oid(root_).pool_uuid_lo;

  const uint64_t n = root_->shards_number;
  if (n < 1 || n > kMaxShards)
    return DamagedPool(pool_->path(), "robinhood root with a shard count of " + std::to_string(n));
  if (options.shards_given && options.shards != n)
    return Status::InvalidArgument(
        "the robinhood pool at " + pool_->path() + " was created with " + std::to_string(n) +
        " shards (the shard count is fixed at creation), but " + options.shards_source + " is " +
        std::to_string(options.shards) + ": open it with shards_number " + std::to_string(n) +
        ", or give neither config.shards_number nor " + kShardsVariable);
  const PoolSpan span = SpanOf(*pool_);
  if (root_->directory % 8 != 0 || root_->directory < kPoolHeaderBytes ||
      !span.Contains(root_->directory, n * sizeof(ShardRecord)))
    return DamagedPool(pool_->path(), "robinhood shard directory at offset " + Hex(root_->directory) +
                                          " is outside the pool");
  if (!IsObject(root_->directory, kTypeDirectory, n * sizeof(ShardRecord)))
    return DamagedPool(pool_->path(), "robinhood shard directory at offset " + Hex(root_->directory) +
                                          " is not a directory object of " + std::to_string(n) + " shards");
  shards_number_ = n;
  directory_ = reinterpret_cast<ShardRecord*>(base_ + root_->directory);
  try {
    shards_.reset(new Shard[n]);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("robinhood: no memory (DRAM) for " + std::to_string(n) + " shards");
  }
  for (uint64_t i = 0; i < n; i++) {
    s = LoadShard(i);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

// Open-time check of one shard (layout.h T1-T4) after the repair of R1. Every offset is checked
// against the pool before it is followed; every loop is bounded by the table's slot count.
Status RobinHood::LoadShard(uint64_t s) {
  const ShardRecord& rec = RecordOf(s);
  const std::string where = "robinhood shard " + std::to_string(s) + ": ";
  uint64_t count = 0;
  if (rec.zero_present > 1 || (s != 0 && rec.zero_present != 0))
    return DamagedPool(pool_->path(), where + "the all-zero key's record is not 0 or 1");
  if (s == 0) count += rec.zero_present;
  if (rec.table == 0) {
    if (rec.log2 != 0) return DamagedPool(pool_->path(), where + "a table size without a table");
    shards_[s].count.store(count, std::memory_order_relaxed);
    return Status::OK();
  }
  if (rec.log2 < kMinLog2 || rec.log2 > kMaxLog2)
    return DamagedPool(pool_->path(), where + "table of 2^" + std::to_string(rec.log2) + " slots");
  const unsigned log2 = static_cast<unsigned>(rec.log2);
  const PoolSpan span = SpanOf(*pool_);
  if (rec.table % 8 != 0 || rec.table < kPoolHeaderBytes || rec.table >= (uint64_t{1} << 56) ||
      !span.Contains(rec.table, TableBytes(log2)))
    return DamagedPool(pool_->path(), where + "table offset " + Hex(rec.table) + " is outside the pool");
  const auto* header = reinterpret_cast<const TableHeader*>(base_ + rec.table);
  if (!IsObject(rec.table, kTypeTable, TableBytes(log2)) || header->tag != kTableTag || header->shard != s ||
      header->log2 != log2)
    return DamagedPool(pool_->path(), where + "table offset " + Hex(rec.table) + " does not hold this shard's table");

  const uint64_t table = PackTable(rec.table, log2);
  Slot* slots = SlotsOf(table);
  const uint64_t n = TableSlots(log2);
  // R1: at most one adjacent pair of equal hashes, left by an interrupted put or remove.
  uint64_t pairs = 0, pair_at = 0;
  for (uint64_t p = 0; p + 1 < n; p++)
    if (slots[p].hash != 0 && slots[p].hash == slots[p + 1].hash) {
      pairs++;
      pair_at = p;
    }
  if (pairs > 1) return DamagedPool(pool_->path(), where + std::to_string(pairs) + " duplicated entries");
  if (pairs == 1) {
    Status st;
    ShiftLeft(slots, log2, pair_at, Mode::kOrdered, &st);  // the interrupted change, finished or undone (R1)
  }
  uint64_t prev = 0;
  for (uint64_t p = 0; p < n; p++) {
    const uint64_t h = slots[p].hash;
    if (h == 0) continue;
    if (p == n - 1) return DamagedPool(pool_->path(), where + "the table is overfull (its last slot is in use)");
    if (ShardOf(h, shards_number_) != s)
      return DamagedPool(pool_->path(), where + "an entry of shard " + std::to_string(ShardOf(h, shards_number_)));
    const uint64_t home = HomeOf(h, shards_number_, log2);
    if (home > p) return DamagedPool(pool_->path(), where + "an entry before its home slot");
    if (p - home > kMaxDisplacement)
      return DamagedPool(pool_->path(), where + "a probe sequence of " + std::to_string(p - home + 1) +
                                            " slots, longer than " + std::to_string(kMaxDisplacement + 1) +
                                            " (an overfull table)");
    if (h <= prev) return DamagedPool(pool_->path(), where + "entries out of hash order");
    if (p > home && slots[p - 1].hash == 0) return DamagedPool(pool_->path(), where + "a gap in a probe sequence");
    prev = h;
    count++;
  }
  shards_[s].table.store(table, std::memory_order_relaxed);
  shards_[s].count.store(count, std::memory_order_relaxed);
  return Status::OK();
}

bool RobinHood::IsObject(uint64_t off, uint64_t type, size_t bytes) const noexcept {
  const PMEMoid oid{uuid_lo_, off};
  return pmemobj_type_num(oid) == type && pmemobj_alloc_usable_size(oid) >= bytes;
}

void RobinHood::Persist(const void* p, size_t n) const noexcept { pmemobj_persist(pop_, p, n); }

void RobinHood::BeginChange(Shard& sh) noexcept {
  sh.seq.store(sh.seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);  // odd before any of the change
}

void RobinHood::EndChange(Shard& sh) noexcept {
  sh.seq.store(sh.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);  // even after all of it
}

// One store of a mutation: atomic for readers; in kOrdered mode persisted before the next store
// (layout.h "Crash consistency"); in kTx mode covered by the caller's snapshot.
void RobinHood::Store(uint64_t* p, uint64_t v, Mode mode, const char* step) const noexcept {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
  if (mode == Mode::kOrdered) {
    Persist(p, sizeof *p);
    CrashPoint(step);
  }
}

void RobinHood::ShiftLeft(Slot* slots, unsigned log2, uint64_t q, Mode mode, Status* st) {
  // f: the end of q's run, the last of the displaced entries that follow q. The last slot is
  // empty (T2); the slot count bounds the scan even in a damaged table.
  const uint64_t n = TableSlots(log2);
  uint64_t f = q;
  while (f + 1 < n && slots[f + 1].hash != 0 && HomeOf(slots[f + 1].hash, shards_number_, log2) < f + 1) f++;
  if (mode == Mode::kTx) {
    *st = TxAddRange(&slots[q], (f - q + 1) * sizeof(Slot));
    if (!st->ok()) return;
  }
  for (uint64_t i = q; i < f; i++) {
    Store(&slots[i].hash, slots[i + 1].hash, mode, "remove: hash moved left");
    Store(&slots[i].value, slots[i + 1].value, mode, "remove: value moved left");
  }
  Store(&slots[f].hash, uint64_t{0}, mode, "remove: end of the run cleared");
}

Status RobinHood::Put(Slice key, Slice value) {
  Status st = CheckSizes(key, value);
  if (!st.ok()) return st;
  st = CheckOutsideTx();
  if (!st.ok()) return st;
  const uint64_t h = HashKey(LoadWord(key.data()));
  const uint64_t s = ShardOf(h, shards_number_);
  Shard& sh = shards_[s];
  sh.writer.lock();
  st = PutLocked(s, h, LoadWord(value.data()), Mode::kOrdered);
  sh.writer.unlock();
  return st;
}

Status RobinHood::PutLocked(uint64_t s, uint64_t h, uint64_t value, Mode mode) {
  Shard& sh = shards_[s];
  Status st;
  if (h == 0) {  // the all-zero key (layout.h "zero key")
    ShardRecord& rec = RecordOf(0);
    if (mode == Mode::kTx && !(st = TxAddRange(&rec.zero_present, 2 * sizeof(uint64_t))).ok()) return st;
    const bool present = rec.zero_present != 0;
    if (mode == Mode::kOrdered) BeginChange(sh);
    Store(&rec.zero_value, value, mode, "zero key: value stored");
    if (!present) Store(&rec.zero_present, uint64_t{1}, mode, "zero key: present");
    if (mode == Mode::kOrdered) EndChange(sh);
    if (!present) sh.count.store(sh.count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return Status::OK();
  }
  for (;;) {
    const uint64_t table = sh.table.load(std::memory_order_relaxed);
    if (table == 0) {
      if (!(st = Grow(s, kMinLog2, mode)).ok()) return st;
      continue;
    }
    const unsigned log2 = Log2Of(table);
    Slot* slots = SlotsOf(table);
    const uint64_t n = TableSlots(log2);
    const uint64_t home = HomeOf(h, shards_number_, log2);
    const uint64_t end = std::min(n - 1, home + kMaxDisplacement + 1);
    uint64_t p = home;
    for (; p < end; p++) {
      const uint64_t x = slots[p].hash;
      if (x == h) {  // layout.h "update": one 8-byte store
        if (mode == Mode::kTx && !(st = TxAddRange(&slots[p].value, sizeof(uint64_t))).ok()) return st;
        Store(&slots[p].value, value, mode, "update: value stored");
        return Status::OK();
      }
      if (x == 0 || x > h) break;
    }
    // The insert goes to p, moving the run [p, e) one slot right; feasible when every entry
    // stays within kMaxDisplacement of its home and the last slot stays empty (T2).
    bool feasible = p - home <= kMaxDisplacement && p < n - 1;
    uint64_t e = p;
    while (feasible && slots[e].hash != 0) {
      if (e + 1 - HomeOf(slots[e].hash, shards_number_, log2) > kMaxDisplacement || ++e >= n - 1) feasible = false;
    }
    const uint64_t count = sh.count.load(std::memory_order_relaxed);
    const bool over = static_cast<double>(count + 1) > load_factor_ * static_cast<double>(uint64_t{1} << log2);
    if ((over && count >= sh.grow_retry_at) || !feasible) {
      st = log2 < kMaxLog2 ? Grow(s, log2 + 1, mode)
                           : Status::OutOfMemory("robinhood: shard " + std::to_string(s) +
                                                 " has reached the largest table (2^29 slots): use more shards");
      if (st.ok()) continue;
      // No room to grow: a feasible insert still goes in, above the load factor (lookups in
      // this shard get longer, up to kMaxDisplacement + 1 slots); growth is tried again after
      // a sixteenth more entries, or as soon as an insert does not fit.
      if (!feasible || st.code() != Code::kOutOfMemory) return st;
      sh.grow_retry_at = count + (uint64_t{1} << log2) / 16 + 1;
      st = Status::OK();
    }
    if (mode == Mode::kTx && !(st = TxAddRange(&slots[p], (e - p + 1) * sizeof(Slot))).ok()) return st;
    const bool moves = e > p;
    if (moves && mode == Mode::kOrdered) BeginChange(sh);
    for (uint64_t i = e; i > p; i--) {  // layout.h "insert with displacement", from the run's end
      Store(&slots[i].value, slots[i - 1].value, mode, "insert: value moved right");
      Store(&slots[i].hash, slots[i - 1].hash, mode, "insert: hash moved right");
    }
    Store(&slots[p].value, value, mode, "insert: value stored");
    Store(&slots[p].hash, h, mode, "insert: hash stored");  // the key exists from here on
    if (moves && mode == Mode::kOrdered) EndChange(sh);
    sh.count.store(count + 1, std::memory_order_relaxed);
    return Status::OK();
  }
}

Status RobinHood::Remove(Slice key) {
  if (key.size() != 8) return SizeError("key", key.size());
  Status st = CheckOutsideTx();
  if (!st.ok()) return st;
  const uint64_t h = HashKey(LoadWord(key.data()));
  const uint64_t s = ShardOf(h, shards_number_);
  Shard& sh = shards_[s];
  sh.writer.lock();
  st = RemoveLocked(s, h, Mode::kOrdered);
  sh.writer.unlock();
  return st;
}

Status RobinHood::RemoveLocked(uint64_t s, uint64_t h, Mode mode) {
  Shard& sh = shards_[s];
  Status st;
  if (h == 0) {
    ShardRecord& rec = RecordOf(0);
    if (rec.zero_present == 0) return Status::NotFound();
    if (mode == Mode::kTx && !(st = TxAddRange(&rec.zero_present, sizeof(uint64_t))).ok()) return st;
    if (mode == Mode::kOrdered) BeginChange(sh);
    Store(&rec.zero_present, uint64_t{0}, mode, "zero key: removed");
    if (mode == Mode::kOrdered) EndChange(sh);
    sh.count.store(sh.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    return Status::OK();
  }
  const uint64_t table = sh.table.load(std::memory_order_relaxed);
  if (table == 0) return Status::NotFound();
  const unsigned log2 = Log2Of(table);
  Slot* slots = SlotsOf(table);
  const uint64_t n = TableSlots(log2);
  const uint64_t home = HomeOf(h, shards_number_, log2);
  const uint64_t end = std::min(n - 1, home + kMaxDisplacement + 1);
  for (uint64_t q = home; q < end; q++) {
    const uint64_t x = slots[q].hash;
    if (x == h) {
      if (mode == Mode::kOrdered) BeginChange(sh);
      ShiftLeft(slots, log2, q, mode, &st);
      if (mode == Mode::kOrdered) EndChange(sh);
      if (!st.ok()) return st;
      sh.count.store(sh.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
      return Status::OK();
    }
    if (x == 0 || x > h) break;
  }
  return Status::NotFound();
}

// Growth (layout.h "growth"): the entries are copied in hash order, each to the first free slot
// at or after its new home, which keeps T1-T3; a table that would break T2 (a pathological
// cluster) is dropped for the next size up.
Status RobinHood::Grow(uint64_t s, unsigned min_log2, Mode mode) {
  Shard& sh = shards_[s];
  ShardRecord& rec = RecordOf(s);
  const uint64_t old = sh.table.load(std::memory_order_relaxed);
  const Slot* old_slots = old != 0 ? SlotsOf(old) : nullptr;
  const uint64_t old_n = old != 0 ? TableSlots(Log2Of(old)) : 0;
  for (unsigned log2 = std::max(min_log2, kMinLog2); log2 <= kMaxLog2; log2++) {
    const size_t bytes = TableBytes(log2);
    ActionList acts(pop_);
    PMEMoid oid = OID_NULL;
    if (mode == Mode::kOrdered) {
      oid = acts.Reserve(bytes, kTypeTable, pool_->AllocFlags(bytes));
      if (OID_IS_NULL(oid))
        return Status::OutOfMemory("the robinhood pool is full: shard " + std::to_string(s) + " needs " +
                                   std::to_string(bytes) + " bytes to grow its table: remove entries, or create a larger pool (config.size)");
    } else {
      Status st = TxAlloc(bytes, kTypeTable, &oid, /*zero=*/false, pool_->AllocFlags(bytes));
      if (!st.ok()) return st;
    }
    char* object = base_ + oid.off;
    std::memset(object, 0, bytes);
    auto* header = reinterpret_cast<TableHeader*>(object);
    header->tag = kTableTag;
    header->shard = static_cast<uint32_t>(s);
    header->log2 = log2;
    Slot* slots = reinterpret_cast<Slot*>(object + sizeof(TableHeader));
    const uint64_t n = TableSlots(log2);
    bool fits = true;
    for (uint64_t i = 0, next = 0; i < old_n && fits; i++) {
      const uint64_t h = old_slots[i].hash;
      if (h == 0) continue;
      const uint64_t home = HomeOf(h, shards_number_, log2);
      const uint64_t p = std::max(home, next);
      if (p - home > kMaxDisplacement || p >= n - 1) {
        fits = false;
      } else {
        slots[p] = old_slots[i];
        next = p + 1;
      }
    }
    if (!fits) {
      if (mode == Mode::kTx) {
        Status st = TxFree(oid);
        if (!st.ok()) return st;
      }
      continue;  // kOrdered: the reservation is released with `acts`
    }
    Persist(object, bytes);  // durable before it becomes reachable
    CrashPoint("growth: new table written");
    const uint64_t table = PackTable(oid.off, log2);
    if (mode == Mode::kOrdered) {
      if (!acts.Set(&rec.table, oid.off) || !acts.Set(&rec.log2, log2) ||
          (old != 0 && !acts.Free(PMEMoid{uuid_lo_, OffsetOf(old)})))
        return Status::OutOfMemory("robinhood: no memory (DRAM) to grow a table");
      BeginChange(sh);
      Status st = acts.Publish();  // the record and the free of the old table, all or nothing
      if (st.ok()) sh.table.store(table, std::memory_order_release);
      EndChange(sh);
      if (st.ok()) CrashPoint("growth: published");
      return st;
    }
    Status st = TxAddRange(&rec.table, 2 * sizeof(uint64_t));
    if (!st.ok()) return st;
    rec.table = oid.off;
    rec.log2 = log2;
    if (old != 0 && !(st = TxFree(PMEMoid{uuid_lo_, OffsetOf(old)})).ok()) return st;
    sh.table.store(table, std::memory_order_release);
    return Status::OK();
  }
  return Status::OutOfMemory("robinhood: shard " + std::to_string(s) +
                             " cannot hold its keys within the largest table (2^29 slots): use more shards");
}

// Readers (layout.h T1-T3): scan from the home slot until the hash, an empty slot or a larger
// hash, at most kMaxDisplacement + 1 slots, with atomic loads, then check that the shard's
// sequence did not change (a writer moved entries or swapped the table meanwhile: retry). A
// table freed meanwhile is still mapped (it belongs to the pool), so a stale read is harmless
// and always caught by the sequence.
Status RobinHood::Get(Slice key, ValueReceiver& out) {
  if (key.size() != 8) return SizeError("key", key.size());
  const uint64_t h = HashKey(LoadWord(key.data()));
  const uint64_t s = ShardOf(h, shards_number_);
  const Shard& sh = shards_[s];
  const ShardRecord& rec = RecordOf(0);
  bool found;
  uint64_t value = 0;
  for (unsigned spins = 0;;) {
    const uint64_t seq = sh.seq.load(std::memory_order_acquire);
    if (seq & 1) {
      Backoff(&spins);
      continue;
    }
    found = false;
    if (h == 0) {
      found = ReadPublished(&rec.zero_present) == 1;
      if (found) value = Read(&rec.zero_value);
    } else if (const uint64_t table = sh.table.load(std::memory_order_acquire); table != 0) {
      const unsigned log2 = Log2Of(table);
      const Slot* slots = SlotsOf(table);
      const uint64_t home = HomeOf(h, shards_number_, log2);
      const uint64_t end = std::min(TableSlots(log2), home + kMaxDisplacement + 1);
      for (uint64_t p = home; p < end; p++) {
        const uint64_t x = ReadPublished(&slots[p].hash);
        if (x == h) {
          value = Read(&slots[p].value);
          found = true;
          break;
        }
        if (x == 0 || x > h) break;
      }
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (sh.seq.load(std::memory_order_relaxed) == seq) break;
  }
  if (!found) return Status::NotFound();
  char bytes[8];
  StoreWord(bytes, value);
  out.Receive(Slice(bytes, sizeof bytes));
  return Status::OK();
}

Status RobinHood::Exists(Slice key) {
  struct Discard final : ValueReceiver {
    void Receive(Slice) override {}
  } discard;
  return Get(key, discard);
}

Status RobinHood::Count(const KeyRange& range, uint64_t* count) {
  if (!range.IsFull()) return Status::NotSupported("robinhood is unsorted: it counts only all entries");
  uint64_t total = 0;
  for (uint64_t s = 0; s < shards_number_; s++) total += shards_[s].count.load(std::memory_order_relaxed);
  *count = total;
  return Status::OK();
}

Status RobinHood::WalkChunk(Slice from, uint64_t limit, Visitor& visitor, std::string* next, bool* more) {
  uint64_t t = 0;  // the next hash to visit; 0 also stands for the all-zero key
  if (!from.empty()) {
    if (from.size() != kTokenSize || from[0] != kTokenTag)
      return Status::InvalidArgument("robinhood: this walk token was not made by the robinhood engine");
    std::memcpy(&t, from.data() + 1, sizeof t);
  }
  if (limit == 0) limit = 1;
  uint64_t visited = 0;
  try {
    std::vector<Slot> copy;
    for (;;) {
      const uint64_t s = ShardOf(t, shards_number_);
      Shard& sh = shards_[s];
      bool shard_done = true;
      copy.clear();
      {
        SpinWriteGuard guard(sh.writer);  // holds writers of this shard off while copying
        if (t == 0 && RecordOf(0).zero_present == 1) copy.push_back(Slot{0, RecordOf(0).zero_value});
        const uint64_t table = sh.table.load(std::memory_order_relaxed);
        if (table != 0) {
          const unsigned log2 = Log2Of(table);
          const Slot* slots = SlotsOf(table);
          const uint64_t n = TableSlots(log2);
          // Entries with hash >= t sit at or after t's home (T1, T2).
          for (uint64_t p = t == 0 ? 0 : HomeOf(t, shards_number_, log2); p < n; p++) {
            const uint64_t h = slots[p].hash;
            if (h == 0 || h < t) continue;
            if (visited + copy.size() >= limit) {
              shard_done = false;
              break;
            }
            copy.push_back(slots[p]);
          }
        }
      }
      for (const Slot& e : copy) {
        char k[8], v[8];
        StoreWord(k, UnhashKey(e.hash));
        StoreWord(v, e.value);
        visited++;
        if (visitor.Visit(Slice(k, 8), Slice(v, 8))) return Status::StoppedByCallback();
      }
      if (!shard_done) {  // copy is not empty: visited < limit when the shard began
        t = copy.back().hash + 1;
        *more = t != 0;
        if (*more) *next = EncodeToken(t);
        return Status::OK();
      }
      if (s + 1 >= shards_number_) {
        *more = false;
        return Status::OK();
      }
      t = FirstHashOf(s + 1, shards_number_);
      if (visited >= limit) {
        *next = EncodeToken(t);
        *more = true;
        return Status::OK();
      }
    }
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("robinhood: no memory (DRAM) to copy entries during a walk");
  }
}

// Batch (layout.h "batch"): one transaction under the writer locks of every shard involved,
// with those shards' sequences odd until it has committed or rolled back, so no reader sees a
// part of it and no reader follows a table the rollback frees. DRAM state of the shards
// (tables, counts) is saved first and put back if the transaction fails.
Status RobinHood::Batch(const std::vector<BatchOp>& ops) {
  for (size_t i = 0; i < ops.size(); i++) {
    Status st = ops[i].is_put ? CheckSizes(ops[i].key, ops[i].value)
                              : (ops[i].key.size() == 8 ? Status::OK() : SizeError("key", ops[i].key.size()));
    if (!st.ok()) return BatchOpError(i, st);
  }
  if (ops.empty()) return Status::OK();
  Status st;
  std::vector<PlannedOp> plan;
  std::vector<uint64_t> ids;
  std::vector<std::pair<uint64_t, uint64_t>> saved;  // (table, count) per locked shard
  try {
    plan = PlanBatch(ops, [this](Slice key) { return ShardOf(HashKey(LoadWord(key.data())), shards_number_); });
    for (const PlannedOp& p : plan)
      if (ids.empty() || ids.back() != p.lock) ids.push_back(p.lock);  // the plan is sorted by shard
    saved.reserve(ids.size());
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("robinhood: no memory (DRAM) to plan this batch");
  }
  for (uint64_t id : ids) {  // ascending, like every multi-shard locker
    Shard& sh = shards_[id];
    sh.writer.lock();
    BeginChange(sh);
    saved.emplace_back(sh.table.load(std::memory_order_relaxed), sh.count.load(std::memory_order_relaxed));
  }
  st = RunTx(pop_, [&]() -> Status {
    for (const PlannedOp& p : plan) {
      const BatchOp& op = *p.op;
      const uint64_t h = HashKey(LoadWord(op.key.data()));
      Status r = op.is_put ? PutLocked(p.lock, h, LoadWord(op.value.data()), Mode::kTx) : RemoveLocked(p.lock, h, Mode::kTx);
      if (!r.ok() && !r.IsNotFound()) return BatchOpError(p.index, r);
    }
    return Status::OK();
  });
  for (size_t i = ids.size(); i-- > 0;) {
    Shard& sh = shards_[ids[i]];
    if (!st.ok()) {  // the pool is as before the batch: so is DRAM
      sh.table.store(saved[i].first, std::memory_order_relaxed);
      sh.count.store(saved[i].second, std::memory_order_relaxed);
    }
    EndChange(sh);
    sh.writer.unlock();
  }
  return st;
}

}  // namespace robinhood
}  // namespace pmemkv
