// Native unit test of the cmap data structure, without N-API: run by `pnpm run test:native`
// on pools in a fresh directory under /dev/shm (PMEM_IS_PMEM_FORCE=1), removed afterwards.
#include "cmap.h"

#include <pmemkv/crash_testing.h>
#include <pmemkv/testing.h>

#include <libpmemobj.h>

#include <cerrno>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hash.h"

using pmemkv::Config;
using pmemkv::Engine;
using pmemkv::KeyRange;
using pmemkv::Slice;
using pmemkv::Status;
using pmemkv::cmap::CMap;
using pmemkv::cmap::kLayoutName;
using pmemkv::cmap::kLayoutVersion;
using pmemkv::cmap::Root;

namespace {

Config PoolConfig(const std::string& name, uint64_t size = 64ull << 20) {
  Config c;
  c.path = pmemkv::testing::PoolPath(name);
  c.size = size;
  c.create_if_missing = true;
  return c;
}

std::unique_ptr<Engine> OpenOrDie(const Config& c) {
  std::unique_ptr<Engine> e;
  Status s = CMap::Open(c, &e);
  if (!s.ok()) {
    std::fprintf(stderr, "open %s: %s\n", c.path.c_str(), s.message().c_str());
    std::exit(1);
  }
  return e;
}

struct Copy final : pmemkv::ValueReceiver {
  std::string value;
  int calls = 0;
  void Receive(Slice v) override {
    value.assign(v.data(), v.size());
    ++calls;
  }
};

bool GetValue(Engine& e, Slice key, std::string* out) {
  Copy c;
  Status s = e.Get(key, c);
  if (s.ok()) *out = c.value;
  return s.ok();
}

// The entry count, or ~0 when Count fails.
uint64_t CountAll(Engine& e) {
  uint64_t n = ~0ull;
  return e.Count(KeyRange{}, &n).ok() ? n : ~0ull;
}

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key-%012d", i);
  return buf;
}

PMEMKV_TEST(TestBasics) {
  Config c = PoolConfig("basics");
  {
    auto e = OpenOrDie(c);
    std::string v;
    CHECK(!GetValue(*e, "a", &v));
    CHECK(e->Exists("a").IsNotFound());
    CHECK(e->Remove("a").IsNotFound());
    CHECK_OK(e->Put("a", "1"));
    CHECK_OK(e->Put("", "empty key"));
    CHECK_OK(e->Put(Slice("a\0b", 3), Slice("x\0y", 3)));
    CHECK_OK(e->Put("empty value", ""));
    CHECK(GetValue(*e, "a", &v) && v == "1");
    CHECK(GetValue(*e, "", &v) && v == "empty key");
    CHECK(GetValue(*e, Slice("a\0b", 3), &v) && v == std::string("x\0y", 3));
    CHECK(!GetValue(*e, Slice("a\0c", 3), &v));
    CHECK(GetValue(*e, "empty value", &v) && v.empty());
    CHECK(CountAll(*e) == 4);
    CHECK_OK(e->Put("a", std::string(1000, 'L')));  // longer
    CHECK(GetValue(*e, "a", &v) && v == std::string(1000, 'L'));
    CHECK_OK(e->Put("a", "s"));  // shorter
    CHECK(GetValue(*e, "a", &v) && v == "s");
    CHECK(CountAll(*e) == 4);
    CHECK_OK(e->Remove(""));
    CHECK(e->Exists("").IsNotFound());
    CHECK(CountAll(*e) == 3);
    KeyRange partial;
    partial.lower.present = true;
    uint64_t n = 0;
    CHECK(e->Count(partial, &n).code() == pmemkv::Code::kNotSupported);
  }
  {
    auto e = OpenOrDie(c);  // reopen: contents and count recovered
    std::string v;
    CHECK(CountAll(*e) == 3);
    CHECK(GetValue(*e, "a", &v) && v == "s");
    CHECK(GetValue(*e, Slice("a\0b", 3), &v) && v == std::string("x\0y", 3));
  }
}

