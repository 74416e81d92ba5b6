// alloc.h through Pool: the SDK's allocation classes are registered on create and on every
// open, Flags() picks a class that holds the request, small pools stay usable, mixed sizes
// never fill a pool that is at most half full, and a failed registration degrades to
// libpmemobj's default classes. Run by test/alloc.test.ts (or: g++ -std=c++17 -Iinclude
// test/alloc_test.cc -lpmemobj && PMEM_IS_PMEM_FORCE=1 ./a.out).
#include <pmemkv/pool.h>
#include <pmemkv/testing.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using pmemkv::AllocClasses;
using pmemkv::Config;
using pmemkv::Pool;

constexpr uint64_t kMiB = 1024 * 1024;

std::unique_ptr<Pool> OpenPool(const std::string& name, uint64_t size) {
  Config cfg;
  cfg.path = pmemkv::testing::PoolPath(name);
  cfg.size = size;
  cfg.create_if_missing = true;
  std::unique_ptr<Pool> pool;
  pmemkv::Status s = Pool::Open(cfg, "pmemkv_alloc_test", &pool);
  if (!s.ok()) std::fprintf(stderr, "open %s: %s\n", name.c_str(), s.message().c_str());
  return pool;
}

PMEMoid Alloc(const Pool& pool, size_t n) {
  PMEMoid oid = OID_NULL;
  if (pmemobj_xalloc(pool.get(), &oid, n, 1, pool.AllocFlags(n), nullptr, nullptr) != 0) return OID_NULL;
  return oid;
}

PMEMKV_TEST(EveryClassIsRegisteredOnCreateAndOnOpen) {
  {
    std::unique_ptr<Pool> pool = OpenPool("classes", 64 * kMiB);
    CHECK(pool != nullptr);
    CHECK(pool->created());
    CHECK(pool->alloc_classes().registered() == AllocClasses::kCount);
  }
  std::unique_ptr<Pool> again = OpenPool("classes", 64 * kMiB);
  CHECK(again != nullptr);
  CHECK(!again->created());
  CHECK(again->alloc_classes().registered() == AllocClasses::kCount);
}

PMEMKV_TEST(FlagsPickAClassThatHoldsTheRequest) {
  std::unique_ptr<Pool> pool = OpenPool("flags", 64 * kMiB);
  CHECK(pool != nullptr);
  size_t previous_max = 0;
  for (size_t unit : AllocClasses::kUnits) {
    const size_t max = AllocClasses::kMaxUnits * unit - AllocClasses::kHeader;
    CHECK(pool->AllocFlags(max) != 0);
    CHECK(pool->AllocFlags(max) == pool->AllocFlags(previous_max + 1));
    CHECK(previous_max == 0 || pool->AllocFlags(max) != pool->AllocFlags(previous_max));
    // The largest and the smallest request of the class fit its units, with less than a unit spare.
    for (size_t n : {previous_max + 1, max}) {
      PMEMoid oid = Alloc(*pool, n);
      CHECK(!OID_IS_NULL(oid));
      const size_t usable = pmemobj_alloc_usable_size(oid);
      CHECK(usable >= n && usable < n + unit);
      pmemobj_free(&oid);
    }
    previous_max = max;
  }
  CHECK(previous_max == AllocClasses::kLargest);
  CHECK(pool->AllocFlags(AllocClasses::kLargest + 1) == 0);  // a huge allocation: whole chunks
  PMEMoid huge = Alloc(*pool, AllocClasses::kLargest + 1);
  CHECK(!OID_IS_NULL(huge));
  pmemobj_free(&huge);
}

PMEMKV_TEST(RunsDependOnlyOnThePoolSize) {
  // Small runs in small pools, never shorter than two of the class's largest objects.
  CHECK(AllocClasses::RunChunks(32, 8 * kMiB) == 1);
  CHECK(AllocClasses::RunChunks(1088, 8 * kMiB) == 1);
  CHECK(AllocClasses::RunChunks(8704, 8 * kMiB) == 2);
  CHECK(AllocClasses::RunChunks(8704, 64 * kMiB) == 8);
  CHECK(AllocClasses::RunChunks(34816, 8 * kMiB) == 5);
  for (size_t unit : AllocClasses::kUnits)
    for (uint64_t size : {8 * kMiB, 64 * kMiB, 1024 * kMiB, uint64_t{0}}) {
      const size_t chunks = AllocClasses::RunChunks(unit, size);
      CHECK(chunks >= 1 && chunks <= AllocClasses::kMaxRunChunks);
      CHECK(chunks * AllocClasses::kChunk >= 2 * AllocClasses::kMaxUnits * unit);
    }
}

PMEMKV_TEST(AMinimumPoolHoldsLargeValues) {
  // 8 MiB is the smallest pool: it takes 100 KiB values (libpmemobj's default class for them
  // wants a 4 MiB run) and fills to about half with them.
  std::unique_ptr<Pool> pool = OpenPool("small", 8 * kMiB);
  CHECK(pool != nullptr);
  int held = 0;
  while (!OID_IS_NULL(Alloc(*pool, 100 * 1024))) held++;
  std::printf("  8 MiB pool: %d values of 100 KiB\n", held);
  CHECK(held >= 30);
}

