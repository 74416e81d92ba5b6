// STree slabs: the slab table (a DRAM mirror of the slab list), carving records, new and
// freed slabs, and the cleaner. See layout.h (I7, "Crash argument") for what each step may
// leave behind after a crash; every slab's usage word in the pool is the truth, the table only
// says where the slabs are.
#include <algorithm>
#include <cstring>
#include <new>

#include <pmemkv/crash_point.h>
#include <pmemkv/tx.h>

#include "stree.h"

namespace stree {

using pmemkv::CrashPoint;
using pmemkv::RunTx;
using pmemkv::Status;
using pmemkv::TxAddRange;

namespace {

// The incremental cleaner runs while the slabs' garbage exceeds half their live bytes plus
// this many slabs; it empties slabs with at least half their bytes garbage, a batch of them at
// a time whose live records fill at most kVictimSlabs slabs, visiting kCleanLeaves leaves per
// write.
constexpr uint64_t kSlackSlabs = 2;
constexpr uint64_t kVictimSlabs = 4;
constexpr int kCleanLeaves = 2;
constexpr uint64_t kCheckEvery = 256;

}  // namespace

// The slab list, walked once: each slab checked (inside the pool, an object of kSlabTypeNum,
// its tag, its size within the object's, its usage within its size) before its next link is
// followed; at most one slab per 64 KiB of pool (the smallest slab), so a loop ends the walk
// as damage. Reads one header per slab.
Status STree::LoadSlabs() {
  slabs_.clear();
  current_ = reserve_ = 0;
  const uint64_t bound = limit_ == UINT64_MAX ? UINT64_MAX : limit_ / (uint64_t{64} << 10) + 1;
  uint64_t steps = 0;
  try {
    for (PoolOffset off = root_->slabs; off != 0; off = SlabAt(off)->next) {
      if (++steps > bound) return Damaged("the slab list loops");
      if (!InPool(off, kSlabHeader) || off % 8 != 0 || pmemobj_type_num(Oid(off)) != kSlabTypeNum)
        return Damaged("the slab list names no slab inside the pool");
      const Slab* sl = SlabAt(off);
      const uint64_t usage = sl->usage;
      if (sl->tag != kSlabTag || sl->bytes <= kSlabHeader || sl->bytes > pmemobj_alloc_usable_size(Oid(off)) ||
          !InPool(off, sl->bytes) || Slab::Top(usage) < kSlabHeader || Slab::Top(usage) > sl->bytes ||
          Slab::Live(usage) > Slab::Top(usage) - kSlabHeader)
        return Damaged("a slab's header is damaged");
      slabs_.push_back(SlabRef{off, sl->bytes});
      open_slabs_read_++;
    }
    std::sort(slabs_.begin(), slabs_.end(), [](const SlabRef& a, const SlabRef& b) { return a.off < b.off; });
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM for stree's slab table");
  }
  for (size_t i = 0; i + 1 < slabs_.size(); i++)
    if (slabs_[i].off + slabs_[i].bytes > slabs_[i + 1].off) return Damaged("two slabs overlap");
  // Records are carved from the slab with the most room left (when that is an eighth of a slab
  // or more); the first slab without a live record is the cleaner's reserve. Other empty slabs
  // are freed by the first write.
  uint64_t best_room = 0;
  for (const SlabRef& r : slabs_) {
    const uint64_t usage = SlabAt(r.off)->usage;
    if (Slab::Live(usage) == 0 && reserve_ == 0) {
      reserve_ = r.off;
      continue;
    }
    const uint64_t room = r.bytes - Slab::Top(usage);
    if (room >= r.bytes / 8 && room > best_room) {
      best_room = room;
      current_ = r.off;
    }
  }
  maybe_empty_ = true;
  return Status::OK();
}

Slab* STree::SlabOfRecord(PoolOffset off, uint64_t size, bool* damaged) const noexcept {
  *damaged = false;
  auto it = std::upper_bound(slabs_.begin(), slabs_.end(), off, [](PoolOffset o, const SlabRef& r) { return o < r.off; });
  if (it == slabs_.begin()) return nullptr;
  --it;
  if (off - it->off >= it->bytes) return nullptr;
  Slab* sl = SlabAt(it->off);
  const uint64_t at = off - it->off;
  if (at < kSlabHeader || at % 8 != 0 || Slab::Rounded(size) > Slab::Top(sl->usage) - at ||
      Slab::Top(sl->usage) < at || Slab::Live(sl->usage) < Slab::Rounded(size)) {
    *damaged = true;
    return nullptr;
  }
  return sl;
}

bool STree::IsVictim(PoolOffset slab) const noexcept {
  return cleaning_ && std::binary_search(victims_.begin(), victims_.end(), slab);
}

PoolOffset STree::CarveAt(uint64_t size) const noexcept {
  if (current_ == 0) return 0;
  const Slab* sl = SlabAt(current_);
  const uint64_t top = Slab::Top(sl->usage);
  return sl->bytes - top >= Slab::Rounded(size) ? current_ + top : 0;
}

void STree::Adopt(PoolOffset off) noexcept {
  Slab* sl = SlabAt(off);
  if (Slab::Live(sl->usage) == 0 && Slab::Top(sl->usage) != kSlabHeader) {
    // Nothing refers to its bytes; the checkpoint makes sure no log block still names them as
    // its payload before they are written again. Then one persisted store (the word is no
    // journal target any more).
    journal_.Checkpoint();
    __atomic_store_n(&sl->usage, Slab::Usage(0, kSlabHeader), __ATOMIC_RELEASE);
    pmemobj_persist(pop_, &sl->usage, sizeof sl->usage);
  }
  if (off == reserve_) reserve_ = 0;
  if (current_ != 0 && current_ != off) maybe_empty_ = true;  // the old one may be freed now
  current_ = off;
}

Status STree::NewSlab(PoolOffset* out) {
  try {
    slabs_.reserve(slabs_.size() + 1);
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of DRAM for stree's slab table");
  }
  journal_.Checkpoint();
  PoolOffset off = 0;
  uint32_t bytes = 0;
  Status s = RunTx(pop_, [&]() -> Status {
    PMEMoid oid = OID_NULL;
    // Not flushed whole at commit: only the header matters, persisted here.
    Status st = pmemkv::TxAlloc(slab_bytes_, kSlabTypeNum, &oid, /*zero=*/false,
                                pool_->AllocFlags(slab_bytes_) | POBJ_XALLOC_NO_FLUSH);
    if (st.ok()) st = TxAddRange(&root_->slabs, sizeof root_->slabs);
    if (!st.ok()) return st;
    Slab* sl = static_cast<Slab*>(pmemobj_direct(oid));
    bytes = static_cast<uint32_t>(std::min<uint64_t>(pmemobj_alloc_usable_size(oid), UINT32_MAX & ~uint64_t{7}));
    std::memset(sl, 0, kSlabHeader);
    sl->tag = kSlabTag;
    sl->bytes = bytes;
    sl->next = root_->slabs;
    sl->usage = Slab::Usage(0, kSlabHeader);
    pmemobj_persist(pop_, sl, kSlabHeader);
    root_->slabs = oid.off;
    off = oid.off;
    CrashPoint("slab: linked");
    return Status::OK();
  });
  if (!s.ok()) return s;
  const SlabRef r{off, bytes};
  slabs_.insert(std::upper_bound(slabs_.begin(), slabs_.end(), off, [](PoolOffset o, const SlabRef& x) { return o < x.off; }), r);
  *out = off;
  return Status::OK();
}

// In order: the current slab; another slab with room (an emptied one starts again at its
// header; never a victim, nor the reserve); a new slab (and a reserve beside it once there are
// two); then for a whole cleaning pass the reserve, and for a write one whole cleaning pass
// (which uses the reserve to empty slabs) and all of these again. The incremental cleaner
// never takes the reserve: only a pass that is sure to empty slabs may.
Status STree::EnsureRoom(uint64_t size, bool cleaner) {
  const uint64_t need = Slab::Rounded(size);
  Status s;
  for (int round = 0; round < 2; round++) {
    if (CarveAt(size) != 0) return Status::OK();
    for (const SlabRef& r : slabs_) {
      if (r.off == current_ || r.off == reserve_ || IsVictim(r.off)) continue;
      const uint64_t usage = SlabAt(r.off)->usage;
      const uint64_t top = Slab::Live(usage) == 0 ? kSlabHeader : Slab::Top(usage);
      if (r.bytes - top >= need && r.bytes - top >= r.bytes / 8) {
        Adopt(r.off);
        return Status::OK();
      }
    }
    PoolOffset fresh = 0;
    s = NewSlab(&fresh);
    if (s.ok()) {
      Adopt(fresh);
      PoolOffset spare = 0;
      if (reserve_ == 0 && slabs_.size() > 1 && NewSlab(&spare).ok()) reserve_ = spare;
      return Status::OK();
    }
    if (s.code() != pmemkv::Code::kOutOfMemory) return s;
    if (cleaner && clean_sync_ && reserve_ != 0) {
      Adopt(reserve_);
      if (CarveAt(size) != 0) return Status::OK();
    }
    if (cleaner || round > 0 || !CleanNow()) return s;
  }
  return s;
}

Status STree::EnsureBatchRoom(uint64_t total) {
  uint64_t room = 0;
  if (current_ != 0) room = SlabAt(current_)->bytes - Slab::Top(SlabAt(current_)->usage);
  for (const SlabRef& r : slabs_) {
    if (r.off == current_ || r.off == reserve_ || IsVictim(r.off)) continue;
    if (Slab::Live(SlabAt(r.off)->usage) == 0) room += r.bytes - kSlabHeader;
  }
  while (room < total + Slab::kMaxRecord) {
    PoolOffset fresh = 0;
    Status s = NewSlab(&fresh);
    if (!s.ok()) return s;
    room += SlabAt(fresh)->bytes - kSlabHeader;
    if (current_ == 0) Adopt(fresh);
  }
  return Status::OK();
}

void STree::FreeEmptySlabs() noexcept {
  if (!maybe_empty_) return;
  maybe_empty_ = false;
  for (size_t i = 0; i < slabs_.size();) {
    const PoolOffset off = slabs_[i].off;
    if (off == current_ || off == reserve_ || Slab::Live(SlabAt(off)->usage) != 0) {
      i++;
      continue;
    }
    if (reserve_ == 0) {
      reserve_ = off;
      i++;
      continue;
    }
    // The link that names it: Root::slabs or the next of the slab before it in the list.
    PoolOffset* link = &root_->slabs;
    for (size_t steps = 0; *link != off && *link != 0 && steps <= slabs_.size(); steps++) link = &SlabAt(*link)->next;
    if (*link != off) return;  // not on the list: damage, left alone
    journal_.Checkpoint();
    const Status s = RunTx(pop_, [&]() -> Status {
      Status st = TxAddRange(link, sizeof *link);
      if (!st.ok()) return st;
      *link = SlabAt(off)->next;
      CrashPoint("slab: unlinked");
      return pmemkv::TxFree(Oid(off));
    });
    if (!s.ok()) return;
    slabs_.erase(slabs_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

STree::SlabStats STree::GetSlabStats() const noexcept {
  SlabStats st{slabs_.size(), 0, 0};
  for (const SlabRef& r : slabs_) {
    st.bytes += r.bytes;
    st.live += Slab::Live(SlabAt(r.off)->usage);
  }
  return st;
}

void STree::AfterWrite() noexcept {
  FreeEmptySlabs();
  if (cleaning_) {
    CleanStep(kCleanLeaves);
    FreeEmptySlabs();
    return;
  }
  if (++writes_ % kCheckEvery != 0) return;
  // Garbage: bytes below the tops of slabs that are not live (the current slab's and the
  // reserve's untouched tails are not garbage).
  uint64_t live = 0, garbage = 0;
  for (const SlabRef& r : slabs_) {
    const uint64_t usage = SlabAt(r.off)->usage;
    live += Slab::Live(usage);
    if (r.off != reserve_) garbage += Slab::Top(usage) - kSlabHeader - Slab::Live(usage);
  }
  if (garbage > live / 2 + kSlackSlabs * slab_bytes_) StartCleaning(kVictimSlabs * slab_bytes_);
}

// Victims: the slabs (not the current one, not the reserve) with at least half their bytes
// garbage, fewest live bytes first, as many as have `room` live bytes between them (at least
// one: records that find no room become KVs of their own).
bool STree::StartCleaning(uint64_t room) {
  cleaning_ = false;
  try {
    std::vector<std::pair<uint64_t, PoolOffset>> sparse;
    for (const SlabRef& r : slabs_) {
      if (r.off == current_ || r.off == reserve_) continue;
      const uint64_t live = Slab::Live(SlabAt(r.off)->usage);
      if (live != 0 && live <= (r.bytes - kSlabHeader) / 2) sparse.emplace_back(live, r.off);
    }
    std::sort(sparse.begin(), sparse.end());
    victims_.clear();
    uint64_t sum = 0;
    for (const auto& v : sparse) {
      if (!victims_.empty() && sum + v.first > room) break;
      sum += v.first;
      victims_.push_back(v.second);
    }
    std::sort(victims_.begin(), victims_.end());
  } catch (const std::bad_alloc&) {
    return false;
  }
  if (victims_.empty()) return false;
  cleaning_ = true;
  clean_from_start_ = true;
  clean_key_.clear();
  return true;
}

// Moves the record of `slot` of `leaf` past the top of the current slab (layout.h "cleaner").
// False when there is no room for it or something is damaged (the pass then stops).
bool STree::MoveRecord(Leaf* leaf, int slot) {
  const KV* kv = CheckedKV(leaf->kv[slot]);
  if (kv == nullptr) return false;
  const uint64_t size = KV::AllocSize(kv->key_size, kv->value_size);
  bool damaged = false;
  Slab* old = SlabOfRecord(leaf->kv[slot], size, &damaged);
  if (old == nullptr) return false;
  const Slice key = KeyOf(kv), value(kv->value(), kv->value_size);
  if (EnsureRoom(size, /*cleaner=*/true).ok() && CarveAt(size) != 0)
    return JournalOverwrite(leaf, slot, old, size, key, value, CarveAt(size)).ok();
  if (!clean_sync_) return false;
  // No slab has room: a KV of its own (in a transaction), so the slab can still empty and
  // give its space back to the pool.
  journal_.Checkpoint();
  return RunTx(pop_, [&]() -> Status {
           PoolOffset fresh = 0;
           Status st = TxNewKV(key, value, &fresh);
           if (st.ok()) st = TxAddRange(&leaf->kv[slot], sizeof(PoolOffset));
           if (!st.ok()) return st;
           leaf->kv[slot] = fresh;
           CrashPoint("clean: moved to a KV of its own");
           return TxReleaseRecord(OffsetOf(kv));
         }).ok();
}

// Visits up to `leaves` leaves from the cleaner's position, moving the records that lie in
// victims. The position is a key (the first key of the next leaf), so splits and merges in
// between cannot make it dangle. At the end of the leaf list the pass is over: every victim's
// records have moved, and FreeEmptySlabs frees them.
void STree::CleanStep(int leaves) {
  for (int n = 0; n < leaves && cleaning_; n++) {
    Leaf* leaf = nullptr;
    if (clean_from_start_) {
      PoolOffset off = root_->root_node;
      for (uint64_t level = 0; level < root_->height && level < kMaxHeight; level++) {
        const Inner* in = CheckedInner(off);
        if (in == nullptr) {
          cleaning_ = false;
          return;
        }
        off = in->child[0];
      }
      leaf = const_cast<Leaf*>(CheckedLeaf(off));
    } else {
      Path path;
      if (!Descend(SearchKey(clean_key_), &path, &leaf).ok()) leaf = nullptr;
    }
    if (leaf == nullptr) {
      cleaning_ = false;
      return;
    }
    for (int s = 0; s < kLeafSlots; s++) {
      if (leaf->fp[s] == 0) continue;
      const PoolOffset off = leaf->kv[s];
      auto it = std::upper_bound(victims_.begin(), victims_.end(), off);
      if (it == victims_.begin()) continue;
      --it;
      const bool in_victim = off - *it < SlabAt(*it)->bytes;
      if (in_victim && !MoveRecord(leaf, s)) {
        cleaning_ = false;
        return;
      }
    }
    const Leaf* next = leaf->next != 0 ? CheckedLeaf(leaf->next) : nullptr;
    Slice first;
    if (next == nullptr || next->count == 0 || !CheckedKey(next, 0, &first)) {
      cleaning_ = false;  // the end of the list (or damage): the pass is over
      maybe_empty_ = true;
      return;
    }
    clean_key_.assign(first.data(), first.size());
    clean_from_start_ = false;
  }
}

// A whole pass with the room there is: the reserve and the current slab's tail.
bool STree::CleanNow() {
  uint64_t room = reserve_ != 0 ? SlabAt(reserve_)->bytes - kSlabHeader : 0;
  if (current_ != 0) room += SlabAt(current_)->bytes - Slab::Top(SlabAt(current_)->usage);
  if (!StartCleaning(room)) return false;
  clean_sync_ = true;
  for (uint64_t guard = 0; cleaning_ && guard <= root_->count + 1; guard++) CleanStep(1);
  clean_sync_ = false;
  cleaning_ = false;
  maybe_empty_ = true;
  FreeEmptySlabs();
  return true;
}

}  // namespace stree