PMEMKV_TEST(TestHashSpreads) {
  // Distinct short keys, keys differing only in trailing zero bytes, and lengths 0..40 give
  // distinct hashes (a collision here would be a bug, not bad luck).
  std::set<uint64_t> seen;
  std::string k;
  for (int len = 0; len <= 40; ++len) {
    k.assign(len, '\0');
    CHECK(seen.insert(pmemkv::cmap::HashKey(k.data(), k.size())).second);
  }
  for (int i = 0; i < 70000; ++i) {
    std::string key = std::to_string(i);
    CHECK(seen.insert(pmemkv::cmap::HashKey(key.data(), key.size())).second);
  }
}

PMEMKV_TEST(TestGrowth) {
  Config c = PoolConfig("growth", 64ull << 20);
  const int kN = 200000;
  uint64_t buckets = 0;
  {
    auto e = OpenOrDie(c);
    CMap* m = static_cast<CMap*>(e.get());
    CHECK(m->bucket_count() == pmemkv::cmap::kBaseBuckets);
    for (int i = 0; i < kN; ++i) CHECK_OK(e->Put(Key(i), std::to_string(i)));
    buckets = m->bucket_count();
    CHECK(buckets >= kN / 2);
    CHECK(CountAll(*e) == kN);
    std::string v;
    for (int i = 0; i < kN; ++i) CHECK(GetValue(*e, Key(i), &v) && v == std::to_string(i));
  }
  {
    auto e = OpenOrDie(c);
    CHECK(static_cast<CMap*>(e.get())->bucket_count() == buckets);
    CHECK(CountAll(*e) == kN);
    std::string v;
    for (int i = 0; i < kN; i += 7) CHECK(GetValue(*e, Key(i), &v) && v == std::to_string(i));
  }
}

PMEMKV_TEST(TestThreads) {
  Config c = PoolConfig("threads");
  auto e = OpenOrDie(c);
  // Keys present throughout: readers must find every one of them at every moment, while
  // writers grow the table under them (splits move entries between buckets).
  const int kStable = 2000;
  for (int i = 0; i < kStable; ++i) CHECK_OK(e->Put("stable" + std::to_string(i), "s"));
  const int kThreads = 4, kPer = 20000;
  std::vector<std::thread> threads;
  std::atomic<int> errors{0};
  std::atomic<int> writers_done{0};
  std::atomic<int> reader_misses{0};
  std::thread reader([&] {
    std::string v;
    while (writers_done.load() < kThreads)
      for (int i = 0; i < kStable; i += 7)
        if (!GetValue(*e, "stable" + std::to_string(i), &v) || v != "s") ++reader_misses;
  });
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string v;
      for (int i = t * kPer; i < (t + 1) * kPer; ++i) {
        if (!e->Put(Key(i), Key(i)).ok()) ++errors;
        if (!GetValue(*e, Key(i), &v) || v != Key(i)) ++errors;
        if (i % 4 == 0 && !e->Remove(Key(i)).ok()) ++errors;
      }
      ++writers_done;
    });
  }
  for (auto& th : threads) th.join();
  reader.join();
  CHECK(errors.load() == 0);
  CHECK(reader_misses.load() == 0);
  CHECK(static_cast<CMap*>(e.get())->bucket_count() > pmemkv::cmap::kBaseBuckets * 16);
  CHECK(CountAll(*e) == kStable + kThreads * kPer * 3 / 4);
  std::string v;
  for (int i = 0; i < kThreads * kPer; ++i) CHECK(GetValue(*e, Key(i), &v) == (i % 4 != 0));
}

struct Collect final : pmemkv::Visitor {
  std::map<std::string, std::string> seen;
  int duplicates = 0;
  bool Visit(Slice k, Slice v) override {
    if (!seen.emplace(std::string(k), std::string(v)).second) ++duplicates;
    return false;
  }
};

