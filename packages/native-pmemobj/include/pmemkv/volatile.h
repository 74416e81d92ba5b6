// Memory for volatile engines (descriptor `persistent = false`: vmap, vcmap). A volatile engine
// has no libpmemobj pool; it keeps its entries in a VolatileHeap chosen by pmemkv's config keys:
//
//   no `path`                 DRAM: blocks of up to 1 MiB from huge-page-advised mappings
//                             (dram_blocks.h), larger ones from malloc. `size`, when given
//                             and not 0, is a hard limit on the bytes the engine holds
//                             (entries and index, as allocated): an allocation beyond it
//                             fails, and the engine answers OUT_OF_MEMORY with everything
//                             stored before still readable.
//   `path` (a directory)      a temporary file-backed heap of `size` bytes (required) in that
//   and `size`                directory: a file created there with mode 0600 and unlinked at
//                             once (so nothing is left behind, even after a crash), mapped
//                             shared, its blocks reserved with posix_fallocate in steps as the
//                             heap grows (a full file system is OUT_OF_MEMORY, never SIGBUS).
//                             Closing unmaps and closes it, and the file system frees it.
//                             A `path` that is not an existing directory is INVALID_ARGUMENT.
//
// Nothing survives close, nor a crash, in either placement. The file-backed heap lets a machine
// with a DAX or large disk file system hold more than DRAM; its allocator is a size-class free
// list over the mapping under one mutex (freed blocks are reused by requests of their class or
// smaller), simpler and slower than malloc.
//
//   VolatileHeap      the heap; Allocate/Free. Thread-safe.
//   HeapAllocator<T>  an STL allocator over a VolatileHeap (throws std::bad_alloc when full).
//   Pair              one heap block holding a key and its value.
//   PairTable         an open-addressing hash index of Pairs (linear probing, backward-shift
//                     deletion). Not thread-safe: the engine locks around it.
//
// Config keys (both placements): `size` as above; `name` (engines that declare
// `shared_by_name`): opens with the same `path` and `name` (either may be absent) share one
// instance in the process, from any thread or worker; an open without both is private.
#pragma once

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>

#include "dram_blocks.h"
#include "engine.h"
#include "status.h"

namespace pmemkv {

// The config schema of engines on a VolatileHeap that declare `shared_by_name` (descriptor.h):
// their one key of their own, `name`; `path` and `size` are core's.
constexpr const char* kVolatileConfigSchema =
    R"({"type":"object","properties":{"name":{"type":"string","description":)"
    R"("Names the instance: opens in this process (any thread or worker) with the same name and )"
    R"(path share one instance; without name and path every open is private. No default."}}})";

class VolatileHeap {
 public:
  // Opens the heap `cfg` asks for (see above). `engine` names the engine in messages.
  static Status Open(const Config& cfg, const char* engine, std::unique_ptr<VolatileHeap>* out) {
    std::unique_ptr<VolatileHeap> heap(new VolatileHeap());
    heap->limit_ = cfg.size;
    if (!cfg.path.empty()) {
      Status s = heap->MapFile(cfg.path, cfg.size, engine);
      if (!s.ok()) return s;
    }
    *out = std::move(heap);
    return Status::OK();
  }

  ~VolatileHeap() {
    if (base_ != nullptr) ::munmap(base_, capacity_);
    if (fd_ >= 0) ::close(fd_);
  }
  VolatileHeap(const VolatileHeap&) = delete;
  VolatileHeap& operator=(const VolatileHeap&) = delete;

  bool file_backed() const noexcept { return base_ != nullptr; }
  // Bytes allocated now (DRAM: usable sizes; file-backed: blocks with their headers).
  uint64_t used() const noexcept { return used_.load(std::memory_order_relaxed); }