// Mixed sizes from 16 B to 64 KiB (log-uniform or uniform), overwrites and removes of 4,096
// keys, live data at most half the pool: never OUT_OF_MEMORY, and afterwards the pool still
// fills to most of its size.
void Churn(const char* name, bool log_uniform) {
  std::unique_ptr<Pool> pool = OpenPool(name, 64 * kMiB);
  CHECK(pool != nullptr);
  std::mt19937_64 rng(log_uniform ? 1 : 2);
  std::uniform_real_distribution<double> u(0, 1);
  auto random_size = [&]() -> size_t {
    return log_uniform ? static_cast<size_t>(16.0 * std::pow(4096.0, u(rng))) : 16 + static_cast<size_t>(u(rng) * 65520);
  };
  const size_t keys = 4096, limit = 32 * kMiB;
  std::vector<PMEMoid> oid(keys, OID_NULL);
  std::vector<size_t> size(keys, 0);
  size_t live = 0;
  auto remove = [&](size_t k) {
    pmemobj_free(&oid[k]);
    live -= size[k];
    size[k] = 0;
  };
  for (int op = 0; op < 100000; op++) {
    const size_t k = rng() % keys;
    if (size[k] != 0 && rng() % 10 < 3) {
      remove(k);
      continue;
    }
    const size_t n = random_size();
    while (live - size[k] + n > limit) {
      const size_t victim = rng() % keys;
      if (victim != k && size[victim] != 0) remove(victim);
    }
    PMEMoid fresh = Alloc(*pool, n);
    if (OID_IS_NULL(fresh)) std::fprintf(stderr, "  OUT_OF_MEMORY at operation %d with %zu bytes live\n", op, live);
    CHECK(!OID_IS_NULL(fresh));
    if (size[k] != 0) remove(k);
    oid[k] = fresh;
    size[k] = n;
    live += n;
  }
  size_t filled = live;
  for (PMEMoid more = Alloc(*pool, random_size()); !OID_IS_NULL(more); more = Alloc(*pool, random_size()))
    filled += pmemobj_alloc_usable_size(more);
  std::printf("  %s: no OUT_OF_MEMORY in 100000 operations; then filled to %.1f %% of the pool\n", name,
              100.0 * static_cast<double>(filled) / static_cast<double>(64 * kMiB));
  CHECK(filled > 64 * kMiB * 7 / 10);
}

PMEMKV_TEST(MixedChurnLogUniform) { Churn("churn-log", true); }
PMEMKV_TEST(MixedChurnUniform) { Churn("churn-uniform", false); }

PMEMKV_TEST(EmptiedPoolTakesAnySize) {
  std::unique_ptr<Pool> pool = OpenPool("emptied", 64 * kMiB);
  CHECK(pool != nullptr);
  std::vector<PMEMoid> small;
  for (PMEMoid o = Alloc(*pool, 40); !OID_IS_NULL(o); o = Alloc(*pool, 40)) small.push_back(o);
  CHECK(small.size() > 500000);
  for (PMEMoid& o : small) pmemobj_free(&o);
  int large = 0;
  while (!OID_IS_NULL(Alloc(*pool, 64 * 1024))) large++;
  CHECK(large * 64 * 1024 > static_cast<int>(64 * kMiB * 8 / 10));
}

PMEMKV_TEST(RegistrationFailureFallsBackToDefaultClasses) {
  // A pool opened without Pool (so without the SDK's classes) whose free class ids are all
  // taken: libpmemobj refuses every new class, and only the one identical to a default class
  // (1088 B units in one chunk) is found.
  const std::string path = pmemkv::testing::PoolPath("exhausted");
  PMEMobjpool* pop = pmemobj_create(path.c_str(), "pmemkv_alloc_test", 64 * kMiB, 0600);
  CHECK(pop != nullptr);
  int taken = 0;
  for (size_t unit = 4096 + 64; taken < 255; unit += 64, taken++) {
    pobj_alloc_class_desc d{};
    d.unit_size = unit;
    d.units_per_block = 8;
    d.header_type = POBJ_HEADER_COMPACT;
    if (pmemobj_ctl_set(pop, "heap.alloc_class.new.desc", &d) != 0) break;
  }
  AllocClasses degraded = AllocClasses::Register(pop, 64 * kMiB);
  const bool one = degraded.registered() == 1;
  PMEMoid oid = OID_NULL;
  const bool allocated = pmemobj_xalloc(pop, &oid, 100, 1, degraded.Flags(100), nullptr, nullptr) == 0;
  const uint64_t flags = degraded.Flags(100);
  if (allocated) pmemobj_free(&oid);
  pmemobj_close(pop);
  CHECK(taken > 0 && taken < 255);
  CHECK(one);
  CHECK(flags == 0);
  CHECK(allocated);
}

}  // namespace

int main() { return pmemkv::testing::RunAll(); }