PMEMKV_TEST(TestWalk) {
  Config c = PoolConfig("walk");
  auto e = OpenOrDie(c);
  const int kStable = 30000;
  for (int i = 0; i < kStable; ++i) CHECK_OK(e->Put(Key(i), "stable"));
  // A writer inserts and removes other keys (making the table want to grow) while walks
  // run; every stable key must be visited exactly once by each walk.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = kStable; !stop.load(); ++i) {
      e->Put(Key(i), "moving");
      if (i % 3 == 0 && i > kStable) e->Remove(Key(i - 1));
    }
  });
  for (int round = 0; round < 5; ++round) {
    Collect col;
    CHECK_OK(e->Walk(KeyRange{}, false, col));
    CHECK(col.duplicates == 0);
    int stable = 0;
    for (auto& kv : col.seen) stable += kv.second == "stable";
    CHECK(stable == kStable);
  }
  stop = true;
  writer.join();
  // Stopping: a visitor returning true ends the walk with STOPPED_BY_CB.
  struct StopAtThree final : pmemkv::Visitor {
    int n = 0;
    bool Visit(Slice, Slice) override { return ++n == 3; }
  } stopper;
  CHECK(e->Walk(KeyRange{}, false, stopper).code() == pmemkv::Code::kStoppedByCallback);
  CHECK(stopper.n == 3);
  Collect all;
  CHECK_OK(e->Walk(KeyRange{}, false, all));
  CHECK(all.seen.size() == CountAll(*e));
}

// A walk in small chunks while the table grows between every chunk: each entry present
// throughout is visited exactly once, and the token of another engine is refused.
PMEMKV_TEST(TestWalkChunksAcrossGrowth) {
  Config c = PoolConfig("chunks");
  auto e = OpenOrDie(c);
  CMap* m = static_cast<CMap*>(e.get());
  const int kStable = 3000;
  for (int i = 0; i < kStable; ++i) CHECK_OK(e->Put(Key(i), "stable"));
  const uint64_t buckets_before = m->bucket_count();
  Collect col;
  std::string token, next;
  bool more = true;
  int chunks = 0, added = kStable;
  while (more) {
    CHECK_OK(e->WalkChunk(token, 7, col, &next, &more));
    token.swap(next);
    ++chunks;
    for (int j = 0; j < 5; ++j) CHECK_OK(e->Put(Key(added++), "grown"));
  }
  CHECK(m->bucket_count() > buckets_before + 1000);  // the table grew during the walk
  CHECK(col.duplicates == 0);
  int stable = 0;
  for (auto& kv : col.seen) stable += kv.second == "stable";
  CHECK(stable == kStable);
  CHECK(chunks > kStable / 64);
  std::string unused;
  CHECK(e->WalkChunk("not a token", 7, col, &unused, &more).code() == pmemkv::Code::kInvalidArgument);
}

// Called inside an application's own libpmemobj transaction, a mutation is refused with
// TRANSACTION_SCOPE_ERROR and changes nothing (cmap publishes with the action API, outside any
// transaction of its own, so the SDK checks it at the publish).
PMEMKV_TEST(TestInsideForeignTransaction) {
  Config c = PoolConfig("foreign", 8ull << 20);
  auto e = OpenOrDie(c);
  CHECK_OK(e->Put("k", "old"));
  PMEMobjpool* other = pmemobj_create(pmemkv::testing::PoolPath("app").c_str(), "app", 8ull << 20, 0600);
  CHECK(other != nullptr);
  CHECK(pmemobj_tx_begin(other, nullptr, TX_PARAM_NONE) == 0);
  const Status put = e->Put("k", "new");
  const Status put_new = e->Put("fresh", "x");
  const Status remove = e->Remove("k");
  pmemobj_tx_abort(ECANCELED);
  pmemobj_tx_end();
  pmemobj_close(other);
  CHECK(put.code() == pmemkv::Code::kTransactionScopeError);
  CHECK(put_new.code() == pmemkv::Code::kTransactionScopeError);
  CHECK(remove.code() == pmemkv::Code::kTransactionScopeError);
  std::string v;
  CHECK(GetValue(*e, "k", &v) && v == "old");
  CHECK(!GetValue(*e, "fresh", &v));
  CHECK(CountAll(*e) == 1);
}

