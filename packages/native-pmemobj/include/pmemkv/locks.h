// Locks for engines and the SDK (DRAM only: never stored in a pool, so they need no recovery).
//
//   RwSpinLock  a one-word reader-writer spin lock for short critical sections (a bucket of a
//               hash table): readers share it, a writer excludes everyone, and a waiting writer
//               holds back new readers so that a stream of readers cannot starve it.
//   RwLock      a blocking reader-writer lock (pthread_rwlock, writers preferred) for sections
//               long enough that waiters should sleep rather than spin.
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdint>

namespace pmemkv {

// RwSpinLock: readers share the lock; a writer excludes everyone. A writer that has to wait
// raises a "writer waiting" bit that holds back new readers. try_lock never raises that bit, so
// a thread that takes the lock only with try_lock for writing lets readers re-enter
// lock_shared recursively without risk of deadlock. Waiters spin with a CPU pause for a short
// while, then yield their time slice: holders keep the lock for about one persistent-memory
// operation, but a holder may be descheduled, and these machines have few cores.
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

// A blocking reader-writer lock that prefers writers: once a writer waits, new readers wait
// behind it, so a single writer is never starved by back-to-back readers.
class RwLock {
 public:
  RwLock() noexcept {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~RwLock() { pthread_rwlock_destroy(&lock_); }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void lock_shared() noexcept { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() noexcept { pthread_rwlock_unlock(&lock_); }
  void lock() noexcept { pthread_rwlock_wrlock(&lock_); }
  void unlock() noexcept { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

// RAII holders, for either lock.
template <class Lock>
class SharedLockGuardOf {
 public:
  explicit SharedLockGuardOf(Lock& lock) noexcept : lock_(lock) { lock_.lock_shared(); }
  ~SharedLockGuardOf() { lock_.unlock_shared(); }
  SharedLockGuardOf(const SharedLockGuardOf&) = delete;
  SharedLockGuardOf& operator=(const SharedLockGuardOf&) = delete;

 private:
  Lock& lock_;
};

template <class Lock>
class WriteLockGuardOf {
 public:
  explicit WriteLockGuardOf(Lock& lock) noexcept : lock_(lock) { lock_.lock(); }
  ~WriteLockGuardOf() { lock_.unlock(); }
  WriteLockGuardOf(const WriteLockGuardOf&) = delete;
  WriteLockGuardOf& operator=(const WriteLockGuardOf&) = delete;

 private:
  Lock& lock_;
};

using SharedLockGuard = SharedLockGuardOf<RwSpinLock>;
using SpinWriteGuard = WriteLockGuardOf<RwSpinLock>;
using ReadLockGuard = SharedLockGuardOf<RwLock>;
using WriteLockGuard = WriteLockGuardOf<RwLock>;

}  // namespace pmemkv
