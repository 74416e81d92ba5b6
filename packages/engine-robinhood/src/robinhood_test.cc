// Native tests of the robinhood engine (no Node.js): point operations, the all-zero key,
// growth, chunked walks, atomic batches, crashes at every persistence step of a displacing
// insert, a remove and a growth (SIGKILLed child processes), damaged pools, the options.
#include <pmemkv/crash_point.h>
#include <pmemkv/testing.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hash.h"
#include "layout.h"
#include "robinhood.h"

namespace {

using pmemkv::Code;
using pmemkv::Config;
using pmemkv::Slice;
using pmemkv::Status;
using pmemkv::robinhood::RobinHood;
namespace rh = pmemkv::robinhood;

constexpr uint64_t kMiB = 1024 * 1024;

Config MakeConfig(const std::string& path, uint64_t shards = 0, double load_factor = 0, uint64_t size = 16 * kMiB) {
  Config c;
  c.path = path;
  c.size = size;
  c.create_if_missing = true;
  using Type = Config::Item::Type;
  if (shards != 0) c.items.push_back({"shards_number", Config::Item{Type::kNumber, "", static_cast<double>(shards)}});
  if (load_factor != 0) c.items.push_back({"load_factor", Config::Item{Type::kNumber, "", load_factor}});
  return c;
}

std::string Word(uint64_t v) {
  std::string out(8, '\0');
  rh::StoreWord(&out[0], v);
  return out;
}
// The key whose hash is h (HashKey is a bijection).
std::string KeyOfHash(uint64_t h) { return Word(rh::UnhashKey(h)); }

std::unique_ptr<RobinHood> OpenOrDie(const Config& c, Status* s) {
  std::unique_ptr<RobinHood> e;
  *s = RobinHood::OpenEngine(c, &e);
  return e;
}

std::map<std::string, std::string> Dump(RobinHood& e, bool* twice) {
  struct Collect final : pmemkv::Visitor {
    std::map<std::string, std::string> seen;
    bool twice = false;
    bool Visit(Slice k, Slice v) override {
      twice |= !seen.emplace(std::string(k), std::string(v)).second;
      return false;
    }
  } c;
  pmemkv::KeyRange all;
  Status s = e.Walk(all, false, c);
  if (!s.ok()) c.twice = true;
  *twice = c.twice;
  return c.seen;
}

std::string GetOr(RobinHood& e, const std::string& k, const char* missing = "<missing>") {
  pmemkv::testing::ValueCopy v;
  return e.Get(k, v).ok() ? v.value : missing;
}

PMEMKV_TEST(PutGetRemoveAndReopen) {
  const std::string path = pmemkv::testing::PoolPath("basic");
  Status s;
  {
    auto e = OpenOrDie(MakeConfig(path), &s);
    CHECK_OK(s);
    CHECK(e->shards() == 1024);
    const std::string zero(8, '\0');
    CHECK(GetOr(*e, "abcdefgh") == "<missing>");
    CHECK_OK(e->Put("abcdefgh", "12345678"));
    CHECK_OK(e->Put(zero, "zerozero"));
    CHECK(GetOr(*e, "abcdefgh") == "12345678");
    CHECK(GetOr(*e, zero) == "zerozero");
    CHECK_OK(e->Put("abcdefgh", "87654321"));
    CHECK(GetOr(*e, "abcdefgh") == "87654321");
    uint64_t n = 0;
    CHECK_OK(e->Count(pmemkv::KeyRange{}, &n));
    CHECK(n == 2);
    CHECK(e->Put("short", "12345678").code() == Code::kInvalidArgument);
    CHECK(e->Put("abcdefgh", "1234567").code() == Code::kInvalidArgument);
    CHECK(e->Remove("abcdefghi").code() == Code::kInvalidArgument);
    CHECK_OK(e->Remove(zero));
    CHECK(e->Remove(zero).IsNotFound());
    CHECK_OK(e->Put(zero, "again..."));
  }
  auto e = OpenOrDie(MakeConfig(path), &s);
  CHECK_OK(s);
  CHECK(GetOr(*e, "abcdefgh") == "87654321");
  CHECK(GetOr(*e, std::string(8, '\0')) == "again...");
  bool twice = false;
  auto all = Dump(*e, &twice);
  CHECK(!twice && all.size() == 2);
}

PMEMKV_TEST(GrowthKeepsEverythingAndReopens) {
  const std::string path = pmemkv::testing::PoolPath("growth");
  std::mt19937_64 rng(7);
  std::map<std::string, std::string> model;
  Status s;
  {
    auto e = OpenOrDie(MakeConfig(path, 4, 0.5, 32 * kMiB), &s);
    CHECK_OK(s);
    for (int i = 0; i < 60000; i++) {
      const std::string k = Word(rng()), v = Word(rng());
      CHECK_OK(e->Put(k, v));
      model[k] = v;
      if (i % 7 == 0) {
        auto it = model.begin();
        std::advance(it, static_cast<long>(rng() % model.size()));
        CHECK_OK(e->Remove(it->first));
        model.erase(it);
      }
    }
    for (uint64_t sh = 0; sh < 4; sh++) CHECK(e->TableLog2(sh) >= 13);
    for (const auto& kv : model) CHECK(GetOr(*e, kv.first) == kv.second);
  }
  auto e = OpenOrDie(MakeConfig(path), &s);  // no shard count given: the stored one
  CHECK_OK(s);
  CHECK(e->shards() == 4);
  bool twice = false;
  CHECK(Dump(*e, &twice) == model);
  CHECK(!twice);
}

// Between chunks, keys are added (growing the tables) and removed; every key present for the
// whole walk is visited exactly once.
PMEMKV_TEST(WalkChunksVisitStableKeysOnce) {
  const std::string path = pmemkv::testing::PoolPath("walk");
  Status s;
  auto e = OpenOrDie(MakeConfig(path, 3, 0.5, 32 * kMiB), &s);
  CHECK_OK(s);
  std::mt19937_64 rng(11);
  std::map<std::string, int> stable;
  for (int i = 0; i < 5000; i++) {
    const std::string k = Word(rng() | 1);
    CHECK_OK(e->Put(k, "stable.."));
    stable[k] = 0;
  }
  CHECK_OK(e->Put(std::string(8, '\0'), "stable.."));
  stable[std::string(8, '\0')] = 0;
  struct Mark final : pmemkv::Visitor {
    std::map<std::string, int>* stable;
    bool Visit(Slice k, Slice) override {
      auto it = stable->find(std::string(k));
      if (it != stable->end()) it->second++;
      return false;
    }
  } mark;
  mark.stable = &stable;
  std::string token, next;
  std::vector<std::string> added;
  int chunks = 0;
  for (bool more = true; more; chunks++) {
    CHECK_OK(e->WalkChunk(token, 100, mark, &next, &more));
    token.swap(next);
    for (int j = 0; j < 300; j++) {
      added.push_back(Word(rng() | 1));
      CHECK_OK(e->Put(added.back(), "churn..."));
    }
    for (int j = 0; j < 100 && !added.empty(); j++) {
      CHECK_OK(e->Remove(added.back()));
      added.pop_back();
    }
    CHECK(chunks < 100000);
  }
  for (const auto& kv : stable) CHECK(kv.second == 1);
  CHECK(chunks > 40);
  std::string unused;
  bool more = false;
  CHECK(e->WalkChunk("bogus", 10, mark, &unused, &more).code() == Code::kInvalidArgument);
}

PMEMKV_TEST(BatchIsAtomicOnOutOfMemory) {
  const std::string path = pmemkv::testing::PoolPath("batch");
  Status s;
  auto e = OpenOrDie(MakeConfig(path, 16, 0.5, 8 * kMiB), &s);
  CHECK_OK(s);
  std::vector<pmemkv::BatchOp> ops;
  for (uint64_t i = 1; i <= 50; i++) ops.push_back({true, Word(i * 977), Word(i)});
  ops.push_back({false, Word(977), ""});
  ops.push_back({true, Word(2 * 977), Word(4242)});  // last op on a key wins
  CHECK_OK(e->Batch(ops));
  CHECK(GetOr(*e, Word(977)) == "<missing>");
  CHECK(GetOr(*e, Word(2 * 977)) == Word(4242));
  // Fill the pool, then a batch that cannot fit changes nothing.
  uint64_t i = 1000;
  for (; i < 2000000; i++) {
    Status p = e->Put(Word(i * 7919), Word(i));
    if (p.code() == Code::kOutOfMemory) break;
    CHECK_OK(p);
  }
  CHECK(i < 2000000);
  uint64_t before = 0, after = 0;
  CHECK_OK(e->Count(pmemkv::KeyRange{}, &before));
  ops.clear();
  ops.push_back({true, Word(3 * 977), Word(1)});  // an overwrite
  for (uint64_t j = 0; j < 200000; j++) ops.push_back({true, Word((j << 20) + 12345), Word(j)});
  Status b = e->Batch(ops);
  CHECK(b.code() == Code::kOutOfMemory);
  CHECK(b.message().find("batch operation") != std::string::npos);
  CHECK_OK(e->Count(pmemkv::KeyRange{}, &after));
  CHECK(before == after);
  CHECK(GetOr(*e, Word(3 * 977)) == Word(3));
  CHECK(GetOr(*e, Word(12345)) == "<missing>");
  e.reset();
  e = OpenOrDie(MakeConfig(path), &s);
  CHECK_OK(s);
  CHECK_OK(e->Count(pmemkv::KeyRange{}, &after));
  CHECK(before == after);
}

// Writers and lock-free readers on the same shards while the tables grow: a reader never sees
// a torn or foreign value, nor misses a key that is present throughout.
PMEMKV_TEST(ConcurrentReadersAndGrowingWriters) {
  const std::string path = pmemkv::testing::PoolPath("threads");
  Status s;
  auto e = OpenOrDie(MakeConfig(path, 2, 0.5, 64 * kMiB), &s);
  CHECK_OK(s);
  for (uint64_t k = 1; k <= 1000; k++) CHECK_OK(e->Put(Word(k), Word(k * 3)));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bad{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; w++)
    threads.emplace_back([&, w] {
      for (uint64_t k = 0; k < 40000; k++) {
        const uint64_t key = 1000000 * (w + 1) + k;
        if (!e->Put(Word(key), Word(key * 3)).ok()) bad++;
        if (k % 3 == 0 && !e->Remove(Word(key)).ok()) bad++;
      }
    });
  for (int r = 0; r < 2; r++)
    threads.emplace_back([&] {
      uint64_t k = 1;
      while (!stop.load()) {
        pmemkv::testing::ValueCopy v;
        if (!e->Get(Word(k), v).ok() || v.value != Word(k * 3)) bad++;
        k = k % 1000 + 1;
      }
    });
  threads[0].join();
  threads[1].join();
  stop = true;
  threads[2].join();
  threads[3].join();
  CHECK(bad.load() == 0);
  uint64_t n = 0;
  CHECK_OK(e->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == 1000 + 2 * (40000 - 13334));
}

// The load factor decides when a table doubles: 1000 keys in one shard need 2^11 home slots at
// 0.9 (1843 allowed), 2^12 at 0.25 (1024 allowed).
PMEMKV_TEST(LoadFactorSetsTheTableSize) {
  Status s;
  for (const auto& [lf, log2] : std::vector<std::pair<double, unsigned>>{{0.9, 11}, {0.25, 12}, {0.5, 11}}) {
    auto e = OpenOrDie(MakeConfig(pmemkv::testing::PoolPath("lf" + std::to_string(log2) + std::to_string(lf)), 1, lf), &s);
    CHECK_OK(s);
    for (uint64_t k = 1; k <= 1000; k++) CHECK_OK(e->Put(Word(k), Word(k)));
    CHECK(e->TableLog2(0) == log2);
  }
}

// ---- Crashes at every persistence step (fork + SIGKILL at the n-th crash point) ----

int g_crash_at = 0;
int g_crash_seen = 0;
void CrashHook(const char*) {
  if (++g_crash_seen == g_crash_at) raise(SIGKILL);
}

// Runs op on a copy of `pristine` in a child killed at its n-th crash point, for n = 1, 2, ...
// until the op completes; after each run the reopened pool must hold `before` or `after`.
// Returns the number of crash points seen, or -1 on a failure (already reported).
template <class Op>
int CrashEverywhere(const std::string& pristine, const std::map<std::string, std::string>& before,
                    const std::map<std::string, std::string>& after, Op&& op) {
  const std::string work = pristine + ".work";
  for (int n = 1; n < 1000; n++) {
    std::filesystem::copy_file(pristine, work, std::filesystem::copy_options::overwrite_existing);
    pid_t pid = fork();
    if (pid == 0) {
      Status s;
      auto e = OpenOrDie(MakeConfig(work), &s);
      if (!s.ok()) _exit(3);
      g_crash_at = n;
      pmemkv::SetCrashHook(&CrashHook);
      _exit(op(*e).ok() ? 0 : 4);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    if (!killed && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
      pmemkv::testing::Fail(__FILE__, __LINE__, "crash child failed at point " + std::to_string(n));
      return -1;
    }
    Status s;
    auto e = OpenOrDie(MakeConfig(work), &s);
    if (!s.ok()) {
      pmemkv::testing::Fail(__FILE__, __LINE__, "reopen after crash point " + std::to_string(n) + ": " + s.message());
      return -1;
    }
    bool twice = false;
    const auto state = Dump(*e, &twice);
    bool gets_agree = true;
    for (const auto& kv : state) gets_agree &= GetOr(*e, kv.first) == kv.second;
    uint64_t count = 0;
    e->Count(pmemkv::KeyRange{}, &count);
    if (twice || !gets_agree || count != state.size() || (state != before && state != after) ||
        (!killed && state != after)) {
      pmemkv::testing::Fail(__FILE__, __LINE__, "after crash point " + std::to_string(n) + " the pool holds " +
                                                    std::to_string(state.size()) + " entries, neither the old nor the new state");
      return -1;
    }
    if (!killed) return n - 1;
  }
  return -1;
}

// A cluster of keys whose hashes share home slot 3 of a 16-slot table in a single shard.
uint64_t ClusterHash(uint64_t i) { return (uint64_t{3} << 60) + i * 1000 + 1; }

PMEMKV_TEST(CrashInDisplacingInsertRemoveAndGrowth) {
  const std::string pristine = pmemkv::testing::PoolPath("crash");
  std::map<std::string, std::string> state;
  {
    Status s;
    auto e = OpenOrDie(MakeConfig(pristine, 1, 0.5), &s);
    CHECK_OK(s);
    for (uint64_t i = 0; i < 6; i++) {
      CHECK_OK(e->Put(KeyOfHash(ClusterHash(i)), Word(100 + i)));
      state[KeyOfHash(ClusterHash(i))] = Word(100 + i);
    }
    CHECK(e->TableLog2(0) == 4);
  }
  // Insert into the cluster's second position: five entries move right.
  auto after = state;
  const std::string mid = KeyOfHash(ClusterHash(0) + 500);
  after[mid] = Word(7);
  int points = CrashEverywhere(pristine, state, after, [&](RobinHood& e) { return e.Put(mid, Word(7)); });
  CHECK(points == 12);
  // Remove the cluster's first entry: five entries move left.
  after = state;
  after.erase(KeyOfHash(ClusterHash(0)));
  points = CrashEverywhere(pristine, state, after, [&](RobinHood& e) { return e.Remove(KeyOfHash(ClusterHash(0))); });
  CHECK(points == 11);
  // Fill the table to the load factor (8 of 16); the next insert grows it first.
  std::map<std::string, std::string> one = state;
  one[KeyOfHash(ClusterHash(50))] = Word(1);
  one[KeyOfHash(ClusterHash(55))] = Word(1);
  {
    Status s;
    auto e = OpenOrDie(MakeConfig(pristine), &s);
    CHECK_OK(s);
    CHECK_OK(e->Put(KeyOfHash(ClusterHash(50)), Word(1)));
    CHECK_OK(e->Put(KeyOfHash(ClusterHash(55)), Word(1)));
    CHECK(e->TableLog2(0) == 4);
  }
  after = one;
  after[KeyOfHash(ClusterHash(60))] = Word(2);
  points = CrashEverywhere(pristine, one, after, [&](RobinHood& e) { return e.Put(KeyOfHash(ClusterHash(60)), Word(2)); });
  CHECK(points >= 4);  // the new table written, published, then the insert's stores
  // The all-zero key.
  after = one;
  after[std::string(8, '\0')] = Word(9);
  points = CrashEverywhere(pristine, one, after, [&](RobinHood& e) { return e.Put(std::string(8, '\0'), Word(9)); });
  CHECK(points == 2);
}

// ---- Damaged pools ----

// Opens `path` with libpmemobj alone and hands fn the root and the directory.
template <class Fn>
void Damage(const std::string& path, Fn&& fn) {
  PMEMobjpool* pop = pmemobj_open(path.c_str(), rh::kLayoutName);
  if (pop == nullptr) return;
  auto* root = static_cast<rh::Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(rh::Root))));
  auto* dir = reinterpret_cast<rh::ShardRecord*>(reinterpret_cast<char*>(pop) + root->directory);
  fn(reinterpret_cast<char*>(pop), root, dir);
  pmemobj_persist(pop, pop, 4096);
  pmemobj_close(pop);
}

