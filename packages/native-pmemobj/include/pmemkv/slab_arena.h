// SlabArena: an engine's small persistent records packed into slabs (large libpmemobj objects
// of one type number), so that writing a record costs no allocator publish: a record is
// carved from the current slab by a DRAM bump pointer, written and persisted by the engine
// while it is unreachable, and made reachable by one 8-byte store of the engine's (for a put
// that is durable on return: one flush of the record, one of the link, two fences).
//
// Persistent state: the slabs alone (objects of `type_num`, no header, no counters). Which
// bytes of a slab are live is never stored: the engine knows its reachable records and
// reports each with Claim when it opens the pool; every other byte of a slab is garbage (a
// record that was never linked because of a crash, or one that was unlinked). Hence:
//   allocate  bump pointer of the current slab (DRAM). A crash before the engine links the
//             record leaves garbage that the next open does not claim.
//   release   the engine has durably unlinked a record: its slab's live bytes drop (DRAM). A
//             slab left with no live byte that is not the current slab is freed at once (one
//             pmemobj_free); a crash before that leaves a slab nothing points into, which the
//             next open frees (Finish).
//   open      Load lists the slabs (an object walk bounded by the pool's size), the engine
//             Claims every reachable record, Finish frees the slabs that hold none and
//             resumes allocation in the slab with the most room after its last live record
//             (so reopening a pool again and again does not strand a slab's tail each time).
// Garbage inside a slab that still holds live records is reclaimed only by moving those
// records out (the engine's cleaner: it copies a record with Allocate, relinks it, Releases
// the old copy); Sparse and NeedsCleaning tell it which slabs and when. One slab is kept
// aside for the cleaner (Allocate(.., kForCleaner)), so a pool whose heap is all slabs can
// still be compacted after removes instead of staying full forever.
//
// Threads: records are carved in lanes (kLanes of them, a thread keeps to one), each with its
// own current slab and lock, so threads that insert side by side neither share a lock nor
// write into the same slab's cache lines. Everything else (the slab list, live bytes, frees)
// takes the arena's lock. The engine's own locks order the records' contents and links.
#pragma once

#include <libpmemobj.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "actions.h"
#include "locks.h"
#include "root.h"

namespace pmemkv {

class SlabArena {
 public:
  // What Claim found.
  enum class Claimed { kNotInSlab, kInSlab, kStraddles };
  // Who allocates: ordinary writes, or the cleaner (which may use the reserve slab).
  enum Purpose { kForWrite, kForCleaner };

  // Slabs of `slab_bytes` (requested; the usable size libpmemobj gives is used) with
  // allocation flags `flags`; records of at most max_record() bytes.
  SlabArena(PMEMobjpool* pop, uint64_t type_num, uint64_t slab_bytes, uint64_t flags) noexcept
      : pop_(pop), type_num_(type_num), slab_bytes_(slab_bytes), flags_(flags) {}
  SlabArena(const SlabArena&) = delete;
  SlabArena& operator=(const SlabArena&) = delete;

  // Calls fn(context) before each slab is freed (while the arena's lock is held: fn must not
  // call the arena). For an engine whose journal keeps commits until a checkpoint (journal.h,
  // kWhenFull): a logged store into a slab's bytes must be durable before the slab's space
  // can be handed out again. REQUIRES: set before the arena is shared.
  void SetBeforeFree(void (*fn)(void*), void* context) noexcept {
    before_free_ = fn;
    before_free_context_ = context;
  }

  // The slab size for a pool of `pool_bytes`: 1/64 of it, between 64 KiB and 1 MiB (a few
  // percent of any pool, and large enough that a slab publish is rare next to the writes).
  static uint64_t SlabBytesFor(uint64_t pool_bytes) noexcept {
    return std::clamp<uint64_t>(pool_bytes / 64, uint64_t{64} << 10, uint64_t{1} << 20) - 64;
  }

  // Largest record the arena takes (engines allocate larger ones on their own): small enough
  // that a slab holds many, so a slab's garbage is spread over many records.
  uint64_t max_record() const noexcept { return std::min<uint64_t>(slab_bytes_ / 64, 1024); }

