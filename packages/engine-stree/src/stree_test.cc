// Native unit tests of stree's data structure, run without Node.js (the `test:native` script):
//   g++ -std=c++17 -O1 -g -I<sdk include> src/stree*.cc -lpmemobj
// Pools are made in a fresh directory under /dev/shm (or $TMPDIR) and removed at the end; set
// PMEM_IS_PMEM_FORCE=1 for speed.
#include <fcntl.h>
#include <libpmemobj.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <pmemkv/crash_point.h>
#include <pmemkv/crash_testing.h>
#include <pmemkv/journal.h>
#include <pmemkv/testing.h>

#include "layout.h"
#include "stree.h"

namespace {

#define CHECK_VERIFY(engine)                                        \
  do {                                                              \
    std::string _e = (engine)->Verify();                            \
    if (!_e.empty()) {                                              \
      ::pmemkv::testing::Fail(__FILE__, __LINE__, "Verify: " + _e); \
      return;                                                       \
    }                                                               \
  } while (0)

using pmemkv::testing::PoolPath;
using Entries = std::vector<std::pair<std::string, std::string>>;
using Tree = std::unique_ptr<stree::STree>;

// The model: keys in the order of `reverse ? reverse-bytewise : bytewise`.
struct Order {
  bool reverse = false;
  bool operator()(const std::string& a, const std::string& b) const { return reverse ? b < a : a < b; }
};
using Model = std::map<std::string, std::string, Order>;

pmemkv::Status OpenTree(const std::string& path, uint64_t size, Tree* out, const char* comparator = nullptr) {
  pmemkv::Config cfg;
  cfg.path = path;
  cfg.size = size;
  cfg.create_if_missing = true;
  if (comparator != nullptr) {
    pmemkv::Config::Item item{pmemkv::Config::Item::Type::kString, comparator};
    cfg.items.emplace_back("comparator", item);
  }
  std::unique_ptr<pmemkv::Engine> e;
  out->reset();
  pmemkv::Status s = stree::STree::Open(cfg, &e);
  if (s.ok()) out->reset(static_cast<stree::STree*>(e.release()));
  return s;
}

struct Collect final : pmemkv::Visitor {
  Entries got;
  bool Visit(pmemkv::Slice k, pmemkv::Slice v) override {
    got.emplace_back(std::string(k), std::string(v));
    return false;
  }
};

Entries Dump(stree::STree* t, bool reverse = false) {
  Collect c;
  pmemkv::KeyRange all;
  all.compare = t->comparator().compare;
  if (!t->Walk(all, reverse, c).ok()) return {{"<walk failed>", ""}};
  return c.got;
}

Entries ModelEntries(const Model& m, bool reverse = false) {
  Entries out(m.begin(), m.end());
  if (reverse) std::reverse(out.begin(), out.end());
  return out;
}

// Keys of several shapes: short, 16-byte decimal (the benchmarks' shape), long with a shared
// prefix (separators beyond 16 bytes), empty, and with zero bytes.
std::string KeyOf(uint64_t id, int shape) {
  char buf[32];
  switch (shape % 4) {
    case 0:
      std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(id));
      return buf;
    case 1:
      std::snprintf(buf, sizeof buf, "%016llu", static_cast<unsigned long long>(id));
      return buf;
    case 2:
      std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(id));
      return std::string(40, 'p') + buf;
    default:
      return std::string(id % 3, '\0') + std::to_string(id) + std::string(1, '\0');
  }
}

std::string Key(uint64_t id) { return KeyOf(id, 1); }

// Compares the engine with the model: every key, both full walks, and ranged counts.
void CheckAgainstModel(stree::STree* t, const Model& m, std::mt19937_64& rng) {
  CHECK_VERIFY(t);
  uint64_t n = 0;
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == m.size());
  for (const auto& kv : m) {
    pmemkv::testing::ValueCopy c;
    CHECK_OK(t->Get(kv.first, c));
    CHECK(c.value == kv.second);
  }
  CHECK(Dump(t) == ModelEntries(m));
  CHECK(Dump(t, true) == ModelEntries(m, true));
  std::vector<std::string> keys;
  for (const auto& kv : m) keys.push_back(kv.first);
  for (int i = 0; i < 20 && !keys.empty(); i++) {
    const std::string a = keys[rng() % keys.size()] + (rng() % 2 ? std::string(1, '\x01') : std::string());
    const std::string b = keys[rng() % keys.size()];
    for (int inc = 0; inc < 4; inc++) {
      pmemkv::KeyRange r;
      r.compare = t->comparator().compare;
      r.lower = {a, true, (inc & 1) != 0};
      r.upper = {b, true, (inc & 2) != 0};
      Entries want;
      for (const auto& kv : m)
        if (r.Contains(kv.first)) want.push_back(kv);
      Collect fwd, rev;
      CHECK_OK(t->Walk(r, false, fwd));
      CHECK(fwd.got == want);
      CHECK_OK(t->Walk(r, true, rev));
      std::reverse(want.begin(), want.end());
      CHECK(rev.got == want);
      CHECK_OK(t->Count(r, &n));
      CHECK(n == want.size());
    }
  }
}

void TestBasics() {
  const std::string path = PoolPath("basics");
  Tree t;
  CHECK_OK(OpenTree(path, 16 << 20, &t));
  CHECK(Dump(t.get()).empty());
  pmemkv::testing::ValueCopy c;
  CHECK(t->Get("", c).IsNotFound());
  CHECK_OK(t->Put("", "empty key"));
  CHECK_OK(t->Put(std::string("a\0b", 3), std::string("\0\0", 2)));
  CHECK_OK(t->Put("a", ""));
  CHECK_OK(t->Put("a", "again"));
  CHECK(t->Remove("zz").IsNotFound());
  CHECK_OK(t->Get(std::string("a\0b", 3), c));
  CHECK(c.value == std::string("\0\0", 2));
  CHECK(Dump(t.get()) == (Entries{{"", "empty key"}, {"a", "again"}, {std::string("a\0b", 3), std::string("\0\0", 2)}}));
  CHECK_OK(t->Remove(""));
  CHECK_VERIFY(t.get());
  CHECK_OK(OpenTree(path, 0, &t));
  CHECK(Dump(t.get()) == (Entries{{"a", "again"}, {std::string("a\0b", 3), std::string("\0\0", 2)}}));
  CHECK_OK(t->Put("big", std::string(1 << 20, 'b')));
  CHECK_OK(t->Get("big", c));
  CHECK(c.value.size() == (1u << 20));
  CHECK_VERIFY(t.get());
  t.reset();
  unlink(path.c_str());
}