std::string MakeDamageBase(const std::string& name) {
  const std::string path = pmemkv::testing::PoolPath(name);
  Status s;
  auto e = OpenOrDie(MakeConfig(path, 1, 0.5), &s);
  if (!s.ok()) return path;
  for (uint64_t i = 0; i < 6; i++) e->Put(KeyOfHash(ClusterHash(i)), Word(i));
  return path;
}

bool IsDamaged(const std::string& path, const char* what) {
  Status s;
  auto e = OpenOrDie(MakeConfig(path), &s);
  const bool ok = s.code() == Code::kUnknownError && s.message().find("damaged") != std::string::npos &&
                  s.message().find(what) != std::string::npos;
  if (!ok) std::fprintf(stderr, "  open gave %s: %s\n", pmemkv::CodeName(s.code()), s.message().c_str());
  return ok;
}

rh::Slot* SlotsOf(char* base, const rh::ShardRecord& rec) {
  return reinterpret_cast<rh::Slot*>(base + rec.table + sizeof(rh::TableHeader));
}

PMEMKV_TEST(DamagedPoolsAreRefused) {
  std::string p = MakeDamageBase("d-offset");
  Damage(p, [](char*, rh::Root*, rh::ShardRecord* dir) { dir[0].table = uint64_t{1} << 40; });
  CHECK(IsDamaged(p, "outside the pool"));

  p = MakeDamageBase("d-directory");
  Damage(p, [](char*, rh::Root* root, rh::ShardRecord*) { root->directory = 3; });
  CHECK(IsDamaged(p, "directory"));

  p = MakeDamageBase("d-foreign");
  Damage(p, [](char*, rh::Root* root, rh::ShardRecord* dir) { dir[0].table = root->directory; });
  CHECK(IsDamaged(p, "does not hold this shard's table"));

  p = MakeDamageBase("d-overfull");  // every slot in use, all with home 0: a probe past the bound
  Damage(p, [](char* base, rh::Root*, rh::ShardRecord* dir) {
    rh::Slot* slots = SlotsOf(base, dir[0]);
    for (uint64_t i = 0; i < rh::TableSlots(static_cast<unsigned>(dir[0].log2)); i++) slots[i] = rh::Slot{i + 1, 0};
  });
  CHECK(IsDamaged(p, "overfull"));

  p = MakeDamageBase("d-order");
  Damage(p, [](char* base, rh::Root*, rh::ShardRecord* dir) { std::swap(SlotsOf(base, dir[0])[3], SlotsOf(base, dir[0])[4]); });
  CHECK(IsDamaged(p, "order"));

  p = MakeDamageBase("d-pairs");
  Damage(p, [](char* base, rh::Root*, rh::ShardRecord* dir) {
    rh::Slot* s = SlotsOf(base, dir[0]);
    s[4] = s[3];
    s[6] = s[5];
  });
  CHECK(IsDamaged(p, "duplicated"));

  p = MakeDamageBase("d-log2");
  Damage(p, [](char*, rh::Root*, rh::ShardRecord* dir) { dir[0].log2 = 60; });
  CHECK(IsDamaged(p, "2^60"));
}

