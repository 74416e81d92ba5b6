// dram_blocks.h and VolatileHeap's DRAM placement: blocks hold their bytes until freed, never
// overlap, come back for reuse by their class, stay 8-byte aligned; requests past a block's
// size go to malloc and free correctly beside blocks; blocks freed by another thread return
// to the lane they came from; the size limit counts both kinds. Run by
// test/dram_blocks.test.ts (or: g++ -std=c++17 -Iinclude test/dram_blocks_test.cc -lpthread
// && ./a.out).
#include <pmemkv/dram_blocks.h>
#include <pmemkv/testing.h>
#include <pmemkv/volatile.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

namespace {

using pmemkv::DramBlocks;
using pmemkv::VolatileHeap;

// Fills p[0, n) with a pattern of `seed`; Intact checks it.
void Fill(void* p, size_t n, uint32_t seed) {
  auto* b = static_cast<unsigned char*>(p);
  for (size_t i = 0; i < n; i++) b[i] = static_cast<unsigned char>(seed * 131 + i * 7);
}
bool Intact(const void* p, size_t n, uint32_t seed) {
  auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; i++)
    if (b[i] != static_cast<unsigned char>(seed * 131 + i * 7)) return false;
  return true;
}

std::unique_ptr<VolatileHeap> DramHeap(uint64_t limit) {
  pmemkv::Config cfg;
  cfg.size = limit;
  std::unique_ptr<VolatileHeap> heap;
  const pmemkv::Status s = VolatileHeap::Open(cfg, "dram_blocks_test", &heap);
  if (!s.ok()) pmemkv::testing::Fail(__FILE__, __LINE__, "VolatileHeap::Open: " + s.message());
  return heap;
}

PMEMKV_TEST(BlocksKeepTheirBytesAndNeverOverlap) {
  DramBlocks blocks;
  std::mt19937 rng(7);
  struct Live {
    char* p;
    uint64_t n, bytes;
    uint32_t seed;
  };
  std::vector<Live> live;
  for (uint32_t i = 0; i < 100000; i++) {
    if (!live.empty() && rng() % 3 == 0) {  // free a random live block
      const size_t at = rng() % live.size();
      CHECK(Intact(live[at].p, live[at].n, live[at].seed));
      CHECK(blocks.Free(live[at].p) == live[at].bytes);
      live[at] = live.back();
      live.pop_back();
      continue;
    }
    // Mostly small blocks, one in 200 of any size up to the largest (and the largest itself).
    const uint64_t largest = DramBlocks::kMaxBlock - DramBlocks::kHeader;
    const uint64_t n = i % 200 == 0 ? (i % 400 == 0 ? largest : rng() % (largest + 1)) : rng() % (DramBlocks::kSmallMax - DramBlocks::kHeader + 1);
    CHECK(DramBlocks::Serves(n));
    uint64_t bytes = 0;
    char* p = static_cast<char*>(blocks.Allocate(n, &bytes));
    CHECK(p != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(p) % 8 == 0);
    CHECK(bytes >= n + DramBlocks::kHeader);
    if (n + DramBlocks::kHeader <= DramBlocks::kSmallMax) CHECK(bytes <= n + DramBlocks::kHeader + DramBlocks::kStep);
    else CHECK(bytes < 2 * (n + DramBlocks::kHeader) + DramBlocks::kLargeSlack);
    Fill(p, n, i);
    live.push_back({p, n, bytes, i});
  }
  // No two live blocks overlap, and every one still holds what was written.
  std::sort(live.begin(), live.end(), [](const Live& a, const Live& b) { return a.p < b.p; });
  for (size_t i = 0; i < live.size(); i++) {
    CHECK(Intact(live[i].p, live[i].n, live[i].seed));
    if (i > 0) CHECK(live[i - 1].p + live[i - 1].bytes - DramBlocks::kHeader <= live[i].p - DramBlocks::kHeader);
  }
  CHECK(!DramBlocks::Serves(DramBlocks::kMaxBlock));
}

PMEMKV_TEST(AFreedBlockIsReusedByItsClass) {
  DramBlocks blocks;
  uint64_t bytes = 0;
  void* a = blocks.Allocate(100, &bytes);
  void* b = blocks.Allocate(100, &bytes);
  CHECK(a != nullptr && b != nullptr && a != b);
  blocks.Free(a);
  CHECK(blocks.Allocate(100, &bytes) == a);     // same class: the freed block
  void* c = blocks.Allocate(500, &bytes);        // another class: not it
  CHECK(c != a && c != b);
  // A hash index's power-of-two slot array plus the header fits a large class with little
  // to spare, and comes back to the next request of its size.
  void* table = blocks.Allocate(128 << 10, &bytes);
  CHECK(table != nullptr && bytes == (128 << 10) + DramBlocks::kLargeSlack);
  blocks.Free(table);
  CHECK(blocks.Allocate(128 << 10, &bytes) == table);
}

