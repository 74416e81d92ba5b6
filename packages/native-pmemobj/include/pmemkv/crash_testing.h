// Crash-point testing for engines' native tests: kills a child process at every crash point
// (crash_point.h) that one operation passes, one run per point, and hands each outcome to the
// test to check. Engines differ in what they check after a crash (the state before or after
// the operation, their Verify(), no leaked allocation), not in how the kill is done; that part
// lives here once.
//
//   int points = pmemkv::testing::KillAtEveryCrashPoint(prepared, work,
//       [&](const std::string& pool) { return OpenAndApply(pool); },       // runs in the child
//       [&](const pmemkv::testing::CrashOutcome& o) { return CheckPool(work, o.killed); });
//   CHECK(points >= expected_minimum);
//
// For k = 1, 2, ...: `prepared` is copied to `work`; a forked child runs op(work) with a hook
// that raises SIGKILL at its k-th crash point; the parent waits, then calls check(outcome).
// The loop ends when the child completes the operation before reaching point k (so every
// point was killed at once). Returns the number of points killed, or -1 when a child failed
// otherwise (its operation returned an error, or it died another way) or check returned false
// (both are reported on stderr with the step).
//
// REQUIRES: called from a single-threaded test program (fork), with no pool of `work` open.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "crash_point.h"
#include "status.h"

namespace pmemkv {
namespace testing {

struct CrashOutcome {
  int step;     // the crash point the child was to be killed at (1-based)
  bool killed;  // true: killed there (state must be as before the operation, or recoverable
                // to it); false: the operation completed (state after it)
};

// A byte-for-byte copy of `from` at `to` (replacing it). False on any I/O error.
inline bool CopyFile(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  out << in.rdbuf();
  return in.good() || in.eof() ? static_cast<bool>(out) : false;
}

namespace crash_testing_internal {
inline int& Target() {
  static int target = 0;
  return target;
}
inline int& Seen() {
  static int seen = 0;
  return seen;
}
inline void KillAtTarget(const char*) {
  if (++Seen() == Target()) raise(SIGKILL);
}
}  // namespace crash_testing_internal

inline int KillAtEveryCrashPoint(const std::string& prepared, const std::string& work,
                                 const std::function<Status(const std::string& pool)>& op,
                                 const std::function<bool(const CrashOutcome&)>& check) {
  int points = 0;
  for (int k = 1;; k++) {
    if (!CopyFile(prepared, work)) {
      std::fprintf(stderr, "crash point %d: cannot copy %s to %s\n", k, prepared.c_str(), work.c_str());
      return -1;
    }
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      return -1;
    }
    if (pid == 0) {
      crash_testing_internal::Target() = k;
      crash_testing_internal::Seen() = 0;
      SetCrashHook(crash_testing_internal::KillAtTarget);
      const Status s = op(work);
      if (!s.ok()) std::fprintf(stderr, "crash point %d: the operation failed: %s\n", k, s.message().c_str());
      _exit(s.ok() ? 0 : 3);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
      std::perror("waitpid");
      return -1;
    }
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    const bool completed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!killed && !completed) {
      std::fprintf(stderr, "crash point %d: the child failed (wait status %d)\n", k, status);
      return -1;
    }
    if (!check(CrashOutcome{k, killed})) {
      std::fprintf(stderr, "crash point %d (%s): the pool is not as expected\n", k, killed ? "killed" : "completed");
      return -1;
    }
    if (completed) return points;
    points++;
  }
}

}  // namespace testing
}  // namespace pmemkv