  // Lists the slabs of the pool: every object of type_num_ whose extent lies inside `span`.
  // The walk visits at most span.size() / 16 objects (libpmemobj's smallest object), so a
  // damaged object list cannot make it loop. False when DRAM ran out.
  bool Load(const PoolSpan& span) noexcept {
    try {
      const uint64_t bound = span.size() == UINT64_MAX ? UINT64_MAX : span.size() / 16 + 1;
      uint64_t steps = 0;
      for (PMEMoid oid = pmemobj_first(pop_); !OID_IS_NULL(oid) && steps < bound; oid = pmemobj_next(oid), ++steps) {
        if (pmemobj_type_num(oid) != type_num_) continue;
        const uint64_t size = pmemobj_alloc_usable_size(oid);
        if (!span.Contains(oid.off, size)) continue;
        slabs_.push_back(Slab{oid, size, 0, 0});
        total_bytes_ += size;
      }
      std::sort(slabs_.begin(), slabs_.end(), [](const Slab& a, const Slab& b) { return a.oid.off < b.oid.off; });
      return true;
    } catch (const std::bad_alloc&) {
      return false;
    }
  }

  // Open time: the engine reports a reachable record [off, off + size).
  Claimed Claim(uint64_t off, uint64_t size) noexcept {
    Slab* s = Find(off);
    if (s == nullptr) return Claimed::kNotInSlab;
    if (size > s->size - (off - s->oid.off)) return Claimed::kStraddles;
    s->live += static_cast<int64_t>(Rounded(size));
    s->top = std::max(s->top, off - s->oid.off + Rounded(size));
    live_bytes_ += static_cast<int64_t>(Rounded(size));
    return Claimed::kInSlab;
  }

  // Open time, after every Claim: frees the slabs without a live record (keeping one to
  // allocate from when no other slab has room, and one as the cleaner's reserve), and gives
  // the first lane the slab with the most room after its last live record. False when
  // libpmemobj failed to free a slab (the pool is as consistent as before either way).
  bool Finish() noexcept {
    SpinGuard g(lock_);
    bool ok = true;
    Slab* best = nullptr;
    for (Slab& s : slabs_)
      if (s.live != 0 && (best == nullptr || s.size - s.top > best->size - best->top)) best = &s;
    uint64_t current = best != nullptr && best->size - best->top >= best->size / 8 ? best->oid.off : 0;
    bool need_current = current == 0, need_reserve = true;
    std::vector<Slab> kept;
    try {
      kept.reserve(slabs_.size());
    } catch (const std::bad_alloc&) {
      return false;
    }
    for (Slab& s : slabs_) {
      if (s.live == 0) {
        s.top = 0;
        if (need_current) {
          need_current = false;
          current = s.oid.off;
        } else if (need_reserve) {
          need_reserve = false;
          reserve_ = s.oid.off;
        } else if (FreeOid(s.oid)) {
          total_bytes_ -= s.size;
          continue;
        } else {
          ok = false;
        }
      }
      kept.push_back(s);
    }
    slabs_.swap(kept);
    if (current != 0) Adopt(lanes_[0], *Find(current));
    UpdateNeedsCleaning();
    return ok;
  }

  // A record of `size` bytes (8-byte aligned) from the calling thread's lane, or 0 when the
  // arena has no room and libpmemobj none for another slab. With `other`, also
  // *other_in_slab = InSlab(other) (a put asks about the entry it replaces). REQUIRES:
  // size <= max_record().
  uint64_t Allocate(uint64_t size, Purpose purpose = kForWrite, uint64_t other = 0, bool* other_in_slab = nullptr) noexcept {
    size = Rounded(size);
    if (other_in_slab != nullptr) *other_in_slab = other != 0 && InSlab(other);
    Lane& lane = lanes_[LaneOfThisThread()];
    SpinGuard lg(lane.lock);
    const uint64_t top = lane.top.load(std::memory_order_relaxed);
    if (lane.off != 0 && lane.size - top >= size) {  // the fast path: this lane only
      lane.top.store(top + size, std::memory_order_relaxed);
      lane.pending.store(lane.pending.load(std::memory_order_relaxed) + size, std::memory_order_relaxed);
      return lane.off + top;
    }
    // The lane's slab is full: hand it back and take a new one (first a reserve for the
    // cleaner once there is more than one slab; the reserve serves only the cleaner).
    SpinGuard g(lock_);
    Retire(lane);
    if (reserve_ == 0 && !slabs_.empty() && !NewSlab(&reserve_)) reserve_ = 0;
    uint64_t fresh = 0;
    if (NewSlab(&fresh)) {
      Adopt(lane, *Find(fresh));
    } else if (purpose == kForCleaner && reserve_ != 0) {
      Adopt(lane, *Find(reserve_));
      reserve_ = 0;
    } else {
      UpdateNeedsCleaning();
      return 0;
    }
    UpdateNeedsCleaning();  // the old slab's tail became garbage
    if (lane.size < size) return 0;
    lane.top.store(size, std::memory_order_relaxed);
    lane.pending.store(size, std::memory_order_relaxed);
    return lane.off;
  }