// A batch whose growth allocates bucket segment 1 (reserve, write, persist, publish), killed
// at every crash point on the way: reopened, every entry from before is there, the batch is
// whole or absent (whole when the child was not killed), and the table grows on from there
// (a segment published but not yet split into is used by the next growth).
PMEMKV_TEST(TestKillDuringSegmentAllocation) {
  Config prepared = PoolConfig("segment-prepared", 16ull << 20);
  {
    std::unique_ptr<Engine> e = OpenOrDie(prepared);
    for (int i = 0; i < 1000; ++i) CHECK_OK(e->Put(Key(i), "before"));
  }
  std::vector<pmemkv::BatchOp> ops;
  for (int i = 1000; i < 1300; ++i) ops.push_back({true, Key(i), "batch"});
  Config work = prepared;
  work.path = pmemkv::testing::PoolPath("segment-work");
  int batches_seen = 0;
  const int points = pmemkv::testing::KillAtEveryCrashPoint(
      prepared.path, work.path,
      [&](const std::string& pool) {
        Config c = prepared;
        c.path = pool;
        std::unique_ptr<Engine> e;
        Status s = CMap::Open(c, &e);
        return s.ok() ? e->Batch(ops) : s;
      },
      [&](const pmemkv::testing::CrashOutcome& o) {
        std::unique_ptr<Engine> e;
        Status s = CMap::Open(work, &e);
        if (!s.ok()) {
          std::fprintf(stderr, "segment crash point %d: reopen: %s\n", o.step, s.message().c_str());
          return false;
        }
        const uint64_t n = CountAll(*e);
        const bool whole = n == 1300;
        if (!(whole || (o.killed && n == 1000))) {
          std::fprintf(stderr, "segment crash point %d: %llu entries\n", o.step, static_cast<unsigned long long>(n));
          return false;
        }
        batches_seen += whole ? 1 : 0;
        std::string v;
        for (int i = 0; i < 1300; ++i)
          if (GetValue(*e, Key(i), &v) != (i < 1000 || whole) || (i < 1000 && v != "before")) return false;
        for (int i = 1300; i < 5000; ++i)
          if (!e->Put(Key(i), "after").ok()) return false;
        if (CountAll(*e) != 3700 + n) return false;
        e.reset();
        s = CMap::Open(work, &e);
        return s.ok() && CountAll(*e) == 3700 + n && GetValue(*e, Key(4999), &v) && v == "after";
      });
  std::fprintf(stderr, "segment allocation: %d points killed, batch whole in %d of %d outcomes\n", points, batches_seen, points + 1);
  CHECK(points >= 2);
  CHECK(batches_seen >= 1);
}

// The smallest pool (8 MiB) holds large values: the table starts at 16 KiB and grows.
PMEMKV_TEST(TestSmallPoolTakesLargeValues) {
  Config c = PoolConfig("small-large", 8ull << 20);
  auto e = OpenOrDie(c);
  const std::string big(100 << 10, 'b');
  int stored = 0;
  while (stored < 100 && e->Put(Key(stored), big).ok()) ++stored;
  std::printf("    8 MiB pool: %d values of 100 KiB\n", stored);
  CHECK(stored >= 20);
  std::string v;
  for (int i = 0; i < stored; ++i) CHECK(GetValue(*e, Key(i), &v) && v == big);
}