  // n bytes aligned to 8, or nullptr when the limit, the file or DRAM is exhausted.
  void* Allocate(size_t n) noexcept {
    if (file_backed()) return FileAllocate(n);
    void* p;
    uint64_t size;
    if (DramBlocks::Serves(n)) {
      p = blocks_.Allocate(n, &size);
      if (p == nullptr) return nullptr;
    } else {
      // Larger than a block: malloc, behind a header word that says so.
      if (n > SIZE_MAX - kHeader) return nullptr;
      char* raw = static_cast<char*>(std::malloc(n + kHeader));
      if (raw == nullptr) return nullptr;
      std::memcpy(raw, &kMallocTag, sizeof kMallocTag);
      p = raw + kHeader;
      size = limit_ != 0 ? ::malloc_usable_size(raw) : 0;
    }
    if (limit_ != 0 && used_.fetch_add(size, std::memory_order_relaxed) + size > limit_) {
      used_.fetch_sub(size, std::memory_order_relaxed);
      DramFree(p);
      return nullptr;
    }
    return p;
  }

  // REQUIRES: p came from this heap's Allocate (or is null).
  void Free(void* p) noexcept {
    if (p == nullptr) return;
    if (file_backed()) return FileFree(p);
    const uint64_t size = DramFree(p);
    if (limit_ != 0) used_.fetch_sub(size, std::memory_order_relaxed);
  }

  // The message of an OUT_OF_MEMORY from this heap.
  std::string FullMessage(const char* engine) const {
    if (file_backed())
      return std::string(engine) + ": the heap file in " + dir_ + " is full (size " + std::to_string(capacity_) +
             " bytes, or its file system has no space left): remove entries, or open with a larger size";
    if (limit_ != 0)
      return std::string(engine) + ": the size limit of " + std::to_string(limit_) +
             " bytes is reached: remove entries, or open with a larger size";
    return std::string(engine) + ": out of memory (DRAM)";
  }

 private:
  VolatileHeap() = default;

  // The header word of a DRAM allocation that malloc holds (a DramBlocks header has a small
  // class number in its low half).
  static constexpr uint64_t kMallocTag = ~uint64_t{0};
  static_assert(DramBlocks::kHeader == 8, "DRAM allocations share one header size");

  // Frees a DRAM allocation; returns the bytes it counted against the limit.
  uint64_t DramFree(void* p) noexcept {
    uint64_t header;
    std::memcpy(&header, static_cast<char*>(p) - kHeader, sizeof header);
    if (header != kMallocTag) return blocks_.Free(p);
    char* raw = static_cast<char*>(p) - kHeader;
    const uint64_t size = limit_ != 0 ? ::malloc_usable_size(raw) : 0;
    std::free(raw);
    return size;
  }

  // Size classes: 16 B, then four per doubling (at most 19 % rounding) up to 2^47.
  static constexpr int kClasses = 4 * 44;
  static constexpr uint64_t kHeader = 8;         // each file block starts with its class
  static constexpr uint64_t kReserveStep = 8u << 20;  // posix_fallocate granularity

  static int ClassOf(uint64_t n) noexcept {
    if (n <= 16) return 0;
    const int log = 63 - __builtin_clzll(n - 1);  // 2^log <= n - 1 < 2^(log+1), log >= 4
    const int quarter = static_cast<int>(((n - 1) >> (log - 2)) & 3);
    return (log - 4) * 4 + quarter + 1;
  }
  static uint64_t ClassSize(int c) noexcept {
    if (c == 0) return 16;
    const int log = (c - 1) / 4 + 4, quarter = (c - 1) % 4;
    return (uint64_t{5} + quarter) << (log - 2);
  }