std::map<std::string, int>& StepsSeen() {
  static std::map<std::string, int> seen;
  return seen;
}
void CountStep(const char* step) { StepsSeen()[step]++; }

// Random puts, overwrites and removes against a model, with Verify along the way; a tree that
// grows to several levels and shrinks back. The crash points passed prove that every kind of
// structural change happened (splits, merges, borrows, new root, root collapse).
void TestRandomOps(const char* comparator, int shape, uint64_t seed) {
  pmemkv::SetCrashHook(CountStep);
  struct Unhook {
    ~Unhook() { pmemkv::SetCrashHook(nullptr); }
  } unhook;
  const std::string path = PoolPath("random-" + std::to_string(seed));
  Tree t;
  CHECK_OK(OpenTree(path, 64 << 20, &t, comparator));
  Model m(Order{comparator != nullptr && std::string(comparator) == "reverse-bytewise"});
  std::mt19937_64 rng(seed);
  for (int phase = 0; phase < 4; phase++) {
    const int ops = 12000;
    const uint64_t space = phase % 2 == 0 ? 6000 : 3000;
    const int put_pct = phase % 2 == 0 ? 75 : 25;  // grow, then shrink
    for (int i = 0; i < ops; i++) {
      const uint64_t id = rng() % space;
      const std::string k = KeyOf(id, shape == 4 ? static_cast<int>(id) : shape);
      if (static_cast<int>(rng() % 100) < put_pct) {
        const std::string v(rng() % 40, static_cast<char>('a' + i % 26));
        CHECK_OK(t->Put(k, v));
        m[k] = v;
      } else {
        const pmemkv::Status s = t->Remove(k);
        CHECK(s.ok() == (m.erase(k) == 1));
        CHECK(s.ok() || s.IsNotFound());
      }
      if (i % 3000 == 0) CHECK_VERIFY(t.get());
    }
    CheckAgainstModel(t.get(), m, rng);
    if (pmemkv::testing::Failures() != 0) return;
    CHECK_OK(OpenTree(path, 0, &t));
  }
  for (auto it = m.begin(); it != m.end(); it = m.erase(it)) CHECK_OK(t->Remove(it->first));
  stree::STree::Stats st{};
  CHECK(t->Verify(&st).empty());
  CHECK(st.entries == 0 && st.height == 0 && st.leaves == 1 && st.inner_nodes == 0 && st.sep_keys == 0);
  t.reset();
  unlink(path.c_str());
}

// The random runs above went through every kind of structural change.
void TestEveryChangeExercised() {
  for (const char* step : {"split: slot moved", "inner split", "new root", "merge: slots moved", "inner merge",
                           "inner borrow", "root collapsed"}) {
    if (StepsSeen()[step] == 0) std::fprintf(stderr, "no '%s' in the random runs\n", step);
    CHECK(StepsSeen()[step] > 0);
  }
}

// Ascending and descending fills leave full leaves (a key past the end gets a leaf of its
// own); removing everything merges the tree back into one empty root leaf.
void TestFill(int direction) {
  const std::string path = PoolPath("fill");
  Tree t;
  CHECK_OK(OpenTree(path, 64 << 20, &t));
  const uint64_t n = 100000;
  for (uint64_t i = 0; i < n; i++) CHECK_OK(t->Put(Key(direction > 0 ? i : n - 1 - i), "v"));
  stree::STree::Stats st{};
  std::string err = t->Verify(&st);
  CHECK(err.empty());
  CHECK(st.entries == n && st.leaves <= n / stree::kLeafSlots + 1 && st.height >= 2);
  std::vector<uint64_t> ids(n);
  for (uint64_t i = 0; i < n; i++) ids[i] = i;
  std::mt19937_64 rng(7);
  std::shuffle(ids.begin(), ids.end(), rng);
  for (uint64_t i = 0; i < n; i++) {
    CHECK_OK(t->Remove(Key(ids[i])));
    if (i % 20000 == 0) CHECK_VERIFY(t.get());
  }
  err = t->Verify(&st);
  CHECK(err.empty());
  CHECK(st.entries == 0 && st.leaves == 1 && st.height == 0);
  t.reset();
  unlink(path.c_str());
}

// Opens the pool of `path` with libpmemobj directly, to damage it.
template <class Fn>
bool Tamper(const std::string& path, Fn&& fn) {
  PMEMobjpool* pop = pmemobj_open(path.c_str(), stree::kLayoutName);
  if (pop == nullptr) return false;
  PMEMoid root_oid = pmemobj_root(pop, sizeof(stree::Root));
  auto* root = static_cast<stree::Root*>(pmemobj_direct(root_oid));
  char* base = reinterpret_cast<char*>(pop);
  fn(root, base);
  // The pool is on /dev/shm: the bytes written through the mapping are the file's.
  pmemobj_close(pop);
  return true;
}

bool IsDamaged(const pmemkv::Status& s) {
  return s.code() == pmemkv::Code::kUnknownError && s.message().find("damaged") != std::string::npos;
}

// Open reads the root node only, whatever the size of the tree.
void TestOpenDoesNotWalk() {
  const std::string path = PoolPath("reopen");
  Tree t;
  CHECK_OK(OpenTree(path, 64 << 20, &t));
  CHECK(t->open_nodes_read() == 1);
  std::mt19937_64 rng(11);
  for (int i = 0; i < 60000; i++) CHECK_OK(t->Put(Key(rng() % 1000000), "value"));
  stree::STree::Stats st{};
  CHECK(t->Verify(&st).empty());
  CHECK(st.leaves > 1000 && st.height >= 2);
  CHECK_OK(OpenTree(path, 0, &t));
  CHECK(t->open_nodes_read() == 1);
  uint64_t n = 0;
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == st.entries);
  t.reset();
  // Behavioural proof: with the tag of every node below the root wiped, open still succeeds
  // (it never read them) and the count is there; the first lookup meets the damage.
  uint64_t wiped = 0;
  auto set_tags = [&](bool wipe) {
    return Tamper(path, [&](stree::Root* r, char* base) {
      std::function<void(uint64_t, uint64_t)> visit = [&](uint64_t off, uint64_t depth) {
        if (depth < r->height) {
          auto* node = reinterpret_cast<stree::Inner*>(base + off);
          for (uint32_t i = 0; i <= node->count; i++) visit(node->child[i], depth + 1);
          if (depth > 0) node->tag = wipe ? 0 : stree::kInnerTag;
        } else {
          reinterpret_cast<stree::Leaf*>(base + off)->tag = wipe ? 0 : stree::kLeafTag;
        }
        wiped += depth > 0 ? 1 : 0;
      };
      visit(r->root_node, 0);
    });
  };
  CHECK(set_tags(true));
  CHECK(wiped == st.leaves + st.inner_nodes - 1);
  CHECK_OK(OpenTree(path, 0, &t));
  CHECK(t->open_nodes_read() == 1);
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == st.entries);
  pmemkv::testing::ValueCopy c;
  CHECK(IsDamaged(t->Get(Key(1), c)));
  t.reset();
  CHECK(set_tags(false));
  CHECK_OK(OpenTree(path, 0, &t));
  CHECK_VERIFY(t.get());
  t.reset();
  unlink(path.c_str());
}