// Batches: random mixes of puts, overwrites and removes (many per bucket, duplicates
// included) agree with a model, across growth and a reopen; a batch that does not fit
// changes nothing and names its operation.
PMEMKV_TEST(TestBatch) {
  Config c = PoolConfig("batch", 32ull << 20);
  auto e = OpenOrDie(c);
  std::map<std::string, std::string> model;
  uint64_t seed = 7;
  auto next = [&seed] { return seed = seed * 6364136223846793005ull + 1442695040888963407ull; };
  for (int round = 0; round < 60; ++round) {
    std::vector<pmemkv::BatchOp> ops;
    const int n = 1 + static_cast<int>(next() % 400);
    for (int i = 0; i < n; ++i) {
      const std::string k = Key(static_cast<int>(next() % 3000));
      if (next() % 3 == 0) {
        ops.push_back({false, k, ""});
        model.erase(k);
      } else {
        std::string v(next() % 200, static_cast<char>('a' + round % 26));
        ops.push_back({true, k, v});
        model[k] = v;
      }
    }
    CHECK_OK(e->Batch(ops));
  }
  CHECK(CountAll(*e) == model.size());
  Collect all;
  CHECK_OK(e->Walk(KeyRange{}, false, all));
  CHECK(all.duplicates == 0);
  CHECK(all.seen == model);
  // Too big for the pool: nothing of it is applied, the error names the operation.
  std::vector<pmemkv::BatchOp> big;
  for (int i = 0; i < 50; ++i) big.push_back({true, Key(i), "changed"});
  for (int i = 50; i < 100; ++i) big.push_back({false, Key(i), ""});
  big.push_back({true, "huge", std::string(40u << 20, 'h')});
  const Status s = e->Batch(big);
  CHECK(s.code() == pmemkv::Code::kOutOfMemory);
  CHECK(s.message().find("batch operation 100") != std::string::npos);
  Collect after;
  CHECK_OK(e->Walk(KeyRange{}, false, after));
  CHECK(after.seen == model);
  e.reset();
  auto again = OpenOrDie(c);
  CHECK(CountAll(*again) == model.size());
  Collect reopened;
  CHECK_OK(again->Walk(KeyRange{}, false, reopened));
  CHECK(reopened.seen == model);
}

// Batches on several threads beside single puts and walks, on overlapping keys while the table
// grows: no deadlock, and every batch is applied whole (each writes one value to all its keys).
PMEMKV_TEST(TestConcurrentBatches) {
  Config c = PoolConfig("batch-threads", 64ull << 20);
  auto e = OpenOrDie(c);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 300; ++round) {
        std::vector<pmemkv::BatchOp> ops;
        const std::string v = "t" + std::to_string(t) + "r" + std::to_string(round);
        for (int i = 0; i < 50; ++i) ops.push_back({true, Key((round * 37 + i * 11 + t) % 5000), v});
        if (!e->Batch(ops).ok()) ++failures;
      }
    });
  threads.emplace_back([&] {
    for (int i = 0; i < 20000; ++i)
      if (!e->Put(Key(10000 + i), "single").ok()) ++failures;
  });
  threads.emplace_back([&] {
    for (int i = 0; i < 20; ++i) {
      Collect col;
      if (!e->Walk(KeyRange{}, false, col).ok() || col.duplicates != 0) ++failures;
    }
  });
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  Collect all;
  CHECK_OK(e->Walk(KeyRange{}, false, all));
  CHECK(all.seen.size() == CountAll(*e));
}

PMEMKV_TEST(TestOutOfMemory) {
  Config c = PoolConfig("oom", 8ull << 20);
  auto e = OpenOrDie(c);
  const std::string value(1000, 'v');
  int stored = 0;
  Status s;
  while ((s = e->Put(Key(stored), value)).ok()) ++stored;
  CHECK(s.code() == pmemkv::Code::kOutOfMemory);
  CHECK(stored > 1000);
  CHECK(CountAll(*e) == static_cast<uint64_t>(stored));
  std::string v;
  CHECK(!GetValue(*e, Key(stored), &v));
  for (int i = 0; i < stored; ++i) CHECK(GetValue(*e, Key(i), &v) && v == value);
  // Overwriting with a larger value when full fails and keeps the old value.
  Status big = e->Put(Key(0), std::string(1 << 20, 'B'));
  CHECK(big.code() == pmemkv::Code::kOutOfMemory);
  CHECK(GetValue(*e, Key(0), &v) && v == value);
  for (int i = 0; i < 100; ++i) CHECK_OK(e->Remove(Key(i)));
  for (int i = 0; i < 50; ++i) CHECK_OK(e->Put("again" + std::to_string(i), value));
  CHECK(CountAll(*e) == static_cast<uint64_t>(stored - 100 + 50));
}