  Status MapFile(const std::string& dir, uint64_t size, const char* engine) {
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0)
      return Status::InvalidArgument(std::string(engine) + ": path " + dir + " does not exist (" + std::strerror(errno) +
                                     "): with path, give an existing directory for the temporary heap file");
    if (!S_ISDIR(st.st_mode))
      return Status::InvalidArgument(std::string(engine) + ": path " + dir +
                                     " is not a directory: a volatile engine's path names an existing directory, where "
                                     "it keeps a temporary heap file");
    if (size == 0)
      return Status::InvalidArgument(std::string(engine) + ": with path, size (the heap file's size in bytes) is required");
    std::string name = dir + (dir.back() == '/' ? "" : "/") + ".pmemkv-" + engine + "-XXXXXX";
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ < 0)
      return Status::InvalidArgument(std::string(engine) + ": cannot create a heap file in " + dir + ": " +
                                     std::strerror(errno));
    ::unlink(name.c_str());  // the file lives only as long as it is open
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return Status::InvalidArgument(std::string(engine) + ": cannot size the heap file in " + dir + " to " +
                                     std::to_string(size) + " bytes: " + std::strerror(errno));
    void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd_, 0);
    if (base == MAP_FAILED)
      return Status::OutOfMemory(std::string(engine) + ": cannot map a heap file of " + std::to_string(size) +
                                 " bytes: " + std::strerror(errno));
    base_ = static_cast<char*>(base);
    capacity_ = size;
    dir_ = dir;
    return Status::OK();
  }

  void* FileAllocate(size_t n) noexcept {
    const int c = ClassOf(uint64_t{n} + kHeader);
    if (c >= kClasses) return nullptr;
    const uint64_t size = ClassSize(c);
    std::lock_guard<std::mutex> lock(mutex_);
    // A free block of this class, else a new one from the top, else a free block of a larger class.
    int from = c;
    char* block = nullptr;
    if (free_[c] == nullptr && size <= capacity_ - top_ && Reserve(top_ + size)) {
      block = base_ + top_;
      top_ += size;
    } else {
      while (from < kClasses && free_[from] == nullptr) from++;
      if (from == kClasses) return nullptr;
      block = static_cast<char*>(free_[from]);
      std::memcpy(&free_[from], block, sizeof(void*));  // pop: the block's first word links the list
    }
    const uint64_t cls = static_cast<uint64_t>(from);
    std::memcpy(block, &cls, sizeof cls);
    used_.fetch_add(ClassSize(from), std::memory_order_relaxed);
    return block + kHeader;
  }

  void FileFree(void* p) noexcept {
    char* block = static_cast<char*>(p) - kHeader;
    uint64_t cls;
    std::memcpy(&cls, block, sizeof cls);
    std::lock_guard<std::mutex> lock(mutex_);
    std::memcpy(block, &free_[cls], sizeof(void*));  // the free list's link replaces the header
    free_[cls] = block;
    used_.fetch_sub(ClassSize(static_cast<int>(cls)), std::memory_order_relaxed);
  }

  // Reserves file blocks up to `end`, in steps, so a page fault never meets a full file system.
  bool Reserve(uint64_t end) noexcept {
    if (end <= reserved_) return true;
    uint64_t to = std::min(capacity_, std::max(end, reserved_ + kReserveStep));
    if (::posix_fallocate(fd_, static_cast<off_t>(reserved_), static_cast<off_t>(to - reserved_)) != 0) {
      to = end;  // the step may not fit: try exactly what is needed
      if (::posix_fallocate(fd_, static_cast<off_t>(reserved_), static_cast<off_t>(to - reserved_)) != 0) return false;
    }
    reserved_ = to;
    return true;
  }

  uint64_t limit_ = 0;  // DRAM: 0 = no limit
  std::atomic<uint64_t> used_{0};
  // DRAM heap: requests of up to a block's size (the rest go to malloc).
  DramBlocks blocks_;
  // File-backed heap.
  int fd_ = -1;
  char* base_ = nullptr;
  uint64_t capacity_ = 0;
  std::string dir_;
  std::mutex mutex_;
  uint64_t top_ = 0;       // GUARDED_BY(mutex_): bytes handed out from the start of the mapping
  uint64_t reserved_ = 0;  // GUARDED_BY(mutex_): bytes of the file reserved with posix_fallocate
  void* free_[kClasses] = {};  // GUARDED_BY(mutex_): free blocks per class, linked through their first word
};