// reverse-bytewise orders the other way, is stored in the pool and must match on reopen.
void TestComparators() {
  const std::string path = PoolPath("cmp");
  Tree t;
  CHECK_OK(OpenTree(path, 16 << 20, &t, "reverse-bytewise"));
  for (const char* k : {"a", "ab", "b", "", "abc"}) CHECK_OK(t->Put(k, k));
  CHECK(Dump(t.get()) == (Entries{{"b", "b"}, {"abc", "abc"}, {"ab", "ab"}, {"a", "a"}, {"", ""}}));
  t.reset();
  pmemkv::Status s = OpenTree(path, 0, &t, "bytewise");
  CHECK(s.code() == pmemkv::Code::kComparatorMismatch);
  CHECK(s.message().find("reverse-bytewise") != std::string::npos);
  CHECK_OK(OpenTree(path, 0, &t));  // no key: the stored comparator
  CHECK(t->comparator().compare == pmemkv::kReverseBytewise.compare);
  CHECK_OK(OpenTree(path, 0, &t, "reverse-bytewise"));
  CHECK(Dump(t.get()).front().first == "b");
  s = OpenTree(PoolPath("cmp-bad"), 16 << 20, &t, "nope");
  CHECK(s.code() == pmemkv::Code::kInvalidArgument);
  t.reset();
  unlink(path.c_str());
}

// Damaged pools: a child offset outside the pool, a node count beyond capacity, a loop in the
// leaf list. Each is UNKNOWN_ERROR "damaged" from the call that meets it, never a crash or a
// hang, and the pool is readable again once repaired.
void TestDamagedPools() {
  const std::string path = PoolPath("damaged");
  Tree t;
  CHECK_OK(OpenTree(path, 16 << 20, &t));
  for (int i = 0; i < 2000; i++) CHECK_OK(t->Put(Key(i), "v"));
  stree::STree::Stats st{};
  CHECK(t->Verify(&st).empty());
  CHECK(st.height == 2);
  t.reset();
  stree::Root saved_root{};
  uint64_t first_leaf = 0, second_leaf = 0;
  // Find the first two leaves and remember the root node.
  CHECK(Tamper(path, [&](stree::Root* r, char* base) {
    saved_root = *r;
    auto* n = reinterpret_cast<stree::Inner*>(base + r->root_node);
    auto* n2 = reinterpret_cast<stree::Inner*>(base + n->child[0]);
    first_leaf = n2->child[0];
    second_leaf = n2->child[1];
  }));
  struct Damage {
    const char* name;
    std::function<void(stree::Root*, char*)> apply, repair;
  };
  stree::Inner saved_inner{};
  stree::Leaf saved_leaf{};
  uint64_t saved_next = 0;
  const Damage damages[] = {
      {"root child offset outside the pool",
       [&](stree::Root* r, char* base) {
         auto* n = reinterpret_cast<stree::Inner*>(base + r->root_node);
         saved_inner = *n;
         n->child[0] = uint64_t{1} << 40;
       },
       [&](stree::Root* r, char* base) { *reinterpret_cast<stree::Inner*>(base + r->root_node) = saved_inner; }},
      {"inner count beyond capacity",
       [&](stree::Root* r, char* base) {
         auto* n = reinterpret_cast<stree::Inner*>(base + r->root_node);
         saved_inner = *n;
         n->count = 200;
       },
       [&](stree::Root* r, char* base) { *reinterpret_cast<stree::Inner*>(base + r->root_node) = saved_inner; }},
      {"leaf count beyond capacity",
       [&](stree::Root*, char* base) {
         auto* l = reinterpret_cast<stree::Leaf*>(base + first_leaf);
         saved_leaf = *l;
         l->count = 33;
       },
       [&](stree::Root*, char* base) { *reinterpret_cast<stree::Leaf*>(base + first_leaf) = saved_leaf; }},
      {"leaf list loop",
       [&](stree::Root*, char* base) {
         auto* l = reinterpret_cast<stree::Leaf*>(base + second_leaf);
         saved_leaf = *l;
         l->next = first_leaf;  // and first_leaf->prev is 0: the links disagree or loop
         reinterpret_cast<stree::Leaf*>(base + first_leaf)->prev = second_leaf;
       },
       [&](stree::Root*, char* base) {
         *reinterpret_cast<stree::Leaf*>(base + second_leaf) = saved_leaf;
         reinterpret_cast<stree::Leaf*>(base + first_leaf)->prev = 0;
       }},
      {"order entry beyond the slots",
       [&](stree::Root*, char* base) {
         auto* l = reinterpret_cast<stree::Leaf*>(base + first_leaf);
         saved_leaf = *l;
         l->order[1] = 200;
       },
       [&](stree::Root*, char* base) { *reinterpret_cast<stree::Leaf*>(base + first_leaf) = saved_leaf; }},
      {"slab list loop",
       [&](stree::Root* r, char* base) {
         auto* sl = reinterpret_cast<stree::Slab*>(base + r->slabs);
         saved_next = sl->next;
         sl->next = r->slabs;
       },
       [&](stree::Root* r, char* base) { reinterpret_cast<stree::Slab*>(base + r->slabs)->next = saved_next; }},
      {"slab list leaves the pool",
       [&](stree::Root* r, char*) {
         saved_next = r->slabs;
         r->slabs = uint64_t{1} << 40;
       },
       [&](stree::Root* r, char*) { r->slabs = saved_next; }},
      {"slab top beyond the slab",
       [&](stree::Root* r, char* base) {
         auto* sl = reinterpret_cast<stree::Slab*>(base + r->slabs);
         saved_next = sl->usage;
         sl->usage = stree::Slab::Usage(0, uint64_t{sl->bytes} + 8);
       },
       [&](stree::Root* r, char* base) { reinterpret_cast<stree::Slab*>(base + r->slabs)->usage = saved_next; }},
      {"slab tag",
       [&](stree::Root* r, char* base) { reinterpret_cast<stree::Slab*>(base + r->slabs)->tag = 0; },
       [&](stree::Root* r, char* base) { reinterpret_cast<stree::Slab*>(base + r->slabs)->tag = stree::kSlabTag; }},
      {"journal offset outside the pool",
       [&](stree::Root* r, char*) {
         saved_next = r->journal;
         r->journal = uint64_t{1} << 40;
       },
       [&](stree::Root* r, char*) { r->journal = saved_next; }},
      {"slot offset outside the pool",
       [&](stree::Root*, char* base) {
         auto* l = reinterpret_cast<stree::Leaf*>(base + first_leaf);
         saved_leaf = *l;
         l->kv[l->order[0]] = ~uint64_t{0} - 4;
       },
       [&](stree::Root*, char* base) { *reinterpret_cast<stree::Leaf*>(base + first_leaf) = saved_leaf; }},
  };
  for (const Damage& d : damages) {
    CHECK(Tamper(path, d.apply));
    pmemkv::Status s = OpenTree(path, 0, &t);
    if (s.ok()) {
      // Open reads only the root node; the damage shows in the first call that reaches it.
      Collect all;
      pmemkv::Status walk = t->Walk(pmemkv::KeyRange{}, false, all);
      uint64_t n = 0;
      pmemkv::Status count = t->Count(pmemkv::KeyRange{{Key(0), true, true}, {}, t->comparator().compare}, &n);
      pmemkv::testing::ValueCopy c;
      pmemkv::Status get = t->Get(Key(0), c);
      if (!IsDamaged(walk) || !IsDamaged(count)) {
        std::fprintf(stderr, "damage '%s': walk %s, count %s\n", d.name, walk.message().c_str(), count.message().c_str());
        CHECK(false);
      }
      // A get finds its pair by fingerprint and never reads the leaf links or the order array.
      const bool list_only = std::string(d.name) == "leaf list loop" || std::string(d.name) == "order entry beyond the slots";
      // (A put is tried only where it must fail: elsewhere it would succeed and change the
      // pool under the repair.)
      const pmemkv::Status put = list_only ? pmemkv::Status::OK() : t->Put(Key(0), "x");
      if (!list_only && (!IsDamaged(get) || !IsDamaged(put))) {
        std::fprintf(stderr, "damage '%s': get %s, put %s\n", d.name, get.message().c_str(), put.message().c_str());
        CHECK(false);
      }
      t.reset();
    } else {
      CHECK(IsDamaged(s));
    }
    CHECK(Tamper(path, d.repair));
    CHECK_OK(OpenTree(path, 0, &t));
    CHECK_VERIFY(t.get());
    t.reset();
  }
  // A root node offset outside the pool and a height beyond any tree: refused by open.
  CHECK(Tamper(path, [&](stree::Root* r, char*) { r->root_node = uint64_t{1} << 40; }));
  CHECK(IsDamaged(OpenTree(path, 0, &t)));
  CHECK(Tamper(path, [&](stree::Root* r, char*) { *r = saved_root; r->height = 1000; }));
  CHECK(IsDamaged(OpenTree(path, 0, &t)));
  CHECK(Tamper(path, [&](stree::Root* r, char*) { *r = saved_root; r->height = 0; }));  // names an inner node
  CHECK(IsDamaged(OpenTree(path, 0, &t)));
  CHECK(Tamper(path, [&](stree::Root* r, char*) { *r = saved_root; }));
  CHECK_OK(OpenTree(path, 0, &t));
  CHECK_VERIFY(t.get());
  t.reset();
  unlink(path.c_str());
}

