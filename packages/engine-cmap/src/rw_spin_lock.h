// RwSpinLock: a one-word reader-writer lock for short critical sections (DRAM only; it is
// never stored in a pool, so it needs no recovery).
//
// Readers share the lock; a writer excludes everyone. A writer that has to wait raises a
// "writer waiting" bit that holds back new readers, so a stream of readers cannot starve it.
// try_lock never raises that bit, so a thread that takes the lock only with try_lock for
// writing lets readers re-enter lock_shared recursively without risk of deadlock.
//
// Waiters spin with a CPU pause for a short while, then yield their time slice: holders
// keep the lock for about one persistent-memory transaction (a microsecond or two), but a
// holder may be descheduled, and these machines have few cores.
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>

namespace pmemkv {
namespace cmap {

class RwSpinLock {
 public:
  RwSpinLock() = default;
  RwSpinLock(const RwSpinLock&) = delete;
  RwSpinLock& operator=(const RwSpinLock&) = delete;

  void lock_shared() noexcept {
    for (unsigned spins = 0;; Backoff(&spins)) {
      uint32_t v = state_.load(std::memory_order_relaxed);
      if ((v & (kWriter | kWriterWaiting)) == 0 &&
          state_.compare_exchange_weak(v, v + 1, std::memory_order_acquire, std::memory_order_relaxed))
        return;
    }
  }
  void unlock_shared() noexcept { state_.fetch_sub(1, std::memory_order_release); }

  void lock() noexcept {
    for (unsigned spins = 0;; Backoff(&spins)) {
      uint32_t v = state_.load(std::memory_order_relaxed);
      if ((v & ~kWriterWaiting) == 0) {
        if (state_.compare_exchange_weak(v, kWriter, std::memory_order_acquire, std::memory_order_relaxed))
          return;
      } else if ((v & kWriterWaiting) == 0) {
        state_.fetch_or(kWriterWaiting, std::memory_order_relaxed);
      }
    }
  }
  // Takes the lock for writing only if nobody holds it; never waits, never blocks readers.
  bool try_lock() noexcept {
    uint32_t v = state_.load(std::memory_order_relaxed);
    return (v & ~kWriterWaiting) == 0 &&
           state_.compare_exchange_strong(v, kWriter | (v & kWriterWaiting), std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  // Clears only the writer bit: a "writer waiting" bit raised meanwhile stays up for the waiter.
  void unlock() noexcept { state_.fetch_and(~kWriter, std::memory_order_release); }

 private:
  static constexpr uint32_t kWriter = 1u << 31;
  static constexpr uint32_t kWriterWaiting = 1u << 30;

  static void Backoff(unsigned* spins) noexcept {
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

  // Bits 0..29: readers holding the lock; bit 30: a writer waits; bit 31: a writer holds it.
  std::atomic<uint32_t> state_{0};
};

// RAII holders.
class SharedLockGuard {
 public:
  explicit SharedLockGuard(RwSpinLock& lock) noexcept : lock_(lock) { lock_.lock_shared(); }
  ~SharedLockGuard() { lock_.unlock_shared(); }
  SharedLockGuard(const SharedLockGuard&) = delete;
  SharedLockGuard& operator=(const SharedLockGuard&) = delete;

 private:
  RwSpinLock& lock_;
};

}  // namespace cmap
}  // namespace pmemkv
