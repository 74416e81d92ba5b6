// DramBlocks: the small blocks of a volatile engine's DRAM heap (VolatileHeap without `path`),
// carved from anonymous mappings advised MADV_HUGEPAGE. A volatile engine's reads are a few
// dependent accesses to blocks scattered over its whole heap; on 4 KiB pages nearly every one
// of them also misses the TLB. Blocks packed into 2 MiB pages leave the TLB misses of a
// random get at about one per huge page touched instead of one per block (measured on
// vcmap with 1 M pairs: gets 25 % faster than over malloc). Where the kernel has transparent
// huge pages off, the advice is a no-op and the blocks sit on ordinary pages.
//
// Structure:
//   chunks   mappings of 2 MiB, doubling up to 64 MiB, 2 MiB-aligned; given back when the
//            heap closes, to a process-wide cache of up to 1 GiB that the next heap takes
//            from (KeptChunks), the rest unmapped
//   runs     a lane takes a run of kRunBytes from the current chunk and bump-allocates in it
//            (a block that does not fit in what is left of a run leaves that rest unused)
//   classes  block sizes in 16-byte steps up to 1 KiB, then 2^k + 64 bytes up to 1 MiB + 64
//            (the slot arrays of hash indexes are powers of two: one header past one fits);
//            a freed block goes on its lane's free list of its class and is reused by the
//            next request of that class there
//   lanes    kLanes of them, each with its own run, free lists and spin lock; a thread keeps
//            to one lane, so threads that allocate side by side share neither lock nor lines
//
// Every block starts with a header word: its class and its lane (a block freed by another
// thread goes back to the lane it came from).
//
// Thread-safety: thread-safe. Allocate and Free take the lane's lock; a new run or chunk also
// takes the chunk lock (ordered after a lane lock, never before).
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <vector>

#include "locks.h"

namespace pmemkv {

class DramBlocks {
 public:
  static constexpr uint64_t kHeader = 8;       // class (low 32 bits) and lane (high 32 bits)
  static constexpr uint64_t kStep = 16;           // small class sizes are multiples of this
  static constexpr uint64_t kSmallMax = 1024;      // largest small class
  static constexpr uint64_t kLargeSlack = 64;      // a large class is 2^k + this
  static constexpr int kLargeMinLog = 10, kLargeMaxLog = 20;
  static constexpr uint64_t kMaxBlock = (uint64_t{1} << kLargeMaxLog) + kLargeSlack;  // header included

  DramBlocks() = default;
  ~DramBlocks() {
    for (const Chunk& c : chunks_) KeptChunks::Get().Give(c.base, c.bytes);
  }
  DramBlocks(const DramBlocks&) = delete;
  DramBlocks& operator=(const DramBlocks&) = delete;

  // Whether a request of n bytes is served here (else the caller uses malloc).
  static bool Serves(uint64_t n) noexcept { return n <= kMaxBlock - kHeader; }

  // A block of at least n bytes, 8-byte aligned, and its size with the header in *block_bytes;
  // nullptr when no memory can be mapped. REQUIRES: Serves(n).
  void* Allocate(uint64_t n, uint64_t* block_bytes) noexcept {
    const uint32_t c = ClassOf(n + kHeader);
    const uint64_t size = ClassBytes(c);
    const uint32_t lane_id = LaneOfThisThread();
    Lane& lane = lanes_[lane_id];
    SpinWriteGuard g(lane.lock);
    char* block = static_cast<char*>(lane.free[c]);
    if (block != nullptr) {
      std::memcpy(&lane.free[c], block, sizeof(void*));  // pop: the link sits where the header goes
    } else {
      if (lane.end - lane.top < static_cast<std::ptrdiff_t>(size) && !NewRun(lane)) return nullptr;
      block = lane.top;
      lane.top += size;
    }
    const uint64_t header = uint64_t{c} | uint64_t{lane_id} << 32;
    std::memcpy(block, &header, sizeof header);
    *block_bytes = size;
    return block + kHeader;
  }

  // Gives back a block of Allocate; returns its size with the header.
  uint64_t Free(void* p) noexcept {
    char* block = static_cast<char*>(p) - kHeader;
    uint64_t header;
    std::memcpy(&header, block, sizeof header);
    const uint32_t c = static_cast<uint32_t>(header);
    Lane& lane = lanes_[header >> 32];
    SpinWriteGuard g(lane.lock);
    std::memcpy(block, &lane.free[c], sizeof(void*));
    lane.free[c] = block;
    return ClassBytes(c);
  }

 private:
  static constexpr uint32_t kLanes = 8;
  static constexpr uint32_t kSmallClasses = kSmallMax / kStep + 1;  // class 0 is never used
  static constexpr uint32_t kClasses = kSmallClasses + (kLargeMaxLog - kLargeMinLog + 1);
  static constexpr uint64_t kRunBytes = 4 << 20;  // three of the largest blocks and more
  static constexpr uint64_t kHugePage = 2 << 20;
  static constexpr uint64_t kFirstChunk = kRunBytes;
  static constexpr uint64_t kLastChunk = 64 << 20;
  static_assert(kRunBytes >= 3 * kMaxBlock, "a run holds several of the largest blocks");

  struct Chunk {
    char* base;
    uint64_t bytes;
  };
  struct alignas(64) Lane {
    RwSpinLock lock;  // taken exclusively only
    char* top = nullptr;  // GUARDED_BY(lock): the run's next free byte
    char* end = nullptr;  // GUARDED_BY(lock): the run's end
    void* free[kClasses] = {};  // GUARDED_BY(lock): freed blocks per class, linked through their first word
  };