void PutAll(stree::STree* t, Model* m, uint64_t from, uint64_t to, uint64_t step = 1) {
  for (uint64_t i = from; i < to; i += step) {
    const std::string k = Key(i), v = "value of " + std::to_string(i);
    if (!t->Put(k, v).ok()) return;
    (*m)[k] = v;
  }
}

struct CrashCase {
  const char* name;
  std::function<void(stree::STree*, Model*)> setup;
  std::function<pmemkv::Status(stree::STree*)> op;
  std::function<void(Model*)> apply;
  int min_points;
  // Kill points past the operation's commit point (a journal commit): the pool reopens with
  // the operation done (the journal's redo). At least this many kills must show it.
  int min_after = 0;
};

// Deterministic crash injection: for each case and each crash point k the operation passes, a
// forked child opens a copy of the prepared pool, runs the operation and is killed (SIGKILL) at
// point k. Reopening must give exactly the state before the operation, pass Verify (so no
// leak), and take the operation afterwards.
void TestCrashPoints() {
  auto remove_range = [](stree::STree* t, Model* m, uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; i++)
      if (t->Remove(Key(i)).ok()) m->erase(Key(i));
  };
  const CrashCase cases[] = {
      {"insert into a leaf with room (journal)", [](stree::STree* t, Model* m) { PutAll(t, m, 0, 10); },
       [](stree::STree* t) { return t->Put(Key(100), "new"); }, [](Model* m) { (*m)[Key(100)] = "new"; }, 2, 1},
      {"first insert of a pool: a new slab, then the journal", [](stree::STree*, Model*) {},
       [](stree::STree* t) { return t->Put(Key(1), "one"); }, [](Model* m) { (*m)[Key(1)] = "one"; }, 3, 1},
      {"overwrite (journal)", [](stree::STree* t, Model* m) { PutAll(t, m, 0, 10); },
       [](stree::STree* t) { return t->Put(Key(5), "a changed, longer value"); },
       [](Model* m) { (*m)[Key(5)] = "a changed, longer value"; }, 2, 1},
      {"remove (journal)", [](stree::STree* t, Model* m) { PutAll(t, m, 0, 10); },
       [](stree::STree* t) { return t->Remove(Key(5)); }, [](Model* m) { m->erase(Key(5)); }, 1, 1},
      {"remove of the last entry of the root leaf (journal)", [](stree::STree* t, Model* m) { PutAll(t, m, 0, 1); },
       [](stree::STree* t) { return t->Remove(Key(0)); }, [](Model* m) { m->erase(Key(0)); }, 1, 1},
      {"overwrite of a slab record by a pair of its own (transaction)", [](stree::STree* t, Model* m) { PutAll(t, m, 0, 10); },
       [](stree::STree* t) { return t->Put(Key(5), std::string(5000, 'L')); },
       [](Model* m) { (*m)[Key(5)] = std::string(5000, 'L'); }, 2},
      {"overwrite of a pair of its own by a slab record (transaction)",
       [](stree::STree* t, Model* m) {
         PutAll(t, m, 0, 10);
         if (t->Put(Key(5), std::string(5000, 'L')).ok()) (*m)[Key(5)] = std::string(5000, 'L');
       },
       [](stree::STree* t) { return t->Put(Key(5), "small again"); }, [](Model* m) { (*m)[Key(5)] = "small again"; }, 2},
      {"remove of a pair of its own (transaction)",
       [](stree::STree* t, Model* m) {
         PutAll(t, m, 0, 10);
         if (t->Put(Key(5), std::string(5000, 'L')).ok()) (*m)[Key(5)] = std::string(5000, 'L');
       },
       [](stree::STree* t) { return t->Remove(Key(5)); }, [](Model* m) { m->erase(Key(5)); }, 1},
      {"batch with splits first (journal)", [](stree::STree* t, Model* m) { PutAll(t, m, 0, 200, 2); },
       [](stree::STree* t) {
         std::vector<pmemkv::BatchOp> ops;
         for (int i = 1; i < 120; i += 2) ops.push_back({true, Key(i), "batched " + std::to_string(i)});
         for (int i = 0; i < 40; i += 2) ops.push_back({false, Key(i), ""});
         ops.push_back({true, Key(3), "last wins"});
         ops.push_back({false, Key(5), ""});
         ops.push_back({true, Key(5), "removed, then put again"});
         return t->Batch(ops);
       },
       [](Model* m) {
         for (int i = 1; i < 120; i += 2) (*m)[Key(i)] = "batched " + std::to_string(i);
         for (int i = 0; i < 40; i += 2) m->erase(Key(i));
         (*m)[Key(3)] = "last wins";
         (*m)[Key(5)] = "removed, then put again";
       },
       4, 1},
      {"batch with a pair of its own (transaction)", [](stree::STree* t, Model* m) { PutAll(t, m, 0, 40); },
       [](stree::STree* t) {
         std::vector<pmemkv::BatchOp> ops;
         for (int i = 30; i < 60; i++) ops.push_back({true, Key(i), "batched " + std::to_string(i)});
         for (int i = 0; i < 10; i++) ops.push_back({false, Key(i), ""});
         ops.push_back({true, Key(7), std::string(3000, 'B')});
         return t->Batch(ops);
       },
       [](Model* m) {
         for (int i = 30; i < 60; i++) (*m)[Key(i)] = "batched " + std::to_string(i);
         for (int i = 0; i < 10; i++) m->erase(Key(i));
         (*m)[Key(7)] = std::string(3000, 'B');
       },
       4},
      {"split of the root leaf (new root)", [](stree::STree* t, Model* m) { PutAll(t, m, 0, 64, 2); },
       [](stree::STree* t) { return t->Put(Key(33), "splitter"); }, [](Model* m) { (*m)[Key(33)] = "splitter"; },
       stree::kLeafSlots / 2 + 3},
      {"split in the middle (ascending keys between)", [](stree::STree* t, Model* m) { PutAll(t, m, 0, 2000, 2); },
       [](stree::STree* t) { return t->Put(Key(1001), "splitter"); }, [](Model* m) { (*m)[Key(1001)] = "splitter"; }, 4},
      {"split of the last leaf (ascending fill)", [](stree::STree* t, Model* m) { PutAll(t, m, 0, 32); },
       [](stree::STree* t) { return t->Put(Key(1000), "last"); }, [](Model* m) { (*m)[Key(1000)] = "last"; }, 3},
      {"split of the first leaf (descending fill)", [](stree::STree* t, Model* m) { PutAll(t, m, 10, 42); },
       [](stree::STree* t) { return t->Put(Key(1), "first"); }, [](Model* m) { (*m)[Key(1)] = "first"; }, 3},
      {"split of inner nodes up to a new root",
       [](stree::STree* t, Model* m) { PutAll(t, m, 0, 32 * 32); },  // ascending: full leaves, a full root
       [](stree::STree* t) { return t->Put(Key(5000), "top"); }, [](Model* m) { (*m)[Key(5000)] = "top"; }, 4},
      {"cleaning pass: records move out of a sparse slab, which is freed",
       [&](stree::STree* t, Model* m) {
         PutAll(t, m, 0, 7000);        // the first slab fills up (about 6,500 records)
         remove_range(t, m, 20, 6500);  // 20 records left in it
       },
       [](stree::STree* t) {
         const uint64_t slabs = t->GetSlabStats().slabs;
         if (!t->CleanNow()) return pmemkv::Status::Unknown("nothing to clean");
         return t->GetSlabStats().slabs < slabs ? pmemkv::Status::OK() : pmemkv::Status::Unknown("no slab freed");
       },
       [](Model*) {}, 20},
      {"leaf merge after a journal remove",
       [&](stree::STree* t, Model* m) {
         PutAll(t, m, 0, 96);  // three full leaves
         remove_range(t, m, 0, 24);
         remove_range(t, m, 32, 52);  // 8 and 12 entries left: the next remove merges them
       },
       [](stree::STree* t) { return t->Remove(Key(24)); }, [](Model* m) { m->erase(Key(24)); }, 3, 3},
      {"remove that empties a leaf (merge in one transaction)",
       [&](stree::STree* t, Model* m) {
         PutAll(t, m, 0, 96);  // three full leaves
         remove_range(t, m, 33, 64);  // the second leaf keeps one entry (32) beside full neighbours
       },
       [](stree::STree* t) { return t->Remove(Key(32)); }, [](Model* m) { m->erase(Key(32)); }, 3},
      {"merge that collapses the root",
       [&](stree::STree* t, Model* m) {
         PutAll(t, m, 0, 40);  // leaves of 32 and 8 under a root
         remove_range(t, m, 32, 39);  // the second leaf keeps one entry
       },
       [](stree::STree* t) { return t->Remove(Key(39)); }, [](Model* m) { m->erase(Key(39)); }, 4},
      {"inner merge or borrow",
       [&](stree::STree* t, Model* m) {
         PutAll(t, m, 0, 32 * 40);
         for (uint64_t i = 0; i < 32 * 12; i++)
           if (i % 32 != 0 && t->Remove(Key(i)).ok()) m->erase(Key(i));
       },
       [&](stree::STree* t) {
         pmemkv::Status s;
         for (uint64_t i = 0; i < 32 * 12 && s.ok(); i += 32) {
           s = t->Remove(Key(i));
           if (s.IsNotFound()) s = pmemkv::Status::OK();  // removed before the kill
         }
         return s;
       },
       [](Model* m) {
         for (uint64_t i = 0; i < 32 * 12; i += 32) m->erase(Key(i));
       },
       1},
  };
  const std::string prepared = PoolPath("crash-prepared"), work = PoolPath("crash-work");
  for (const CrashCase& c : cases) {
    Model before;
    {
      unlink(prepared.c_str());
      Tree t;
      CHECK_OK(OpenTree(prepared, 16 << 20, &t));
      c.setup(t.get(), &before);
      CHECK(Dump(t.get()) == ModelEntries(before));
      CHECK_VERIFY(t.get());
    }
    Model after = before;
    c.apply(&after);
    const Entries want_before = ModelEntries(before), want_after = ModelEntries(after);
    const bool multi = std::string(c.name) == "inner merge or borrow";  // several removes: any prefix of them
    int kills_after = 0;
    // Killed: the pool holds the state before (any prefix, for several operations), passes
    // Verify and still takes the operation. Completed: the state after.
    const int points = pmemkv::testing::KillAtEveryCrashPoint(
        prepared, work,
        [&](const std::string& pool) {
          Tree t;
          pmemkv::Status s = OpenTree(pool, 0, &t);
          return s.ok() ? c.op(t.get()) : s;
        },
        [&](const pmemkv::testing::CrashOutcome& o) {
          Tree t;
          if (!OpenTree(work, 0, &t).ok() || !t->Verify().empty()) return false;
          const Entries got = Dump(t.get());
          const bool done = got == want_after;
          if (o.killed && done && !multi) kills_after++;
          const bool as_expected = multi ? got.size() <= want_before.size() && got.size() >= want_after.size()
                                         : done || (o.killed && got == want_before);
          if (!as_expected) {
            std::fprintf(stderr, "case '%s': after a kill at step %d the pool holds %zu entries (%zu before, %zu after)\n",
                         c.name, o.step, got.size(), want_before.size(), want_after.size());
            return false;
          }
          if (!o.killed || (done && !multi)) return true;
          return c.op(t.get()).ok() && Dump(t.get()) == want_after && t->Verify().empty();
        });
    CHECK(points >= 0);
    if (points < c.min_points) std::fprintf(stderr, "case '%s': only %d crash points\n", c.name, points);
    CHECK(points >= c.min_points);
    if (kills_after < c.min_after) std::fprintf(stderr, "case '%s': %d kills redone, want %d\n", c.name, kills_after, c.min_after);
    CHECK(kills_after >= c.min_after);
  }
  unlink(prepared.c_str());
  unlink(work.c_str());
}