// R1: one duplicated entry (a crash in the middle of a move) is repaired on open.
PMEMKV_TEST(OneDuplicatedEntryIsRepaired) {
  std::string p = MakeDamageBase("r1");
  Damage(p, [](char* base, rh::Root*, rh::ShardRecord* dir) {
    rh::Slot* s = SlotsOf(base, dir[0]);  // entries 0..5 at slots 3..8; copy the last one right
    s[9] = s[8];
  });
  Status s;
  auto e = OpenOrDie(MakeConfig(p), &s);
  CHECK_OK(s);
  bool twice = false;
  auto all = Dump(*e, &twice);
  CHECK(!twice && all.size() == 6);
  for (uint64_t i = 0; i < 6; i++) CHECK(GetOr(*e, KeyOfHash(ClusterHash(i))) == Word(i));
}

// ---- Options ----

PMEMKV_TEST(ShardCountAndEnvironment) {
  const std::string path = pmemkv::testing::PoolPath("options");
  Status s;
  {
    ::setenv(rh::kShardsVariable, "8", 1);
    ::setenv(rh::kLoadFactorVariable, "0.25", 1);
    auto e = OpenOrDie(MakeConfig(path), &s);
    CHECK_OK(s);
    CHECK(e->shards() == 8);
    CHECK(e->load_factor() == 0.25);
  }
  {
    auto e = OpenOrDie(MakeConfig(path, 8, 0.75), &s);  // config wins
    CHECK_OK(s);
    CHECK(e->load_factor() == 0.75);
  }
  ::setenv(rh::kShardsVariable, "16", 1);
  OpenOrDie(MakeConfig(path), &s);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message().find("8 shards") != std::string::npos && s.message().find("16") != std::string::npos);
  CHECK(s.message().find(rh::kShardsVariable) != std::string::npos);
  OpenOrDie(MakeConfig(path, 4), &s);
  CHECK(s.code() == Code::kInvalidArgument && s.message().find("config.shards_number is 4") != std::string::npos);
  ::setenv(rh::kShardsVariable, "0", 1);
  OpenOrDie(MakeConfig(path), &s);
  CHECK(s.code() == Code::kInvalidArgument && s.message().find(rh::kShardsVariable) != std::string::npos);
  ::unsetenv(rh::kShardsVariable);
  for (const char* bad : {"abc", "1.5", "0", "0.99", "1e9", "0.5x"}) {
    ::setenv(rh::kLoadFactorVariable, bad, 1);
    OpenOrDie(MakeConfig(path), &s);
    CHECK(s.code() == Code::kInvalidArgument && s.message().find(rh::kLoadFactorVariable) != std::string::npos);
  }
  ::unsetenv(rh::kLoadFactorVariable);
  auto e = OpenOrDie(MakeConfig(path), &s);  // neither given: the stored count
  CHECK_OK(s);
  CHECK(e->shards() == 8 && e->load_factor() == 0.5);
}

}  // namespace

int main() { return pmemkv::testing::RunAll(); }
