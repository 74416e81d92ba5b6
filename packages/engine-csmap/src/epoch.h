// Epoch-based reclamation (Fraser, "Practical lock-freedom", 2004) of DRAM blocks that lock-free
// readers may still be looking at: skip-list nodes unlinked by a remove, and replaced bucket
// arrays of the hash index.
//
// A thread reads shared nodes only inside an Epochs::Guard. A writer that has unlinked a block
// calls Retire(block); the block is freed once every thread that was inside a guard
// when it was retired has left that guard. One domain serves the whole process (every csmap
// engine, every thread: the JS threads, worker threads and libuv pool threads); a retired
// block needs nothing of the engine that retired it, so an engine may close while its
// retired blocks wait.
//
// Protocol. A global counter counts epochs. Entering a guard announces the current epoch in
// the thread's slot, re-reading the counter until the announcement equals it (so an advance can
// never miss a thread that is about to read). The epoch advances from e to e + 1 only while
// every announced slot says e. A block retired when the counter read e (after it was unlinked)
// is reachable only by threads announced at e or earlier; once the counter reaches e + 2 each of
// those has left its guard, so the block is freed then. Retired blocks wait in three bags per
// thread, one per epoch modulo 3; a bag is emptied when its epoch comes round again.
//
// Thread-safety: every function may be called from any thread. Guards nest on one thread. A
// thread's slot and bags are released when the thread exits (its bags go to an orphan list
// that later advances free).
//
// Cost: entering is one sequentially consistent store and a load on the thread's own cache
// line; leaving is one release store. Retire is a push; every kAdvanceEvery retires per
// thread try one advance (a scan of the thread slots).
#pragma once

#include <cstdint>

namespace csmap {

class Epochs {
 public:
  // Inside a guard, blocks retired by any thread stay allocated.
  class Guard {
   public:
    Guard() noexcept;
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
  };

  // Schedules `block` (from std::malloc) to be freed with std::free once no reader can reach
  // it. The domain keeps its list link in the block's first 8 bytes, which no reader may look
  // at once the block is retired. REQUIRES: the block is already unreachable for a reader
  // that starts now.
  static void Retire(void* block) noexcept;

  // Tries to advance the epoch and frees what it can (for tests; Retire does it on its own).
  static void Collect() noexcept;

  // Blocks retired and not freed yet, over all threads (for tests and diagnostics).
  static uint64_t Pending() noexcept;

  // A thread's announcement and bags (epoch.cc).
  struct Slot;

 private:
  static Slot* ThisThread() noexcept;
};

}  // namespace csmap