// A full pool during puts (splits included) is OUT_OF_MEMORY and leaves the tree as it was;
// freeing space makes it usable again.
void TestOutOfSpace() {
  const std::string path = PoolPath("oom");
  Tree t;
  CHECK_OK(OpenTree(path, 8 << 20, &t));
  Model m;
  std::mt19937_64 rng(5);
  int refused = 0;
  for (uint64_t i = 0; refused < 50; i++) {
    const std::string k = Key(rng() % 10000000), v(200, 'v');
    const pmemkv::Status s = t->Put(k, v);
    if (s.code() == pmemkv::Code::kOutOfMemory) {
      refused++;
      continue;
    }
    CHECK_OK(s);
    m[k] = v;
  }
  CHECK(m.size() > 1000);
  CheckAgainstModel(t.get(), m, rng);
  if (pmemkv::testing::Failures() != 0) return;
  std::vector<std::string> keys;
  for (const auto& kv : m) keys.push_back(kv.first);
  for (size_t i = 0; i < keys.size(); i += 2) {
    CHECK_OK(t->Remove(keys[i]));
    m.erase(keys[i]);
  }
  for (int i = 0; i < 500; i++) {
    const std::string k = Key(20000000 + i), v(200, 'n');
    CHECK_OK(t->Put(k, v));
    m[k] = v;
  }
  CheckAgainstModel(t.get(), m, rng);
  t.reset();
  unlink(path.c_str());
}