// Tiny entries fill a small pool long after the table can no longer grow (no room for the
// next bucket segment): puts keep succeeding on longer chains until the entries themselves
// no longer fit, and nothing is lost.
PMEMKV_TEST(TestGrowthWhenFull) {
  Config c = PoolConfig("full-growth", 8ull << 20);
  auto e = OpenOrDie(c);
  CMap* m = static_cast<CMap*>(e.get());
  int stored = 0;
  Status s;
  while ((s = e->Put(Key(stored), "v")).ok()) ++stored;
  CHECK(s.code() == pmemkv::Code::kOutOfMemory);
  std::printf("    8 MiB pool of 1-byte values: %d entries, %llu buckets, %zu slabs (%llu bytes, %llu live)\n", stored, static_cast<unsigned long long>(m->bucket_count()), m->arena().slab_count(), static_cast<unsigned long long>(m->arena().slab_bytes()), static_cast<unsigned long long>(m->arena().live_bytes()));
  CHECK(m->bucket_count() < static_cast<uint64_t>(stored));  // growth stopped before the entries did
  CHECK(CountAll(*e) == static_cast<uint64_t>(stored));
  std::string v;
  for (int i = 0; i < stored; ++i) CHECK(GetValue(*e, Key(i), &v) && v == "v");
  for (int i = 0; i < 10; ++i) CHECK_OK(e->Remove(Key(i)));
  for (int i = 0; i < 10; ++i) CHECK_OK(e->Put(Key(i), "w"));
}

// Overwrites turn slab records into garbage; the cleaner keeps the slabs within about 1.5x
// the live bytes plus a few slabs (SlabArena::NeedsCleaning) instead of letting them fill the
// pool, and every value stays right.
PMEMKV_TEST(TestOverwriteChurnStaysBounded) {
  Config c = PoolConfig("churn", 32ull << 20);
  auto e = OpenOrDie(c);
  CMap* m = static_cast<CMap*>(e.get());
  const int kKeys = 20000;
  std::vector<int> version(kKeys, 0);
  std::mt19937 rng(7);
  uint64_t worst = 0;
  bool bounded = true;  // at every sample: slab bytes <= 2 x live bytes + 6 slabs
  for (int i = 0; i < 30 * kKeys; ++i) {
    const int k = static_cast<int>(rng() % kKeys);
    CHECK_OK(e->Put(Key(k), std::string(60 + k % 40, 'a' + (++version[k] % 26))));
    if (i % 1000 == 0 && m->arena().live_bytes() > 4 * m->arena().slab_size()) {
      worst = std::max(worst, m->arena().slab_bytes() * 100 / m->arena().live_bytes());
      bounded = bounded && m->arena().slab_bytes() <= 2 * m->arena().live_bytes() + 6 * m->arena().slab_size();
    }
  }
  const uint64_t slack = 6 * m->arena().slab_size();
  std::printf("    slabs at most %llu%% of the live bytes (above 4 slabs of them); %llu slab bytes for %llu live at the end\n",
              static_cast<unsigned long long>(worst), static_cast<unsigned long long>(m->arena().slab_bytes()),
              static_cast<unsigned long long>(m->arena().live_bytes()));
  CHECK(m->arena().slab_bytes() <= 2 * m->arena().live_bytes() + slack);
  CHECK(worst > 0 && bounded);  // sampled while the live bytes were above 4 slabs
  std::string v;
  for (int k = 0; k < kKeys; ++k)
    CHECK(version[k] == 0 ? !GetValue(*e, Key(k), &v) : GetValue(*e, Key(k), &v) && v == std::string(60 + k % 40, 'a' + (version[k] % 26)));
  // The same state after a reopen: live bytes are recounted from the chains.
  const uint64_t live = m->arena().live_bytes();
  e.reset();
  e = OpenOrDie(c);
  m = static_cast<CMap*>(e.get());
  CHECK(m->arena().live_bytes() == live);
  CHECK(m->arena().slab_bytes() <= 2 * live + slack);
}