  // Allocate, then fill(off) (when off != 0) while the calling thread's lane stays held: no
  // other record is carved from that lane until fill returns. When every allocation of the
  // arena goes through AllocateFilled, the records of one slab are filled one at a time in
  // the order of their offsets, so an engine whose fill persists its record gets: a record is
  // durable only once every record before it in its slab (since the slab was adopted) is.
  // fill must not call the arena.
  template <class Fill>
  uint64_t AllocateFilled(uint64_t size, Fill&& fill, Purpose purpose = kForWrite) noexcept {
    std::lock_guard<std::mutex> hold(fill_locks_[LaneOfThisThread()]);
    const uint64_t off = Allocate(size, purpose);
    if (off != 0) fill(off);
    return off;
  }

  // The slab that is Sparse(.., min_garbage) with the most garbage, or 0 when none is: for a
  // cleaner that walks the records of a slab itself (one scan of the slab list).
  uint64_t SparsestSlab(uint64_t min_garbage) const noexcept {
    SpinGuard g(lock_);
    const Slab* best = nullptr;
    for (const Slab& s : slabs_)
      if (IsSparse(s, min_garbage) &&
          (best == nullptr || s.size - static_cast<uint64_t>(s.live) > best->size - static_cast<uint64_t>(best->live)))
        best = &s;
    return best != nullptr ? best->oid.off : 0;
  }

  // The engine durably unlinked the record [off, off + size), or gave up an Allocate it never
  // linked. Frees its slab when that was the slab's last live record (unless a lane allocates
  // from it or it is the reserve). REQUIRES: the record came from Allocate or Claim.
  void Release(uint64_t off, uint64_t size) noexcept {
    const int64_t n = static_cast<int64_t>(Rounded(size));
    SpinGuard g(lock_);
    Slab* s = Find(off);
    if (s == nullptr) return;
    s->live -= n;  // may dip below zero for a lane's slab until the lane hands it back
    live_bytes_ -= n;
    if (s->live > 0 || InLane(s->oid.off) || s->oid.off == reserve_) {
      UpdateNeedsCleaning();
      return;
    }
    if (reserve_ == 0) {  // an empty slab is the cleaner's reserve before it is anything else
      s->top = 0;
      s->live = 0;
      reserve_ = s->oid.off;
    } else {
      const PMEMoid oid = s->oid;
      const uint64_t bytes = s->size;
      if (FreeOid(oid)) {
        total_bytes_ -= bytes;
        slabs_.erase(slabs_.begin() + (s - slabs_.data()));
      }
    }
    UpdateNeedsCleaning();
  }

  // The offset of the slab `off` lies in, or 0 when it lies in none.
  uint64_t SlabOf(uint64_t off) const noexcept {
    SpinGuard g(lock_);
    const Slab* s = const_cast<SlabArena*>(this)->Find(off);
    return s != nullptr ? s->oid.off : 0;
  }

  // Whether `off` lies in a slab.
  bool InSlab(uint64_t off) const noexcept {
    SpinGuard g(lock_);
    return const_cast<SlabArena*>(this)->Find(off) != nullptr;
  }

  // Whether the record at `off` sits in a slab worth emptying: no lane allocates from it, it
  // is not the reserve, and at least `min_garbage` of its bytes are not live (moving its live
  // records into one empty slab leaves that much room there).
  bool Sparse(uint64_t off, uint64_t min_garbage) const noexcept {
    SpinGuard g(lock_);
    const Slab* s = const_cast<SlabArena*>(this)->Find(off);
    return s != nullptr && IsSparse(*s, min_garbage);
  }
  // Whether any slab is Sparse(.., min_garbage): a cleaning pass that looks for them can move
  // something.
  bool AnySparse(uint64_t min_garbage) const noexcept {
    SpinGuard g(lock_);
    for (const Slab& s : slabs_)
      if (IsSparse(s, min_garbage)) return true;
    return false;
  }
  // The slabs that are Sparse(.., min_garbage) now, in offset order: for a cleaner that walks
  // its records and asks of each whether it lies in one (ContainsOffset), without taking the
  // arena's lock per record. The answer holds while the engine's own lock keeps every other
  // write out (nothing else allocates or releases).
  class SlabSet {
   public:
    bool empty() const noexcept { return ranges_.empty(); }
    size_t size() const noexcept { return ranges_.size(); }
    // The slab of the set that holds `off`, or 0.
    uint64_t SlabOf(uint64_t off) const noexcept {
      auto it = std::upper_bound(ranges_.begin(), ranges_.end(), off,
                                 [](uint64_t o, const std::pair<uint64_t, uint64_t>& r) { return o < r.first; });
      if (it == ranges_.begin()) return 0;
      --it;
      return off - it->first < it->second ? it->first : 0;
    }

