// Native unit tests of vcmap (no Node.js): resumable walks over shards, tokens, concurrent
// writers and readers on disjoint and shared keys, the file-backed heap under threads.
#include "vcmap.h"

#include <sys/stat.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <pmemkv/testing.h>

using pmemkv::Config;
using pmemkv::Engine;
using pmemkv::Slice;
using pmemkv::vcmap::VCMap;

namespace {

struct Collect final : pmemkv::Visitor {
  std::multiset<std::string> keys;
  bool Visit(Slice k, Slice) override {
    keys.emplace(k);
    return false;
  }
};

std::unique_ptr<Engine> OpenVCMap(const Config& cfg) {
  std::unique_ptr<Engine> e;
  if (!VCMap::Open(cfg, &e).ok()) return nullptr;
  return e;
}

// Runs `threads` copies of f(t) at once.
template <class F>
void Parallel(int threads, F f) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; t++) ts.emplace_back(f, t);
  for (auto& t : ts) t.join();
}

}  // namespace

PMEMKV_TEST(WalkChunksVisitEveryEntryOnceAndRefuseForeignTokens) {
  auto e = OpenVCMap(Config{});
  CHECK(e != nullptr);
  for (int i = 0; i < 3000; i++) CHECK_OK(e->Put("k" + std::to_string(i), "v"));
  Collect all;
  std::string token, next;
  int chunks = 0;
  for (bool more = true; more; chunks++) {
    CHECK_OK(e->WalkChunk(token, 100, all, &next, &more));
    token = next;
  }
  CHECK(all.keys.size() == 3000 && std::set<std::string>(all.keys.begin(), all.keys.end()).size() == 3000);
  CHECK(chunks > 10);
  bool more = false;
  CHECK(e->WalkChunk("nope", 10, all, &next, &more).code() == pmemkv::Code::kInvalidArgument);
  CHECK(e->WalkChunk(std::string("v\xff\xff\xff\xff", 5), 10, all, &next, &more).code() == pmemkv::Code::kInvalidArgument);
}

PMEMKV_TEST(ConcurrentWritersAndReadersLoseNothing) {
  auto e = OpenVCMap(Config{});
  CHECK(e != nullptr);
  std::atomic<int> bad{0};
  Parallel(4, [&](int t) {
    pmemkv::testing::ValueCopy keep;
    for (int i = 0; i < 20000; i++) {
      const std::string k = std::to_string(t) + ":" + std::to_string(i);
      if (!e->Put(k, k).ok()) bad++;
      if (!e->Put("shared" + std::to_string(i % 64), k).ok()) bad++;
      if (!e->Get(k, keep).ok() || keep.value != k) bad++;
      if (i % 4 == 0 && !e->Remove(k).ok()) bad++;
    }
  });
  CHECK(bad.load() == 0);
  uint64_t n = 0;
  CHECK_OK(e->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == 4 * 15000 + 64);
}

PMEMKV_TEST(FileBackedHeapUnderThreadsEndsInOutOfMemoryKeepingEntries) {
  Config cfg;
  cfg.path = pmemkv::testing::PoolPath("heap");
  CHECK(::mkdir(cfg.path.c_str(), 0700) == 0);
  cfg.size = 8 << 20;
  auto e = OpenVCMap(cfg);
  CHECK(e != nullptr);
  std::atomic<int> stored[2] = {{0}, {0}};
  Parallel(2, [&](int t) {
    for (int i = 0;; i++) {
      if (!e->Put(std::to_string(t) + "/" + std::to_string(i), std::string(500, 'a' + t)).ok()) break;
      stored[t]++;
    }
  });
  CHECK(stored[0] + stored[1] > 8000);
  pmemkv::testing::ValueCopy keep;
  for (int t = 0; t < 2; t++)
    for (int i = 0; i < stored[t]; i++) CHECK_OK(e->Get(std::to_string(t) + "/" + std::to_string(i), keep));
}

int main() { return pmemkv::testing::RunAll(); }
