// ActionList: one fail-safe atomic change made with libpmemobj's action API (pmemobj_reserve,
// pmemobj_set_value, pmemobj_defer_free, then one pmemobj_publish), for engines whose hot paths
// avoid undo-log transactions.
//
// Crash semantics: Publish applies every action of the list through one redo log: after a
// crash either all of them are in the pool or none is. A reservation that was never published
// is released when the pool is reopened (and at once by Cancel or the destructor). Objects are
// reserved, filled and persisted while still unreachable; the publish only makes them
// reachable, so a reader never sees a half-written object.
//
// Threads: a list belongs to one thread. Actions do not isolate threads: the engine locks
// what a list changes until Publish returns.
#pragma once

#include <libpmemobj.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "status.h"
#include "tx.h"

namespace pmemkv {

class ActionList {
 public:
  explicit ActionList(PMEMobjpool* pop) noexcept : pop_(pop) {}
  ActionList(const ActionList&) = delete;
  ActionList& operator=(const ActionList&) = delete;
  ~ActionList() { Cancel(); }

  size_t size() const noexcept { return n_; }
  PMEMobjpool* pool() const noexcept { return pop_; }

  // Reserves an object of `size` bytes (not zeroed) with `type_num`; `flags` are pmemobj_xreserve
  // flags (an allocation class, POBJ_XALLOC_ZERO). OID_NULL when the pool has no room (or
  // DRAM for the list ran out); the list is unchanged then.
  PMEMoid Reserve(size_t size, uint64_t type_num, uint64_t flags = 0) {
    pobj_action* act = Next();
    if (act == nullptr) return OID_NULL;
    PMEMoid oid = pmemobj_xreserve(pop_, act, size, type_num, flags);
    if (!OID_IS_NULL(oid)) n_++;
    return oid;
  }

  // At publish, *ptr = value (8 bytes, applied atomically with the rest of the list).
  bool Set(uint64_t* ptr, uint64_t value) {
    pobj_action* act = Next();
    if (act == nullptr) return false;
    pmemobj_set_value(pop_, act, ptr, value);
    n_++;
    return true;
  }

  // At publish, `link` points at `target`: its offset, plus its pool uuid when the link holds
  // another one (a link that was never set holds zero). A null target clears only the offset:
  // OID_IS_NULL looks at the offset alone. A 16-byte link is so rewritten by at most two
  // 8-byte actions of one publish, never seen half-written after a crash.
  bool SetLink(PMEMoid* link, const PMEMoid& target) {
    if (!OID_IS_NULL(target) && link->pool_uuid_lo != target.pool_uuid_lo &&
        !Set(&link->pool_uuid_lo, target.pool_uuid_lo))
      return false;
    return Set(&link->off, target.off);
  }

  // At publish, `oid` is freed.
  bool Free(const PMEMoid& oid) {
    pobj_action* act = Next();
    if (act == nullptr) return false;
    pmemobj_defer_free(pop_, oid, act);
    n_++;
    return true;
  }

  // Publishes every action as one atomic change and empties the list. On failure releases
  // them (the pool as it was) and returns OUT_OF_MEMORY (no room for the redo log) or the
  // error; TRANSACTION_SCOPE_ERROR inside an application's libpmemobj transaction.
  Status Publish() {
    Status s = CheckOutsideTx();
    if (!s.ok()) {
      Cancel();
      return s;
    }
    if (n_ == 0) return Status::OK();
    if (pmemobj_publish(pop_, Data(), n_) == 0) {
      n_ = 0;
      return Status::OK();
    }
    const int err = errno;
    Cancel();
    return err == ENOMEM || err == 0 ? Status::OutOfMemory("the pool has no room to log this change: remove entries, or create a larger pool (config.size)")
                                     : TxStatus(err, "cannot publish a change");
  }

  // Releases every reservation of the list and forgets its actions.
  void Cancel() noexcept {
    if (n_ != 0) pmemobj_cancel(pop_, Data(), n_);
    n_ = 0;
  }

 private:
  static constexpr size_t kInline = 8;  // enough for a put or a remove without a heap allocation

  pobj_action* Data() noexcept { return heap_.empty() ? inline_ : heap_.data(); }

  // The slot for the next action, or null when DRAM ran out. heap_.size() is the capacity
  // (doubled when full), so a list of n actions costs O(log n) reallocations, not n resizes.
  pobj_action* Next() noexcept {
    if (heap_.empty() && n_ < kInline) return &inline_[n_];
    if (heap_.empty() || n_ == heap_.size()) {
      try {
        if (heap_.empty()) {
          heap_.resize(2 * kInline);
          std::copy(inline_, inline_ + n_, heap_.begin());
        } else {
          heap_.resize(2 * heap_.size());
        }
      } catch (...) {
        return nullptr;
      }
    }
    return &heap_[n_];
  }

  PMEMobjpool* const pop_;
  size_t n_ = 0;
  pobj_action inline_[kInline];
  std::vector<pobj_action> heap_;
};

}  // namespace pmemkv