// A batch is one transaction: all of it or none, including a failure in its last operation.
void TestBatch() {
  const std::string path = PoolPath("batch");
  Tree t;
  CHECK_OK(OpenTree(path, 16 << 20, &t));
  Model m;
  std::vector<pmemkv::BatchOp> ops;
  for (int i = 0; i < 500; i++) ops.push_back({true, Key(i), "v" + std::to_string(i)});
  for (int i = 0; i < 500; i += 3) ops.push_back({false, Key(i), ""});
  ops.push_back({true, Key(7), "last wins"});
  ops.push_back({false, "missing", ""});
  CHECK_OK(t->Batch(ops));
  for (int i = 0; i < 500; i++)
    if (i % 3 != 0) m[Key(i)] = "v" + std::to_string(i);
  m[Key(7)] = "last wins";
  CHECK(Dump(t.get()) == ModelEntries(m));
  CHECK_VERIFY(t.get());
  std::vector<pmemkv::BatchOp> big;
  for (int i = 1000; i < 1400; i++) big.push_back({true, Key(i), "new"});
  for (int i = 1; i < 500; i += 3) big.push_back({false, Key(i), ""});
  big.push_back({true, "huge", std::string(32 << 20, 'h')});
  const pmemkv::Status s = t->Batch(big);
  CHECK(s.code() == pmemkv::Code::kOutOfMemory);
  CHECK(s.message().find("batch operation " + std::to_string(big.size() - 1)) != std::string::npos);
  CHECK(Dump(t.get()) == ModelEntries(m));
  CHECK_VERIFY(t.get());
  CHECK_OK(OpenTree(path, 0, &t));
  CHECK(Dump(t.get()) == ModelEntries(m));
  t.reset();
  unlink(path.c_str());
}

void TestInsideForeignTransaction() {
  const std::string path = PoolPath("foreign");
  Tree t;
  CHECK_OK(OpenTree(path, 8 << 20, &t));
  CHECK_OK(t->Put("k", "old"));
  PMEMobjpool* other = pmemobj_create(PoolPath("app").c_str(), "app", 8 << 20, 0600);
  CHECK(other != nullptr);
  CHECK(pmemobj_tx_begin(other, nullptr, TX_PARAM_NONE) == 0);
  const pmemkv::Status put = t->Put("k", "new");
  const pmemkv::Status remove = t->Remove("k");
  const pmemkv::Status batch = t->Batch({{true, "b", "1"}});
  pmemobj_tx_abort(ECANCELED);
  pmemobj_tx_end();
  pmemobj_close(other);
  for (const pmemkv::Status& s : {put, remove, batch}) CHECK(s.code() == pmemkv::Code::kTransactionScopeError);
  CHECK(Dump(t.get()) == (Entries{{"k", "old"}}));
  CHECK_VERIFY(t.get());
  t.reset();
  unlink(path.c_str());
  unlink(PoolPath("app").c_str());
}