// Opens EngineClass on the heap `cfg` asks for: the whole Open of a volatile engine whose
// constructor takes its heap, `explicit EngineClass(std::unique_ptr<VolatileHeap>)`.
template <class EngineClass>
Status OpenOnHeap(const Config& cfg, const char* engine, std::unique_ptr<Engine>* out) {
  std::unique_ptr<VolatileHeap> heap;
  Status s = VolatileHeap::Open(cfg, engine, &heap);
  if (s.ok()) out->reset(new EngineClass(std::move(heap)));
  return s;
}

// An STL allocator over a VolatileHeap: std::bad_alloc when the heap is full (the SDK glue
// turns it into OUT_OF_MEMORY).
template <class T>
class HeapAllocator {
 public:
  using value_type = T;
  explicit HeapAllocator(VolatileHeap* heap) noexcept : heap_(heap) {}
  template <class U>
  HeapAllocator(const HeapAllocator<U>& other) noexcept : heap_(other.heap()) {}

  T* allocate(size_t n) {
    void* p = heap_->Allocate(n * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { heap_->Free(p); }
  VolatileHeap* heap() const noexcept { return heap_; }

  template <class U>
  bool operator==(const HeapAllocator<U>& o) const noexcept { return heap_ == o.heap(); }
  template <class U>
  bool operator!=(const HeapAllocator<U>& o) const noexcept { return heap_ != o.heap(); }

 private:
  VolatileHeap* heap_;
};

// A key and its value in one heap block: [u32 key size][u32 value size][key][value].
// Immutable once made; an overwrite makes a new Pair.
class Pair {
 public:
  // Largest key or value: sizes are 32-bit.
  static constexpr uint64_t kMaxSize = UINT32_MAX;

  // A new pair, or nullptr when the heap is full. REQUIRES: sizes <= kMaxSize.
  static Pair* Make(VolatileHeap& heap, Slice key, Slice value) noexcept {
    void* p = heap.Allocate(sizeof(Pair) + key.size() + value.size());
    if (p == nullptr) return nullptr;
    Pair* pair = new (p) Pair(static_cast<uint32_t>(key.size()), static_cast<uint32_t>(value.size()));
    if (!key.empty()) std::memcpy(pair->data(), key.data(), key.size());
    if (!value.empty()) std::memcpy(pair->data() + key.size(), value.data(), value.size());
    return pair;
  }
  static void Destroy(VolatileHeap& heap, Pair* pair) noexcept { heap.Free(pair); }

  Slice key() const noexcept { return Slice(data(), key_size_); }
  Slice value() const noexcept { return Slice(data() + key_size_, value_size_); }

  // INVALID_ARGUMENT when a key or value is too large for a Pair.
  static Status CheckSizes(Slice key, Slice value, const char* engine) {
    if (key.size() > kMaxSize || value.size() > kMaxSize)
      return Status::InvalidArgument(std::string(engine) + ": keys and values are limited to 4 GiB - 1 bytes");
    return Status::OK();
  }

 private:
  Pair(uint32_t k, uint32_t v) noexcept : key_size_(k), value_size_(v) {}
  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
  const char* data() const noexcept { return reinterpret_cast<const char*>(this + 1); }

  uint32_t key_size_;
  uint32_t value_size_;
};

// A 64-bit hash of a key (8 bytes at a time, multiply and xor-shift mixing); never 0.
inline uint64_t HashKey(Slice key) noexcept {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;
  uint64_t h = key.size() * kMul;
  size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, key.data() + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  if (i < key.size()) std::memcpy(&tail, key.data() + i, key.size() - i);
  h = (h ^ tail) * kMul;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return h == 0 ? 1 : h;
}

// An open-addressing hash index of Pairs by key: linear probing over slots of {hash, pair},
// hash 0 marking an empty slot; removal shifts the following run back (no tombstones). The
// slot array lives in the heap and doubles when 3/4 full. Not thread-safe. Does not own the
// pairs: the engine frees what Erase and Insert hand back, and destroys the rest itself.
class PairTable {
 public:
  explicit PairTable(VolatileHeap& heap) noexcept : heap_(heap) {}
  ~PairTable() { heap_.Free(slots_); }
  PairTable(const PairTable&) = delete;
  PairTable& operator=(const PairTable&) = delete;

  uint64_t size() const noexcept { return size_; }

  Pair* Find(Slice key, uint64_t hash) const noexcept {
    if (slots_ == nullptr) return nullptr;
    for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hash == 0) return nullptr;
      if (s.hash == hash && s.pair->key() == key) return s.pair;
    }
  }

