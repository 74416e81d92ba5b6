// Transactions that are safe with C++: RunTx plus helpers that return a Status.
//
// libpmemobj's TX_BEGIN macros longjmp out of the block on abort, which skips C++ destructors.
// RunTx instead begins with pmemobj_tx_begin(pop, NULL, ...) (no jmp_buf, so libpmemobj never
// longjmps) and sets POBJ_TX_FAILURE_RETURN, so a failing libpmemobj call returns an error to
// its caller instead of aborting the transaction behind its back. The transaction commits only
// when the body returns OK; anything else rolls it back.
//
// Crash semantics: a transaction that has not committed when the process dies is rolled back
// the next time the pool is opened (libpmemobj's undo log): every range snapshotted with
// TxAddRange gets its old bytes back and every TxAlloc of the transaction is freed. A TxFree
// takes effect only at commit.
//
// Threads: a transaction belongs to the thread that runs RunTx. Transactions do not isolate
// threads from each other: changes are visible to other threads before commit, so engines
// lock what they change (or are registered kSerialized).
#pragma once

#include <libpmemobj.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "status.h"

namespace pmemkv {

// The Status for libpmemobj error `err` while doing `what` inside a transaction. ENOMEM means
// the pool has no room left (for the data or for the transaction's logs).
inline Status TxStatus(int err, const std::string& what) {
  if (err == ENOMEM)
    return Status::OutOfMemory(what + ": the pool is full: remove entries, or create a larger pool (config.size)");
  const char* detail = pmemobj_errormsg();
  std::string msg = what + ": " + (detail != nullptr && detail[0] != '\0' ? detail : std::strerror(err));
  if (err == EINVAL) return Status::InvalidArgument(msg);
  return Status::Unknown(msg);
}

// One transaction that several engine mutations can join: TxScope.
//
// The first scope a thread opens begins a libpmemobj transaction on the pool (the outermost
// scope); a scope opened while another is active on the same thread joins it (libpmemobj's
// nested transaction), so an engine writes Put and Remove once, each in its own scope, and
// a batch runs many of them as one atomic unit by opening a scope around them.
//
//   outermost Finish(OK)   commits: durable when it returns; then the OnCommit hooks run
//   joined    Finish(OK)   nothing yet: the change commits or aborts with the outermost scope
//   any       Finish(!OK)  aborts the whole transaction (every joined scope with it); the
//                          outermost scope then runs the OnAbort hooks
//   destroyed unfinished   as Finish(Unknown): aborts
//
// Hooks keep DRAM state in step with the pool: OnCommit hooks run after the commit, in the
// order they were added; OnAbort hooks run after the rollback, in reverse order. Hooks must
// not fail and must not open scopes. A scope that is not outermost hands its hooks to the
// outermost one.
//
// REQUIRES: not inside a libpmemobj transaction that no TxScope opened (an application's own):
// that is TRANSACTION_SCOPE_ERROR, as is joining a scope of another pool.
class TxScope {
 public:
  explicit TxScope(PMEMobjpool* pop) : pop_(pop) {
    Frame*& top = Top();
    if (pmemobj_tx_stage() != TX_STAGE_NONE && (top == nullptr || top->pop != pop)) {
      status_ = Status(Code::kTransactionScopeError,
                       top == nullptr
                           ? "called inside a libpmemobj transaction: finish the transaction before using the engine"
                           : "a transaction of one pool cannot include changes to another pool");
      return;
    }
    if (top != nullptr && pmemobj_tx_stage() != TX_STAGE_WORK) {
      status_ = Status::Unknown("the enclosing transaction has already failed");
      return;
    }
    int err = pmemobj_tx_begin(pop, nullptr, TX_PARAM_NONE);
    if (err != 0) {
      pmemobj_tx_end();  // required even after a failed begin (the stage is ONABORT)
      status_ = TxStatus(err, "cannot begin a transaction");
      return;
    }
    pmemobj_tx_set_failure_behavior(POBJ_TX_FAILURE_RETURN);
    began_ = true;
    if (top == nullptr) {
      top = &frame_;
      frame_.pop = pop;
      outermost_ = true;
    }
  }

  TxScope(const TxScope&) = delete;
  TxScope& operator=(const TxScope&) = delete;
  ~TxScope() {
    if (began_) Finish(Status::Unknown("transaction scope left without Finish"));
  }

  // OK when the scope is open (else why not; Finish then returns this status).
  const Status& status() const noexcept { return status_; }
  bool outermost() const noexcept { return outermost_; }

  // Adds a hook (see above) to the outermost scope open on this thread. OUT_OF_MEMORY (DRAM)
  // when it cannot be recorded; UNKNOWN_ERROR when no scope is open.
  template <class Fn>
  static Status OnCommit(Fn&& fn) { return Add(&Frame::on_commit, std::forward<Fn>(fn)); }
  template <class Fn>
  static Status OnAbort(Fn&& fn) { return Add(&Frame::on_abort, std::forward<Fn>(fn)); }

  // True when a scope is open on this thread: a mutation that opens one now joins it, so its
  // change is not committed when its own scope finishes.
  static bool Active() noexcept { return Top() != nullptr; }