// Each open resumes the slab with the most room after its last live record, so opening a
// small pool again and again for a few puts never strands a slab per open.
PMEMKV_TEST(TestReopenCyclesReuseSlabs) {
  Config c = PoolConfig("reopen", 8ull << 20);
  int n = 0;
  for (int cycle = 0; cycle < 200; ++cycle) {
    auto e = OpenOrDie(c);
    for (int i = 0; i < 10; ++i, ++n) CHECK_OK(e->Put(Key(n), "value"));
    if (cycle == 199) {
      CMap* m = static_cast<CMap*>(e.get());
      std::printf("    200 opens of 10 puts each: %zu slabs\n", m->arena().slab_count());
      CHECK(m->arena().slab_count() <= 2);
      CHECK(CountAll(*e) == 2000);
    }
  }
}

PMEMKV_TEST(TestDefrag) {
  Config c = PoolConfig("defrag", 32ull << 20);
  auto e = OpenOrDie(c);
  const int kN = 40000;
  for (int i = 0; i < kN; ++i) CHECK_OK(e->Put(Key(i), std::string(64 + i % 64, 'a' + i % 26)));
  for (int i = 0; i < kN; i += 2) CHECK_OK(e->Remove(Key(i)));
  CHECK_OK(e->Defrag(0, 50));
  CHECK_OK(e->Defrag(50, 50));
  CHECK_OK(e->Defrag(0, 100));
  std::string v;
  for (int i = 0; i < kN; ++i) {
    bool got = GetValue(*e, Key(i), &v);
    CHECK(got == (i % 2 == 1));
    if (got) CHECK(v == std::string(64 + i % 64, 'a' + i % 26));
  }
  CHECK(CountAll(*e) == kN / 2);
  e.reset();
  auto again = OpenOrDie(c);
  CHECK(CountAll(*again) == kN / 2);
  for (int i = 1; i < kN; i += 2) CHECK(GetValue(*again, Key(i), &v) && v == std::string(64 + i % 64, 'a' + i % 26));
}

// A layout version 1 pool (every entry an allocation of its own, no journal) opens with all
// its entries, is marked version 2 with a journal of its own, and then takes small entries in
// slabs beside its old ones; a version above 2 is refused untouched.
PMEMKV_TEST(TestVersion1PoolIsUpgraded) {
  Config c = PoolConfig("v1", 16ull << 20);
  {
    auto e = OpenOrDie(c);
    for (int i = 0; i < 50; ++i) CHECK_OK(e->Put(Key(i), std::string(3000, 'a' + i % 26)));  // above max_record
    CHECK(static_cast<CMap*>(e.get())->arena().slab_count() == 0);
  }
  auto set_root = [&](uint64_t version, bool drop_journal) {
    PMEMobjpool* pop = pmemobj_open(c.path.c_str(), kLayoutName);
    if (pop == nullptr) return false;
    Root* root = static_cast<Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(Root))));
    root->version = version;
    if (drop_journal) root->journal = 0;  // version 1 had no journal (the old object just leaks)
    pmemobj_persist(pop, root, sizeof(Root));
    pmemobj_close(pop);
    return true;
  };
  CHECK(set_root(1, true));
  {
    auto e = OpenOrDie(c);
    std::string v;
    for (int i = 0; i < 50; ++i) CHECK(GetValue(*e, Key(i), &v) && v == std::string(3000, 'a' + i % 26));
    for (int i = 0; i < 50; ++i) CHECK_OK(e->Put(Key(i), "small"));  // old entries freed, new ones in a slab
    CHECK(static_cast<CMap*>(e.get())->arena().slab_count() == 1);
  }
  PMEMobjpool* pop = pmemobj_open(c.path.c_str(), kLayoutName);
  CHECK(pop != nullptr);
  const Root* root = static_cast<const Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(Root))));
  CHECK(root->version == kLayoutVersion && root->journal != 0);
  pmemobj_close(pop);
  {
    auto e = OpenOrDie(c);
    std::string v;
    for (int i = 0; i < 50; ++i) CHECK(GetValue(*e, Key(i), &v) && v == "small");
  }
  CHECK(set_root(kLayoutVersion + 1, false));
  std::unique_ptr<Engine> e;
  const Status s = CMap::Open(c, &e);
  CHECK(s.code() == pmemkv::Code::kInvalidArgument && s.message().find("version 3") != std::string::npos);
}