// Random batches (puts, overwrites, removes, keys repeated inside a batch) against a model,
// in a pool large enough that most commit through the journal (with splits first) and some,
// too large for it, as transactions.
void TestRandomBatches() {
  StepsSeen().clear();
  pmemkv::SetCrashHook(CountStep);
  struct Unhook {
    ~Unhook() { pmemkv::SetCrashHook(nullptr); }
  } unhook;
  const std::string path = PoolPath("batches");
  Tree t;
  CHECK_OK(OpenTree(path, 64 << 20, &t));
  Model m;
  std::mt19937_64 rng(21);
  for (int b = 0; b < 300; b++) {
    std::vector<pmemkv::BatchOp> ops;
    const int n = 1 + static_cast<int>(rng() % (b % 10 == 9 ? 3000 : 300));
    const bool grow = (b / 50) % 2 == 0;
    for (int i = 0; i < n; i++) {
      const std::string k = Key(rng() % 20000);
      if (static_cast<int>(rng() % 100) < (grow ? 80 : 30))
        ops.push_back({true, k, std::string(rng() % 60, static_cast<char>('a' + b % 26))});
      else
        ops.push_back({false, k, ""});
    }
    CHECK_OK(t->Batch(ops));
    for (const pmemkv::BatchOp& op : ops) {
      if (op.is_put)
        m[op.key] = op.value;
      else
        m.erase(op.key);
    }
    if (b % 60 == 0) CHECK_VERIFY(t.get());
    if (pmemkv::testing::Failures() != 0) return;
  }
  CheckAgainstModel(t.get(), m, rng);
  CHECK(StepsSeen()["batch: committed"] > 200 && StepsSeen()["batch: leaf split"] > 0);
  CHECK(StepsSeen()["insert: pair placed"] + StepsSeen()["split: pair placed"] > 0);  // some as transactions
  CHECK_OK(OpenTree(path, 0, &t));
  CheckAgainstModel(t.get(), m, rng);
  t.reset();
  unlink(path.c_str());
}

// The offsets of the stores of the journal's log (the blocks a crash left in it), read from
// the pool file at `path` (a single-file pool: pool offsets are file offsets).
std::vector<uint64_t> LoggedTargets(const std::string& path) {
  std::vector<uint64_t> targets;
  Tamper(path, [&](stree::Root* r, char* base) {
    const auto* area = reinterpret_cast<const pmemkv::Journal::Area*>(base + r->journal);
    uint64_t pos = 0, seq = area->first_seq;
    while (pos + 2 <= area->capacity) {
      const pmemkv::Journal::Record* block = area->records + pos;
      if (block[0].target != seq) break;
      const uint64_t n = block[0].value >> 32, m = block[0].value & 0xFFFFFFFFu;
      if (n == 0 || block[1].target != pmemkv::Journal::RecordsChecksum(seq, n, m, block + 2)) break;
      for (uint64_t i = 0; i < n; i++) targets.push_back(block[2 + m + i].target);
      pos += 2 + m + n;
      seq++;
    }
  });
  return targets;
}

// A crash after a journal commit whose stores never reached the media (on real persistent
// memory: a power loss before their flushes completed): the words the commit stores (the
// leaf's count, fingerprints and order array, the slot, Root::count, the slab's usage) are put
// back to their old bytes; open redoes the commit, so the order array and the count are exact
// again without any recount.
void TestStaleStoresRedone() {
  const std::string prepared = PoolPath("stale-prepared"), work = PoolPath("stale-work");
  struct Op {
    const char* step;
    std::function<pmemkv::Status(stree::STree*)> run;
    std::function<void(Model*)> apply;
  };
  const Op ops[] = {
      {"insert: committed", [](stree::STree* t) { return t->Put(Key(5) + "x", "inserted"); },
       [](Model* m) { (*m)[Key(5) + "x"] = "inserted"; }},
      {"remove: committed", [](stree::STree* t) { return t->Remove(Key(7)); }, [](Model* m) { m->erase(Key(7)); }},
      {"overwrite: committed", [](stree::STree* t) { return t->Put(Key(3), "overwritten"); },
       [](Model* m) { (*m)[Key(3)] = "overwritten"; }},
  };
  for (const Op& op : ops) {
    Model m;
    {
      unlink(prepared.c_str());
      Tree t;
      CHECK_OK(OpenTree(prepared, 16 << 20, &t));
      PutAll(t.get(), &m, 0, 20);
    }
    CHECK(pmemkv::testing::CopyFile(prepared, work));
    static const char* kill_at = nullptr;
    kill_at = op.step;
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      pmemkv::SetCrashHook([](const char* step) {
        if (std::string(step) == kill_at) raise(SIGKILL);
      });
      Tree t;
      if (!OpenTree(work, 0, &t).ok()) _exit(3);
      op.run(t.get());
      _exit(4);  // not killed: the step was never reached
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    const std::vector<uint64_t> targets = LoggedTargets(work);
    CHECK(targets.size() >= 2);
    std::ifstream in(prepared, std::ios::binary);
    const std::string old_bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    uint64_t stale_count = 0;
    CHECK(Tamper(work, [&](stree::Root* r, char* base) {
      for (uint64_t t : targets)
        if (t + 8 <= old_bytes.size()) std::memcpy(base + t, old_bytes.data() + t, 8);
      stale_count = r->count;
    }));
    CHECK(stale_count == m.size());  // the count word was among the stores put back (or unchanged)
    op.apply(&m);
    Tree t;
    CHECK_OK(OpenTree(work, 0, &t));
    CHECK_VERIFY(t.get());  // order arrays, fingerprints, count and slab usage all exact
    uint64_t n = 0;
    CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
    CHECK(n == m.size());
    CHECK(Dump(t.get()) == ModelEntries(m));
    CHECK(Dump(t.get(), true) == ModelEntries(m, true));
  }
  unlink(prepared.c_str());
  unlink(work.c_str());
}