  // Ends the scope with the body's result `s` and returns the scope's result: `s` when it is
  // not OK, else the commit's (outermost) or OK (joined).
  Status Finish(Status s) {
    if (!began_) return status_.ok() ? s : status_;
    began_ = false;
    if (pmemobj_tx_stage() == TX_STAGE_WORK) {
      if (s.ok())
        pmemobj_tx_commit();  // outermost: durable once it returns; joined: merged into the outer
      else
        pmemobj_tx_abort(ECANCELED);
    }
    int err = pmemobj_tx_end();
    if (s.ok() && err != 0) s = TxStatus(err, "transaction aborted");
    if (outermost_) {
      Top() = nullptr;
      if (s.ok()) {
        for (auto& hook : frame_.on_commit) hook();
      } else {
        for (auto it = frame_.on_abort.rbegin(); it != frame_.on_abort.rend(); ++it) (*it)();
      }
      frame_.on_commit.clear();
      frame_.on_abort.clear();
    }
    return s;
  }

 private:
  struct Frame {
    PMEMobjpool* pop = nullptr;
    std::vector<std::function<void()>> on_commit;
    std::vector<std::function<void()>> on_abort;
  };

  static Frame*& Top() noexcept {
    static thread_local Frame* top = nullptr;
    return top;
  }

  template <class Fn>
  static Status Add(std::vector<std::function<void()>> Frame::*list, Fn&& fn) {
    Frame* top = Top();
    if (top == nullptr) return Status::Unknown("transaction hook added outside an open scope");
    try {
      (top->*list).emplace_back(std::forward<Fn>(fn));
    } catch (const std::bad_alloc&) {
      return Status::OutOfMemory("out of memory (DRAM) for a transaction hook");
    }
    return Status::OK();
  }

  PMEMobjpool* const pop_;
  Status status_;
  bool began_ = false;
  bool outermost_ = false;
  Frame frame_;  // used when outermost
};

// Runs `fn` (a callable returning Status) in a TxScope on `pop`: a transaction of its own, or
// part of the scope already open on this thread. Commits (or, when joined, stays part of the
// outer transaction) when fn returns OK; aborts when fn returns another Status (which RunTx
// returns), when fn throws (std::bad_alloc -> OUT_OF_MEMORY, anything else -> UNKNOWN_ERROR),
// or when libpmemobj aborted the transaction (its error -> Status).
template <class Fn>
Status RunTx(PMEMobjpool* pop, Fn&& fn) {
  TxScope scope(pop);
  if (!scope.status().ok()) return scope.status();
  Status s;
  try {
    s = fn();
  } catch (const std::bad_alloc&) {
    s = Status::OutOfMemory("out of memory (DRAM) during a transaction");
  } catch (const std::exception& e) {
    s = Status::Unknown(std::string("engine failed during a transaction: ") + e.what());
  } catch (...) {
    s = Status::Unknown("engine failed during a transaction");
  }
  return scope.Finish(std::move(s));
}

// OK when this thread is not inside a libpmemobj transaction that no TxScope opened;
// TRANSACTION_SCOPE_ERROR when it is (an engine operation must not become part of an
// application's own transaction). For engines that change a pool without a transaction
// (the action API).
inline Status CheckOutsideTx() {
  if (pmemobj_tx_stage() == TX_STAGE_NONE) return Status::OK();
  return Status(Code::kTransactionScopeError,
                "called inside a libpmemobj transaction: finish the transaction before using the engine");
}

// Snapshots [ptr, ptr + n) so that an abort, or a crash before commit, restores its bytes.
// Call it before the first change of a range that existed before this transaction (objects
// from TxAlloc of the same transaction need no snapshot). REQUIRES: inside RunTx; the range is
// inside the transaction's pool.
inline Status TxAddRange(void* ptr, size_t n) {
  int err = pmemobj_tx_xadd_range_direct(ptr, n, POBJ_XADD_NO_ABORT);
  if (err == 0) return Status::OK();
  return TxStatus(err, "cannot snapshot " + std::to_string(n) + " bytes");
}

// Snapshots [dst, dst + n) and copies `src` over it. REQUIRES: as TxAddRange.
inline Status TxWrite(void* dst, const void* src, size_t n) {
  Status s = TxAddRange(dst, n);
  if (s.ok() && n != 0) std::memcpy(dst, src, n);
  return s;
}

// Allocates an object of `n` bytes (zeroed when `zero`) with `type_num`; `flags` are the
// allocation class flags, Pool::AllocFlags(n). It becomes permanent at commit and is freed by
// an abort or a crash before commit. On failure *out is untouched: OUT_OF_MEMORY when the pool
// is full, INVALID_ARGUMENT for n == 0 or above PMEMOBJ_MAX_ALLOC_SIZE. REQUIRES: inside RunTx.
inline Status TxAlloc(size_t n, uint64_t type_num, PMEMoid* out, bool zero = false, uint64_t flags = 0) {
  PMEMoid oid = pmemobj_tx_xalloc(n, type_num, POBJ_XALLOC_NO_ABORT | (zero ? POBJ_XALLOC_ZERO : 0) | flags);
  if (OID_IS_NULL(oid)) return TxStatus(errno, "cannot allocate " + std::to_string(n) + " bytes");
  *out = oid;
  return Status::OK();
}

// Frees `oid` at commit (nothing happens on abort). OID_NULL is a no-op. REQUIRES: inside RunTx.
inline Status TxFree(PMEMoid oid) {
  int err = pmemobj_tx_xfree(oid, POBJ_XFREE_NO_ABORT);
  if (err == 0) return Status::OK();
  return TxStatus(err, "cannot free an object");
}

}  // namespace pmemkv