  // Inserts `pair`, or replaces the pair of the same key (handed back in *old, else null).
  // False when the slot array must grow and the heap is full: then nothing changed.
  bool Insert(Pair* pair, uint64_t hash, Pair** old) noexcept {
    *old = nullptr;
    if ((size_ + 1) * 4 > capacity() * 3 && !Grow()) {
      // Full table: an overwrite still fits.
      if (Slot* s = Lookup(pair->key(), hash)) {
        *old = s->pair;
        s->pair = pair;
        return true;
      }
      return false;
    }
    for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.hash == 0) {
        s = Slot{hash, pair};
        size_++;
        return true;
      }
      if (s.hash == hash && s.pair->key() == pair->key()) {
        *old = s.pair;
        s.pair = pair;
        return true;
      }
    }
  }

  // Removes the pair of `key` and returns it; null when absent.
  Pair* Erase(Slice key, uint64_t hash) noexcept {
    Slot* s = Lookup(key, hash);
    if (s == nullptr) return nullptr;
    Pair* out = s->pair;
    uint64_t hole = static_cast<uint64_t>(s - slots_);
    for (uint64_t i = (hole + 1) & mask_; slots_[i].hash != 0; i = (i + 1) & mask_) {
      const uint64_t home = slots_[i].hash & mask_;
      // Move slot i into the hole when its home is not in (hole, i] (cyclically).
      if (((i - home) & mask_) >= ((i - hole) & mask_)) {
        slots_[hole] = slots_[i];
        hole = i;
      }
    }
    slots_[hole] = Slot{0, nullptr};
    size_--;
    return out;
  }

  // Calls f(Pair*) for every pair, in slot order.
  template <class F>
  void ForEach(F&& f) const {
    for (uint64_t i = 0; slots_ != nullptr && i <= mask_; i++)
      if (slots_[i].hash != 0) f(slots_[i].pair);
  }

 private:
  struct Slot {
    uint64_t hash;
    Pair* pair;
  };

  uint64_t capacity() const noexcept { return slots_ == nullptr ? 0 : mask_ + 1; }

  Slot* Lookup(Slice key, uint64_t hash) const noexcept {
    if (slots_ == nullptr) return nullptr;
    for (uint64_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.hash == 0) return nullptr;
      if (s.hash == hash && s.pair->key() == key) return &s;
    }
  }

  bool Grow() noexcept {
    const uint64_t n = slots_ == nullptr ? 8 : capacity() * 2;
    auto* fresh = static_cast<Slot*>(heap_.Allocate(n * sizeof(Slot)));
    if (fresh == nullptr) return false;
    std::memset(static_cast<void*>(fresh), 0, n * sizeof(Slot));
    const uint64_t mask = n - 1;
    for (uint64_t i = 0; slots_ != nullptr && i <= mask_; i++) {
      if (slots_[i].hash == 0) continue;
      uint64_t j = slots_[i].hash & mask;
      while (fresh[j].hash != 0) j = (j + 1) & mask;
      fresh[j] = slots_[i];
    }
    heap_.Free(slots_);
    slots_ = fresh;
    mask_ = mask;
    return true;
  }

  VolatileHeap& heap_;
  Slot* slots_ = nullptr;
  uint64_t mask_ = 0;
  uint64_t size_ = 0;
};

}  // namespace pmemkv