   private:
    friend class SlabArena;
    std::vector<std::pair<uint64_t, uint64_t>> ranges_;  // {slab offset, usable bytes}, ascending
  };
  // False when DRAM for the set ran out (then *out is empty).
  bool SparseSlabs(uint64_t min_garbage, SlabSet* out) const noexcept {
    SpinGuard g(lock_);
    out->ranges_.clear();
    try {
      for (const Slab& s : slabs_)
        if (IsSparse(s, min_garbage)) out->ranges_.emplace_back(s.oid.off, s.size);
    } catch (const std::bad_alloc&) {
      out->ranges_.clear();
      return false;
    }
    return true;
  }
  // The requested slab size (every slab's usable size is at least this).
  uint64_t slab_size() const noexcept { return slab_bytes_; }

  // Whether the slabs hold more garbage than half their live bytes plus two slabs: the point
  // at which the engine's cleaner should run (space then stays within about 1.5x the live
  // records' bytes, plus a few slabs). Garbage: every byte of a slab that is not live, except
  // the reserve and the lanes' untouched tails. A flag kept by the arena's slow paths: no
  // lock, cheap enough for every write.
  bool NeedsCleaning() const noexcept { return needs_cleaning_.load(std::memory_order_relaxed); }

  // Bytes of all slabs, and of the live records in them.
  uint64_t slab_bytes() const noexcept {
    SpinGuard g(lock_);
    return total_bytes_;
  }
  uint64_t live_bytes() const noexcept {
    SpinGuard g(lock_);
    return static_cast<uint64_t>(std::max<int64_t>(0, LiveLocked()));
  }
  size_t slab_count() const noexcept {
    SpinGuard g(lock_);
    return slabs_.size();
  }

 private:
  static constexpr unsigned kLanes = 4;

  struct Slab {
    PMEMoid oid;
    uint64_t size;  // usable bytes
    int64_t live;   // bytes of live records, short of what its lane (if any) has not handed back
    uint64_t top;   // bytes [0, top) handed out (while a lane has it: as of the lane's adoption)
  };

  // A lane's current slab. off, size: written under both locks, read under either. top and
  // pending: written under the lane's lock, read (approximately) under the arena's.
  struct alignas(64) Lane {
    RwSpinLock lock;
    uint64_t off = 0;  // 0: no slab yet
    uint64_t size = 0;
    std::atomic<uint64_t> top{0};
    std::atomic<uint64_t> pending{0};  // bytes carved since adoption, not yet in live counts
  };

  // A minimal spinlock (held for a few instructions, or for one slab publish).
  class SpinGuard {
   public:
    explicit SpinGuard(RwSpinLock& l) noexcept : l_(l) { l_.lock(); }
    ~SpinGuard() { l_.unlock(); }

   private:
    RwSpinLock& l_;
  };

  static uint64_t Rounded(uint64_t size) noexcept { return (size + 7) & ~uint64_t{7}; }

  unsigned LaneOfThisThread() noexcept {
    thread_local unsigned lane = next_lane_.fetch_add(1, std::memory_order_relaxed) % kLanes;
    return lane;
  }

  // REQUIRES: lock_ held (and the lane's lock, to change it).
  bool InLane(uint64_t off) const noexcept {
    for (const Lane& l : lanes_)
      if (l.off == off) return true;
    return false;
  }
  void Adopt(Lane& lane, const Slab& s) noexcept {
    lane.off = s.oid.off;
    lane.size = s.size;
    lane.top.store(s.top, std::memory_order_relaxed);
    lane.pending.store(0, std::memory_order_relaxed);
  }
  // The lane's slab back to the list: its carved bytes join the live counts.
  void Retire(Lane& lane) noexcept {
    if (lane.off == 0) return;
    Slab* s = Find(lane.off);
    const uint64_t pending = lane.pending.load(std::memory_order_relaxed);
    if (s != nullptr) {
      s->live += static_cast<int64_t>(pending);
      s->top = lane.top.load(std::memory_order_relaxed);
    }
    live_bytes_ += static_cast<int64_t>(pending);
    lane.off = lane.size = 0;
    lane.top.store(0, std::memory_order_relaxed);
    lane.pending.store(0, std::memory_order_relaxed);
    // Every record of the slab was released while the lane carved from it: no Release will
    // come for it any more, so it is freed here.
    if (s != nullptr && s->live <= 0 && s->oid.off != reserve_ && !InLane(s->oid.off) && FreeOid(s->oid)) {
      total_bytes_ -= s->size;
      live_bytes_ -= s->live;  // zero, or the (never negative in total) rounding of the counts
      slabs_.erase(slabs_.begin() + (s - slabs_.data()));
    }
  }