  // The class of a block of `bytes` (header included). REQUIRES: bytes <= kMaxBlock.
  static uint32_t ClassOf(uint64_t bytes) noexcept {
    if (bytes <= kSmallMax) return static_cast<uint32_t>((bytes + kStep - 1) / kStep);
    int log = kLargeMinLog;
    while ((uint64_t{1} << log) + kLargeSlack < bytes) log++;
    return kSmallClasses + static_cast<uint32_t>(log - kLargeMinLog);
  }
  static uint64_t ClassBytes(uint32_t c) noexcept {
    if (c < kSmallClasses) return uint64_t{c} * kStep;
    return (uint64_t{1} << (kLargeMinLog + static_cast<int>(c - kSmallClasses))) + kLargeSlack;
  }

  uint32_t LaneOfThisThread() noexcept {
    static std::atomic<uint32_t> next{0};
    thread_local uint32_t lane = next.fetch_add(1, std::memory_order_relaxed) % kLanes;
    return lane;
  }

  // A fresh run for `lane` (the rest of its old run is left unused). REQUIRES: lane.lock held.
  bool NewRun(Lane& lane) noexcept {
    std::lock_guard<std::mutex> g(chunk_lock_);
    if (static_cast<uint64_t>(chunk_end_ - chunk_top_) < kRunBytes && !NewChunk()) return false;
    lane.top = chunk_top_;
    lane.end = chunk_top_ + kRunBytes;
    chunk_top_ += kRunBytes;
    return true;
  }

  // Maps the next chunk, 2 MiB-aligned (a larger mapping trimmed at both ends), advised huge.
  // REQUIRES: chunk_lock_ held.
  bool NewChunk() noexcept {
    uint64_t bytes = next_chunk_;
    char* base = KeptChunks::Get().Take(&bytes);
    if (base == nullptr && (base = MapChunk(bytes)) == nullptr) return false;
    try {
      chunks_.push_back(Chunk{base, bytes});
    } catch (...) {
      KeptChunks::Get().Give(base, bytes);
      return false;
    }
    chunk_top_ = base;
    chunk_end_ = base + bytes;
    if (next_chunk_ < kLastChunk) next_chunk_ *= 2;
    return true;
  }

  // A fresh mapping of `bytes`, 2 MiB-aligned, advised huge; nullptr when none can be mapped.
  static char* MapChunk(uint64_t bytes) noexcept {
    void* raw = ::mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
    if (aligned > start) ::munmap(raw, aligned - start);
    const uintptr_t tail = start + bytes + kHugePage - (aligned + bytes);
    if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + bytes), tail);
    char* base = reinterpret_cast<char*>(aligned);
    ::madvise(base, bytes, MADV_HUGEPAGE);  // advice only: ordinary pages where THP is off
    return base;
  }

  // The chunks of closed heaps, kept mapped for the next heap of the process (up to kKeptMax
  // bytes; the rest is unmapped). A heap that closes gives its memory back to the process, not
  // to the system, as free() does with most of what it is given: the next heap reuses pages
  // that are already faulted in instead of faulting in fresh huge pages (which can cost more
  // than the writes into them). Thread-safe; a heap takes a kept chunk of at least the size it
  // wants, the smallest such.
  class KeptChunks {
   public:
    static KeptChunks& Get() noexcept {
      static KeptChunks* kept = new KeptChunks();  // never destroyed: heaps may close during exit
      return *kept;
    }
    void Give(char* base, uint64_t bytes) noexcept {
      std::lock_guard<std::mutex> g(lock_);
      if (total_ + bytes <= kKeptMax) {
        try {
          chunks_.push_back(Chunk{base, bytes});
          total_ += bytes;
          return;
        } catch (...) {
        }
      }
      ::munmap(base, bytes);
    }
    // A kept chunk of at least *bytes (then *bytes is its size), or nullptr.
    char* Take(uint64_t* bytes) noexcept {
      std::lock_guard<std::mutex> g(lock_);
      size_t best = chunks_.size();
      for (size_t i = 0; i < chunks_.size(); i++)
        if (chunks_[i].bytes >= *bytes && (best == chunks_.size() || chunks_[i].bytes < chunks_[best].bytes)) best = i;
      if (best == chunks_.size()) return nullptr;
      const Chunk c = chunks_[best];
      chunks_[best] = chunks_.back();
      chunks_.pop_back();
      total_ -= c.bytes;
      *bytes = c.bytes;
      return c.base;
    }

   private:
    static constexpr uint64_t kKeptMax = uint64_t{1} << 30;
    std::mutex lock_;
    std::vector<Chunk> chunks_;  // GUARDED_BY(lock_)
    uint64_t total_ = 0;         // GUARDED_BY(lock_)
  };

  Lane lanes_[kLanes];
  std::mutex chunk_lock_;
  std::vector<Chunk> chunks_;     // GUARDED_BY(chunk_lock_)
  char* chunk_top_ = nullptr;     // GUARDED_BY(chunk_lock_)
  char* chunk_end_ = nullptr;     // GUARDED_BY(chunk_lock_)
  uint64_t next_chunk_ = kFirstChunk;  // GUARDED_BY(chunk_lock_)
};

}  // namespace pmemkv