PMEMKV_TEST(BlocksFreedByOtherThreadsAreReusable) {
  DramBlocks blocks;
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::vector<std::pair<void*, uint32_t>>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; i++) {
        uint64_t bytes = 0;
        void* p = blocks.Allocate(24 + (i % 64), &bytes);
        if (p == nullptr) return;
        Fill(p, 24 + (i % 64), static_cast<uint32_t>(t * kEach + i));
        made[t].push_back({p, static_cast<uint32_t>(t * kEach + i)});
      }
    });
  for (auto& th : threads) th.join();
  threads.clear();
  // Each thread frees what the next one allocated, while allocating more.
  for (int t = 0; t < kThreads; t++)
    threads.emplace_back([&, t] {
      auto& theirs = made[(t + 1) % kThreads];
      for (size_t i = 0; i < theirs.size(); i++) {
        const int n = 24 + static_cast<int>(i % 64);
        if (!Intact(theirs[i].first, n, theirs[i].second)) return;  // counted below
        blocks.Free(theirs[i].first);
        uint64_t bytes = 0;
        void* p = blocks.Allocate(n, &bytes);
        if (p != nullptr) Fill(p, n, 1);
      }
      theirs.clear();
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; t++) CHECK(made[t].empty());  // every block was intact when freed
}

PMEMKV_TEST(HeapServesSmallAndLargeAndCountsBothAgainstItsLimit) {
  auto heap = DramHeap(4 << 20);
  void* small = heap->Allocate(100);
  void* large = heap->Allocate(200000);     // a large block class
  void* huge = heap->Allocate(2000000);     // past the largest block: malloc
  CHECK(small != nullptr && large != nullptr && huge != nullptr);
  for (void* p : {small, large, huge}) CHECK(reinterpret_cast<uintptr_t>(p) % 8 == 0);
  Fill(small, 100, 1);
  Fill(large, 200000, 2);
  Fill(huge, 2000000, 3);
  const uint64_t used = heap->used();
  CHECK(used >= 2200100);
  CHECK(heap->Allocate(2000000) == nullptr);  // past the limit: refused, nothing counted
  CHECK(heap->used() == used);
  CHECK(Intact(small, 100, 1) && Intact(large, 200000, 2) && Intact(huge, 2000000, 3));
  heap->Free(huge);
  heap->Free(large);
  heap->Free(small);
  CHECK(heap->used() == 0);
  void* again = heap->Allocate(3900000);  // the room is back
  CHECK(again != nullptr);
  heap->Free(again);
  // Many small ones up to the limit: the last refused, all earlier ones intact.
  auto tight = DramHeap(64 << 10);
  std::vector<void*> got;
  for (int i = 0; i < 10000; i++) {
    void* p = tight->Allocate(40);
    if (p == nullptr) break;
    Fill(p, 40, static_cast<uint32_t>(i));
    got.push_back(p);
  }
  CHECK(!got.empty() && got.size() < 10000);
  CHECK(tight->used() <= (64 << 10));
  for (size_t i = 0; i < got.size(); i++) CHECK(Intact(got[i], 40, static_cast<uint32_t>(i)));
  for (void* p : got) tight->Free(p);
  CHECK(tight->used() == 0);
  heap->Free(nullptr);
}

PMEMKV_TEST(AClosedHeapsChunksServeTheNextHeap) {
  // A heap's chunks are kept for the next heap of the process: its blocks come from memory a
  // closed heap used, and hold what is written into them like any other.
  std::vector<uintptr_t> chunks;
  {
    DramBlocks first;
    uint64_t bytes = 0;
    for (int i = 0; i < 1000; i++) {
      void* p = first.Allocate(200, &bytes);
      CHECK(p != nullptr);
      Fill(p, 200, 9);
      chunks.push_back(reinterpret_cast<uintptr_t>(p) & ~((uintptr_t{2} << 20) - 1));
    }
  }
  DramBlocks second;
  std::vector<void*> got;
  bool reused = false;
  for (uint32_t i = 0; i < 1000; i++) {
    uint64_t bytes = 0;
    void* p = second.Allocate(300, &bytes);
    CHECK(p != nullptr);
    Fill(p, 300, i);
    got.push_back(p);
    const uintptr_t page = reinterpret_cast<uintptr_t>(p) & ~((uintptr_t{2} << 20) - 1);
    for (uintptr_t c : chunks) reused = reused || c == page;
  }
  CHECK(reused);
  for (uint32_t i = 0; i < got.size(); i++) CHECK(Intact(got[i], 300, i));
}

PMEMKV_TEST(ZeroByteRequestsAreDistinctBlocks) {
  auto heap = DramHeap(0);
  void* a = heap->Allocate(0);
  void* b = heap->Allocate(0);
  CHECK(a != nullptr && b != nullptr && a != b);
  heap->Free(a);
  heap->Free(b);
}

}  // namespace

int main() { return pmemkv::testing::RunAll(); }