// A version 1 pool (every pair a KV of its own, no journal, no slabs) opens as version 2: the
// journal is allocated, then the version changes, with a crash at any point between
// recoverable; the pairs stay where they are and new ones go to slabs.
void TestUpgradeFromVersion1() {
  const std::string v1 = PoolPath("v1"), work = PoolPath("v1-work");
  Model m;
  {
    unlink(v1.c_str());
    stree::STree::SetOwnRecordsOnlyForTesting(true);
    Tree t;
    CHECK_OK(OpenTree(v1, 16 << 20, &t));
    PutAll(t.get(), &m, 0, 3000, 3);
    for (uint64_t i = 0; i < 3000; i += 9)
      if (t->Remove(Key(i)).ok()) m.erase(Key(i));
    CHECK_VERIFY(t.get());
    t.reset();
    stree::STree::SetOwnRecordsOnlyForTesting(false);
  }
  // Back to version 1: no journal, no slabs, version 1; every object one of version 1's types.
  bool only_v1_types = true;
  CHECK(Tamper(v1, [&](stree::Root* r, char* base) {
    PMEMoid j = pmemobj_oid(r);
    j.off = r->journal;
    pmemobj_free(&j);
    r->journal = 0;
    r->version = 1;
    only_v1_types = r->slabs == 0;
    pmemobj_persist(pmemobj_pool_by_ptr(r), r, sizeof *r);
    for (PMEMoid o = pmemobj_first(pmemobj_pool_by_ptr(base)); !OID_IS_NULL(o); o = pmemobj_next(o))
      if (pmemobj_type_num(o) > stree::kSepTypeNum) only_v1_types = false;
  }));
  CHECK(only_v1_types);
  const int points = pmemkv::testing::KillAtEveryCrashPoint(
      v1, work,
      [&](const std::string& pool) {
        Tree t;
        return OpenTree(pool, 0, &t);
      },
      [&](const pmemkv::testing::CrashOutcome&) {
        Tree t;
        if (!OpenTree(work, 0, &t).ok() || !t->Verify().empty()) return false;
        return t->root()->version == stree::kLayoutVersion && t->root()->journal != 0 && Dump(t.get()) == ModelEntries(m);
      });
  CHECK(points >= 2);
  CHECK(pmemkv::testing::CopyFile(v1, work));
  Tree t;
  CHECK_OK(OpenTree(work, 0, &t));
  CHECK(t->root()->version == 2);
  stree::STree::Stats st{};
  CHECK(t->Verify(&st).empty());
  CHECK(st.slab_records == 0 && st.entries == m.size());
  // Old pairs overwritten and removed, new ones inserted: all through the version 2 paths.
  for (uint64_t i = 0; i < 3000; i += 2) {
    const std::string k = Key(i), v = "v2 " + std::to_string(i);
    CHECK_OK(t->Put(k, v));
    m[k] = v;
  }
  for (uint64_t i = 0; i < 3000; i += 7)
    if (t->Remove(Key(i)).ok()) CHECK(m.erase(Key(i)) == 1);
  std::mt19937_64 rng(9);
  CheckAgainstModel(t.get(), m, rng);
  CHECK(t->Verify(&st).empty());
  CHECK(st.slab_records > 0 && st.slab_records < st.entries);
  CHECK_OK(OpenTree(work, 0, &t));
  CheckAgainstModel(t.get(), m, rng);
  t.reset();
  unlink(v1.c_str());
  unlink(work.c_str());
}

// Overwrites and removes leave garbage in slabs; the cleaner keeps the slabs' bytes within a
// bound of the live bytes, and a pool whose heap is all slabs still takes new pairs.
void TestCleanerBoundsSpace() {
  const std::string path = PoolPath("churn");
  Tree t;
  CHECK_OK(OpenTree(path, 16 << 20, &t));
  Model m;
  std::mt19937_64 rng(13);
  uint64_t most = 0;
  for (int i = 0; i < 300000; i++) {
    const std::string k = Key(rng() % 8000);
    if (rng() % 4 == 0) {
      if (t->Remove(k).ok()) m.erase(k);
      continue;
    }
    const std::string v(20 + rng() % 200, static_cast<char>('a' + i % 26));
    CHECK_OK(t->Put(k, v));
    m[k] = v;
    if (pmemkv::testing::Failures() != 0) return;
    const stree::STree::SlabStats ss = t->GetSlabStats();
    most = std::max(most, ss.bytes);
    if (i % 50000 == 0) CHECK_VERIFY(t.get());
  }
  const stree::STree::SlabStats ss = t->GetSlabStats();
  // At most 1.5x the live bytes plus the slack (two slabs), the pass's victims (four), the
  // current slab and the reserve.
  const uint64_t slab = ss.bytes / std::max<uint64_t>(ss.slabs, 1);
  CHECK(most <= ss.live * 3 / 2 + 10 * slab + (4 << 20) / 10);
  CheckAgainstModel(t.get(), m, rng);
  CHECK_OK(OpenTree(path, 0, &t));
  CheckAgainstModel(t.get(), m, rng);
  t.reset();
  unlink(path.c_str());
}

}  // namespace

PMEMKV_TEST(BasicsEmptyKeysZeroBytesOverwriteRemoveReopen) { TestBasics(); }
PMEMKV_TEST(RandomOpsShortKeys) { TestRandomOps(nullptr, 0, 1); }
PMEMKV_TEST(RandomOpsDecimalKeys) { TestRandomOps(nullptr, 1, 2); }
PMEMKV_TEST(RandomOpsLongKeysSharingAPrefix) { TestRandomOps(nullptr, 2, 3); }
PMEMKV_TEST(RandomOpsMixedKeysReverseBytewise) { TestRandomOps("reverse-bytewise", 4, 4); }
PMEMKV_TEST(RandomOpsWentThroughEveryStructuralChange) { TestEveryChangeExercised(); }
PMEMKV_TEST(AscendingFillThenRemoveAll) { TestFill(1); }
PMEMKV_TEST(DescendingFillThenRemoveAll) { TestFill(-1); }
PMEMKV_TEST(OpenReadsOnlyTheRootNode) { TestOpenDoesNotWalk(); }
PMEMKV_TEST(ComparatorStoredAndChecked) { TestComparators(); }
PMEMKV_TEST(DamagedPoolsAreRefused) { TestDamagedPools(); }
PMEMKV_TEST(KillAtAnyStepLeavesStateBefore) { TestCrashPoints(); }
PMEMKV_TEST(PoolFullLeavesTreeIntact) { TestOutOfSpace(); }
PMEMKV_TEST(CommittedStoresLostAreRedoneOrderAndCountExact) { TestStaleStoresRedone(); }
PMEMKV_TEST(Version1PoolIsUpgradedCrashSafe) { TestUpgradeFromVersion1(); }
PMEMKV_TEST(CleanerKeepsSlabSpaceBounded) { TestCleanerBoundsSpace(); }
PMEMKV_TEST(RandomBatchesAgainstAModel) { TestRandomBatches(); }
PMEMKV_TEST(BatchIsAllOrNothing) { TestBatch(); }
PMEMKV_TEST(InsideAForeignTransactionIsTransactionScopeError) { TestInsideForeignTransaction(); }

int main() { return pmemkv::testing::RunAll(); }
