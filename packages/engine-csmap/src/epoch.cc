// Epochs: see epoch.h for the protocol and why it is safe.
#include "epoch.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace csmap {

namespace {

// Retires per thread between two attempts to advance the epoch.
constexpr uint64_t kAdvanceEvery = 64;

// Blocks retired in one epoch, linked through their first word.
struct Bag {
  void* head = nullptr;
  uint64_t epoch = 0;
  uint64_t count = 0;
};

void*& LinkOf(void* block) noexcept { return *static_cast<void**>(block); }

}  // namespace

struct Epochs::Slot {
  // The epoch this thread announced on entering its outermost guard; 0 outside every guard.
  alignas(64) std::atomic<uint64_t> announced{0};
  std::atomic<bool> in_use{false};
  Slot* next_slot = nullptr;  // the registry's list; immutable once the slot is published
  // Owned by the thread holding the slot.
  unsigned depth = 0;
  uint64_t retired = 0;
  Bag bags[3];
};

namespace {

// Process-wide state, never destroyed: threads of the thread pool may still run when static
// destructors would.
struct Domain {
  alignas(64) std::atomic<uint64_t> epoch{1};
  alignas(64) std::atomic<Epochs::Slot*> slots{nullptr};
  std::atomic<uint64_t> pending{0};
  std::mutex orphans_mutex;
  std::vector<Bag> orphans;  // GUARDED_BY(orphans_mutex): bags of threads that exited
};

Domain& D() noexcept {
  static Domain* domain = new Domain();
  return *domain;
}

void FreeBag(Bag* bag) noexcept {
  for (void* b = bag->head; b != nullptr;) {
    void* next = LinkOf(b);
    std::free(b);
    b = next;
  }
  D().pending.fetch_sub(bag->count, std::memory_order_relaxed);
  bag->head = nullptr;
  bag->count = 0;
}

// A bag of epoch e may be freed once the global epoch is e + 2 or later (epoch.h).
bool Expired(const Bag& bag, uint64_t global) noexcept { return bag.head != nullptr && bag.epoch + 2 <= global; }

// Advances the epoch by one when every thread inside a guard announced the current one.
void TryAdvance() noexcept {
  Domain& d = D();
  uint64_t e = d.epoch.load(std::memory_order_seq_cst);
  for (Epochs::Slot* s = d.slots.load(std::memory_order_acquire); s != nullptr; s = s->next_slot) {
    const uint64_t a = s->announced.load(std::memory_order_seq_cst);
    if (a != 0 && a != e) return;
  }
  d.epoch.compare_exchange_strong(e, e + 1, std::memory_order_seq_cst);
}

void ReleaseSlot(Epochs::Slot* s) noexcept {
  Domain& d = D();
  {
    std::lock_guard<std::mutex> lock(d.orphans_mutex);
    for (Bag& bag : s->bags) {
      if (bag.head == nullptr) continue;
      try {
        d.orphans.push_back(bag);
      } catch (...) {
        continue;  // no DRAM for the list: these blocks stay allocated (never freed early)
      }
      bag = Bag();
    }
  }
  s->depth = 0;
  s->retired = 0;
  s->announced.store(0, std::memory_order_release);
  s->in_use.store(false, std::memory_order_release);
}

struct SlotHolder {
  Epochs::Slot* slot = nullptr;
  ~SlotHolder() {
    if (slot != nullptr) ReleaseSlot(slot);
  }
};

thread_local SlotHolder t_holder;

}  // namespace

Epochs::Slot* Epochs::ThisThread() noexcept {
  Slot* s = t_holder.slot;
  if (__builtin_expect(s != nullptr, 1)) return s;
  Domain& d = D();
  for (Slot* free_slot = d.slots.load(std::memory_order_acquire); free_slot != nullptr; free_slot = free_slot->next_slot) {
    bool expected = false;
    if (!free_slot->in_use.load(std::memory_order_relaxed) &&
        free_slot->in_use.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
      t_holder.slot = free_slot;
      return free_slot;
    }
  }
  s = new Slot();  // once per thread ever alive at the same time; slots are reused, never freed
  s->in_use.store(true, std::memory_order_relaxed);
  Slot* head = d.slots.load(std::memory_order_relaxed);
  do {
    s->next_slot = head;
  } while (!d.slots.compare_exchange_weak(head, s, std::memory_order_release, std::memory_order_relaxed));
  t_holder.slot = s;
  return s;
}

Epochs::Guard::Guard() noexcept {
  Slot* s = ThisThread();
  if (s->depth++ > 0) return;
  Domain& d = D();
  // Announce, then make sure the announcement is of the epoch now current: an advance that
  // read this slot before the store could otherwise have moved past an epoch we still use.
  uint64_t e = d.epoch.load(std::memory_order_seq_cst);
  for (;;) {
    s->announced.store(e, std::memory_order_seq_cst);
    const uint64_t now = d.epoch.load(std::memory_order_seq_cst);
    if (now == e) break;
    e = now;
  }
}

Epochs::Guard::~Guard() {
  Slot* s = t_holder.slot;
  if (--s->depth == 0) s->announced.store(0, std::memory_order_release);
}

void Epochs::Retire(void* block) noexcept {
  Slot* s = ThisThread();
  Domain& d = D();
  const uint64_t e = d.epoch.load(std::memory_order_seq_cst);
  Bag& bag = s->bags[e % 3];
  if (bag.epoch != e) {
    // The bag's epoch is e - 3 or older (same residue): expired since the epoch reached e.
    FreeBag(&bag);
    bag.epoch = e;
  }
  LinkOf(block) = bag.head;
  bag.head = block;
  bag.count++;
  d.pending.fetch_add(1, std::memory_order_relaxed);
  if (++s->retired % kAdvanceEvery == 0 && s->depth == 0) Collect();
}

void Epochs::Collect() noexcept {
  Slot* s = ThisThread();
  if (s->depth != 0) return;  // our own announcement would hold the epoch back
  TryAdvance();
  Domain& d = D();
  const uint64_t global = d.epoch.load(std::memory_order_seq_cst);
  for (Bag& bag : s->bags)
    if (Expired(bag, global)) FreeBag(&bag);
  std::unique_lock<std::mutex> lock(d.orphans_mutex, std::try_to_lock);
  if (!lock.owns_lock()) return;
  for (size_t i = 0; i < d.orphans.size();) {
    if (Expired(d.orphans[i], global)) {
      FreeBag(&d.orphans[i]);
      d.orphans[i] = d.orphans.back();
      d.orphans.pop_back();
    } else {
      i++;
    }
  }
}

uint64_t Epochs::Pending() noexcept { return D().pending.load(std::memory_order_relaxed); }

}  // namespace csmap