  int64_t LiveLocked() const noexcept {
    int64_t live = live_bytes_;
    for (const Lane& l : lanes_) live += static_cast<int64_t>(l.pending.load(std::memory_order_relaxed));
    return live;
  }

  // REQUIRES: lock_ held.
  void UpdateNeedsCleaning() noexcept {
    needs_cleaning_.store(GarbageLocked() > static_cast<uint64_t>(std::max<int64_t>(0, LiveLocked())) / 2 + 2 * slab_bytes_,
                          std::memory_order_relaxed);
  }

  bool IsSparse(const Slab& s, uint64_t min_garbage) const noexcept {
    return !InLane(s.oid.off) && s.oid.off != reserve_ && s.live >= 0 &&
           s.size - static_cast<uint64_t>(s.live) >= std::max<uint64_t>(min_garbage, 8);
  }

  // Every byte of every slab is live, garbage, the reserve, or a lane's untouched tail.
  uint64_t GarbageLocked() const noexcept {
    SlabArena* self = const_cast<SlabArena*>(this);
    const Slab* res = reserve_ != 0 ? self->Find(reserve_) : nullptr;
    uint64_t aside = res != nullptr ? res->size : 0;
    for (const Lane& l : lanes_)
      if (l.off != 0) aside += l.size - std::min(l.size, l.top.load(std::memory_order_relaxed));
    const uint64_t live = static_cast<uint64_t>(std::max<int64_t>(0, LiveLocked()));
    return total_bytes_ - std::min(total_bytes_, live + aside);
  }

  Slab* Find(uint64_t off) noexcept {
    auto it = std::upper_bound(slabs_.begin(), slabs_.end(), off, [](uint64_t o, const Slab& s) { return o < s.oid.off; });
    if (it == slabs_.begin()) return nullptr;
    --it;
    return off - it->oid.off < it->size ? &*it : nullptr;
  }

  // Allocates a slab (one atomic publish). A crash after it leaves a slab with no live
  // record, freed by the next open.
  bool NewSlab(uint64_t* off) noexcept {
    try {
      slabs_.reserve(slabs_.size() + 1);
    } catch (const std::bad_alloc&) {
      return false;
    }
    ActionList acts(pop_);
    const PMEMoid oid = acts.Reserve(slab_bytes_, type_num_, flags_);
    if (OID_IS_NULL(oid) || !acts.Publish().ok()) return false;
    const Slab s{oid, pmemobj_alloc_usable_size(oid), 0, 0};
    total_bytes_ += s.size;
    slabs_.insert(std::upper_bound(slabs_.begin(), slabs_.end(), oid.off,
                                   [](uint64_t o, const Slab& x) { return o < x.oid.off; }),
                  s);
    *off = oid.off;
    return true;
  }

  bool FreeOid(PMEMoid oid) noexcept {
    if (before_free_ != nullptr) before_free_(before_free_context_);
    ActionList acts(pop_);
    return acts.Free(oid) && acts.Publish().ok();
  }

  PMEMobjpool* const pop_;
  const uint64_t type_num_;
  const uint64_t slab_bytes_;
  const uint64_t flags_;
  mutable RwSpinLock lock_;  // the slab list, live counts, the reserve; lanes' off and size
  std::vector<Slab> slabs_;  // sorted by offset
  Lane lanes_[kLanes];
  std::atomic<unsigned> next_lane_{0};
  uint64_t reserve_ = 0;     // offset of the empty slab kept for the cleaner, 0 when none
  int64_t live_bytes_ = 0;   // of all slabs, short of the lanes' pending bytes
  uint64_t total_bytes_ = 0;  // usable bytes of all slabs
  std::atomic<bool> needs_cleaning_{false};  // NeedsCleaning's answer, updated under lock_
  void (*before_free_)(void*) = nullptr;
  void* before_free_context_ = nullptr;
  std::mutex fill_locks_[kLanes];  // AllocateFilled's hold on a lane (taken before lanes_[i].lock)
};

}  // namespace pmemkv
