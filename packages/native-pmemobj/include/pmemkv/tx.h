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
#include <string>

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

// OK when this thread is not inside a libpmemobj transaction; TRANSACTION_SCOPE_ERROR when it
// is (an engine operation must not become part of someone else's transaction).
inline Status CheckOutsideTx() {
  if (pmemobj_tx_stage() == TX_STAGE_NONE) return Status::OK();
  return Status(Code::kTransactionScopeError,
                "called inside a libpmemobj transaction: finish the transaction before using the engine");
}

// Runs `fn` (a callable returning Status) in a transaction on `pop`.
// Commits when fn returns OK. Aborts, rolling back everything fn changed through the tx
// helpers, when fn returns another Status (which RunTx returns), when fn throws
// (std::bad_alloc -> OUT_OF_MEMORY, anything else -> UNKNOWN_ERROR), or when libpmemobj aborted
// the transaction (its error -> Status). pmemobj_tx_end is always called.
// REQUIRES: not inside a transaction (else TRANSACTION_SCOPE_ERROR); fn does not call RunTx.
template <class Fn>
Status RunTx(PMEMobjpool* pop, Fn&& fn) {
  Status s = CheckOutsideTx();
  if (!s.ok()) return s;
  int err = pmemobj_tx_begin(pop, nullptr, TX_PARAM_NONE);
  if (err != 0) {
    pmemobj_tx_end();  // required even after a failed begin (the stage is ONABORT)
    return TxStatus(err, "cannot begin a transaction");
  }
  pmemobj_tx_set_failure_behavior(POBJ_TX_FAILURE_RETURN);
  try {
    s = fn();
  } catch (const std::bad_alloc&) {
    s = Status::OutOfMemory("out of memory (DRAM) during a transaction");
  } catch (const std::exception& e) {
    s = Status::Unknown(std::string("engine failed during a transaction: ") + e.what());
  } catch (...) {
    s = Status::Unknown("engine failed during a transaction");
  }
  if (pmemobj_tx_stage() == TX_STAGE_WORK) {
    if (s.ok())
      pmemobj_tx_commit();  // durable once it returns
    else
      pmemobj_tx_abort(ECANCELED);
  }
  err = pmemobj_tx_end();
  if (s.ok() && err != 0) s = TxStatus(err, "transaction aborted");
  return s;
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

// Allocates an object of `n` bytes (zeroed when `zero`) with `type_num`. It becomes permanent
// at commit and is freed by an abort or a crash before commit. On failure *out is untouched:
// OUT_OF_MEMORY when the pool is full, INVALID_ARGUMENT for n == 0 or above
// PMEMOBJ_MAX_ALLOC_SIZE. REQUIRES: inside RunTx.
inline Status TxAlloc(size_t n, uint64_t type_num, PMEMoid* out, bool zero = false) {
  PMEMoid oid = pmemobj_tx_xalloc(n, type_num, POBJ_XALLOC_NO_ABORT | (zero ? POBJ_XALLOC_ZERO : 0));
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
