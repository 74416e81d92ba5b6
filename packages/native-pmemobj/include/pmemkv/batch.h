// Atomic batches: the parts every engine's Batch shares.
//
//   BatchInOneTransaction  for engines whose Put and Remove run in a TxScope (tx.h): the whole
//                          batch is one transaction that each operation joins
//   PlanBatch              for engines built on the action API (actions.h): one operation per
//                          key (the last one wins) in a fixed lock order, so that a batch can
//                          take every lock it needs without deadlocking against another
//
// Errors name the operation: "batch operation 3: <what went wrong>"; nothing of the batch is
// applied then.
#pragma once

#include <libpmemobj.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "engine.h"
#include "status.h"
#include "tx.h"

namespace pmemkv {

// `s` with "batch operation <i>: " in front of its message.
inline Status BatchOpError(size_t i, const Status& s) {
  return Status(s.code(), "batch operation " + std::to_string(i) + ": " + s.message());
}

// Applies `ops` in order, each through engine.Put / engine.Remove, inside one transaction on
// `pop`: all of them or none, across a crash too. A Remove of a missing key is not an error.
// REQUIRES: the engine's Put and Remove open their changes with TxScope/RunTx on `pop`, and
// keep their DRAM state right when the outer transaction aborts (a TxScope OnAbort hook).
inline Status BatchInOneTransaction(PMEMobjpool* pop, Engine& engine, const std::vector<BatchOp>& ops) {
  return RunTx(pop, [&]() -> Status {
    for (size_t i = 0; i < ops.size(); i++) {
      const BatchOp& op = ops[i];
      Status s = op.is_put ? engine.Put(op.key, op.value) : engine.Remove(op.key);
      if (!s.ok() && !s.IsNotFound()) return BatchOpError(i, s);
    }
    return Status::OK();
  });
}

// One operation of a planned batch.
struct PlannedOp {
  uint64_t lock;      // the engine's lock (stripe, shard) for the key
  size_t index;       // position in the batch (for errors)
  const BatchOp* op;  // the last operation of the batch on this key
};

// The operations of `ops` that take effect (the last one per key), sorted by lock_of(key)
// and, within a lock, by position. LockOf: uint64_t(Slice key).
template <class LockOf>
std::vector<PlannedOp> PlanBatch(const std::vector<BatchOp>& ops, LockOf&& lock_of) {
  // Which operations take effect: walked from the last, an operation whose key a later one
  // already claimed is dropped, so the claims left are the plan. They are positions in one
  // open-addressing table of at least twice as many slots as operations (every probe ends at
  // an empty slot, soon): no allocation per operation, unlike a node-based map.
  const size_t n = ops.size();
  constexpr size_t kEmpty = SIZE_MAX;
  size_t slots = 16;
  while (slots < 2 * n) slots <<= 1;
  std::vector<size_t> claims(slots, kEmpty);
  size_t kept = 0;
  for (size_t i = n; i-- > 0;) {
    const Slice key(ops[i].key);
    for (size_t at = std::hash<Slice>{}(key) & (slots - 1);; at = (at + 1) & (slots - 1)) {
      const size_t j = claims[at];
      if (j == kEmpty) {
        claims[at] = i;
        ++kept;
        break;
      }
      if (Slice(ops[j].key) == key) break;  // a later operation on this key wins
    }
  }
  std::vector<PlannedOp> plan;
  plan.reserve(kept);
  for (size_t i : claims)
    if (i != kEmpty) plan.push_back(PlannedOp{lock_of(Slice(ops[i].key)), i, &ops[i]});
  std::sort(plan.begin(), plan.end(), [](const PlannedOp& a, const PlannedOp& b) {
    return a.lock != b.lock ? a.lock < b.lock : a.index < b.index;
  });
  return plan;
}

}  // namespace pmemkv