// A version 2 pool has a format 1 journal (one commit, cleared at once). Open redoes the
// commit it holds in flight, converts the journal to the log of format 2 and marks the pool
// version 3; the entries stay, and batches and reopens work on.
PMEMKV_TEST(TestVersion2PoolIsUpgraded) {
  Config c = PoolConfig("v2", 16ull << 20);
  {
    auto e = OpenOrDie(c);
    for (int i = 0; i < 200; ++i) CHECK_OK(e->Put(Key(i), "v2-" + std::to_string(i)));
  }
  {
    PMEMobjpool* pop = pmemobj_open(c.path.c_str(), kLayoutName);
    CHECK(pop != nullptr);
    Root* root = static_cast<Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(Root))));
    auto* area = reinterpret_cast<pmemkv::Journal::Area*>(reinterpret_cast<char*>(pop) + root->journal);
    root->version = 2;
    area->format = 0;
    area->first_seq = 0;
    // A format 1 commit in flight: one store into a root word no reader checks.
    area->records[0] = pmemkv::Journal::Record{static_cast<uint64_t>(reinterpret_cast<char*>(&root->reserved[3]) - reinterpret_cast<char*>(pop)), 77};
    area->legacy_committed = 1;
    area->legacy_checksum = pmemkv::Journal::Checksum(area->records, 1);
    pmemobj_persist(pop, root, sizeof(Root));
    pmemobj_persist(pop, area, pmemkv::Journal::kHeaderBytes + sizeof(pmemkv::Journal::Record));
    pmemobj_close(pop);
  }
  {
    auto e = OpenOrDie(c);
    std::string v;
    for (int i = 0; i < 200; ++i) CHECK(GetValue(*e, Key(i), &v) && v == "v2-" + std::to_string(i));
    std::vector<pmemkv::BatchOp> ops;
    for (int i = 0; i < 300; ++i) ops.push_back(pmemkv::BatchOp{true, Key(i), "v3-" + std::to_string(i)});
    CHECK_OK(e->Batch(ops));
  }
  PMEMobjpool* pop = pmemobj_open(c.path.c_str(), kLayoutName);
  CHECK(pop != nullptr);
  Root* root = static_cast<Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(Root))));
  const auto* area = reinterpret_cast<const pmemkv::Journal::Area*>(reinterpret_cast<char*>(pop) + root->journal);
  CHECK(root->version == 3 && root->reserved[3] == 77);
  CHECK(area->format == pmemkv::Journal::kFormat && area->legacy_committed == 0 && area->first_seq != 0);
  root->reserved[3] = 0;
  pmemobj_persist(pop, &root->reserved[3], sizeof(uint64_t));
  pmemobj_close(pop);
  auto e = OpenOrDie(c);
  std::string v;
  for (int i = 0; i < 300; ++i) CHECK(GetValue(*e, Key(i), &v) && v == "v3-" + std::to_string(i));
  CHECK(CountAll(*e) == 300);
}

PMEMKV_TEST(TestWrongLayout) {
  const std::string path = pmemkv::testing::PoolPath("other");
  PMEMobjpool* pop = pmemobj_create(path.c_str(), "pmemkv_tree3", 8ull << 20, 0600);
  CHECK(pop != nullptr);
  if (pop) pmemobj_close(pop);
  Config c;
  c.path = path;
  std::unique_ptr<Engine> e;
  Status s = CMap::Open(c, &e);
  CHECK(s.code() == pmemkv::Code::kInvalidArgument);
  CHECK(s.message().find("tree3") != std::string::npos);
  CHECK(e == nullptr);
  // And a cmap pool is refused under another layout name.
  Config mine = PoolConfig("mine", 8ull << 20);
  OpenOrDie(mine).reset();
  pop = pmemobj_open(mine.path.c_str(), "pmemkv_tree3");
  CHECK(pop == nullptr);
}

}  // namespace

int main() { return pmemkv::testing::RunAll(); }
