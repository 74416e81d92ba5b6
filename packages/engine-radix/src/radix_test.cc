// Native unit tests of radix's data structure, run without Node.js:
//   g++ -std=c++17 -O1 -g -I<sdk include> src/radix_test.cc src/radix.cc src/cursor.cc src/verify.cc -lpmemobj
// (the `test:native` script). Pools are made in a fresh directory under /dev/shm (or $TMPDIR)
// and removed at the end; set PMEM_IS_PMEM_FORCE=1 for speed. Every test checks the tree's
// invariants (Radix::Verify) and compares it with a std::map model.
#include <fcntl.h>
#include <libpmemobj.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <pmemkv/crash_point.h>
#include <pmemkv/crash_testing.h>
#include <pmemkv/testing.h>

#include "layout.h"
#include "radix.h"

namespace {

// Nodes below their shrink threshold are only expected after removes in a full pool (I3).
bool g_allow_undersized = false;

#define CHECK_VERIFY(engine)                                                                 \
  do {                                                                                       \
    radix::Radix::Stats _st;                                                                 \
    std::string _e = (engine)->Verify(&_st);                                                 \
    if (_e.empty() && _st.undersized != 0 && !g_allow_undersized)                            \
      _e = "I3: " + std::to_string(_st.undersized) + " nodes below their shrink threshold"; \
    if (!_e.empty()) {                                                                       \
      ::pmemkv::testing::Fail(__FILE__, __LINE__, "Verify: " + _e);                          \
      return;                                                                                \
    }                                                                                        \
  } while (0)

using Model = std::map<std::string, std::string>;
using Entries = std::vector<std::pair<std::string, std::string>>;
using pmemkv::testing::PoolPath;

bool Failed() { return pmemkv::testing::Failures() != 0; }

pmemkv::Status OpenTree(const std::string& path, uint64_t size, std::unique_ptr<radix::Radix>* out) {
  pmemkv::Config cfg;
  cfg.path = path;
  cfg.size = size;
  cfg.create_if_missing = true;
  std::unique_ptr<pmemkv::Engine> e;
  pmemkv::Status s = radix::Radix::Open(cfg, &e);
  if (s.ok()) out->reset(static_cast<radix::Radix*>(e.release()));
  return s;
}

struct Copy final : pmemkv::ValueReceiver {
  std::string value;
  int calls = 0;
  void Receive(pmemkv::Slice v) override {
    value.assign(v.data(), v.size());
    calls++;
  }
};

struct Collect final : pmemkv::Visitor {
  Entries got;
  size_t stop_after = SIZE_MAX;
  bool Visit(pmemkv::Slice k, pmemkv::Slice v) override {
    got.emplace_back(std::string(k), std::string(v));
    return got.size() >= stop_after;
  }
};

Entries Dump(radix::Radix* t, bool reverse = false) {
  Collect c;
  if (!t->Walk(pmemkv::KeyRange{}, reverse, c).ok()) c.got.push_back({"<walk failed>", ""});
  return c.got;
}

Entries ModelEntries(const Model& m, bool reverse = false) {
  Entries out(m.begin(), m.end());
  if (reverse) std::reverse(out.begin(), out.end());
  return out;
}

std::string Show(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 40)) {
    char buf[8];
    if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else std::snprintf(buf, sizeof buf, "\\x%02x", c), out += buf;
  }
  return "\"" + out + (s.size() > 40 ? "...\" (" + std::to_string(s.size()) + " bytes)" : "\"");
}

// A bound near the model's keys: a key, a key with a byte more or less, or random bytes.
std::string RandomTarget(const std::vector<std::string>& keys, std::mt19937_64& rng, int alphabet) {
  std::string x;
  if (!keys.empty() && rng() % 4 != 0) {
    x = keys[rng() % keys.size()];
    switch (rng() % 4) {
      case 0: break;
      case 1: x.push_back(static_cast<char>(rng() % alphabet)); break;
      case 2: if (!x.empty()) x.pop_back(); break;
      default: if (!x.empty()) x.back() = static_cast<char>(static_cast<uint8_t>(x.back()) + (rng() % 2 ? 1 : -1));
    }
  } else {
    x.resize(rng() % 6);
    for (char& ch : x) ch = static_cast<char>(rng() % alphabet);
  }
  return x;
}

// Compares the engine with the model: every key, missing keys, full walks both ways, the
// count, `samples` seeks of each kind and ranges with every kind of bound.
void CheckAgainstModel(radix::Radix* t, const Model& m, std::mt19937_64& rng, int samples, int alphabet = 256) {
  CHECK_VERIFY(t);
  uint64_t n = 0;
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == m.size());
  std::vector<std::string> keys;
  for (const auto& kv : m) {
    Copy c;
    CHECK_OK(t->Get(kv.first, c));
    CHECK(c.calls == 1 && c.value == kv.second);
    CHECK_OK(t->Exists(kv.first));
    keys.push_back(kv.first);
  }
  CHECK(Dump(t) == ModelEntries(m));
  CHECK(Dump(t, true) == ModelEntries(m, true));
  std::unique_ptr<pmemkv::Cursor> c;
  CHECK_OK(t->NewCursor(&c));
  for (int s = 0; s < samples; s++) {
    const std::string target = RandomTarget(keys, rng, alphabet);
    Copy v;
    CHECK(t->Get(target, v).ok() == (m.count(target) == 1));
    auto lb = m.lower_bound(target);
    c->Seek(target);
    if (lb == m.end()) {
      if (c->Valid()) std::fprintf(stderr, "Seek(%s) gave %s, want none\n", Show(target).c_str(), Show(std::string(c->key())).c_str());
      CHECK(!c->Valid());
    } else {
      if (!c->Valid() || c->key() != lb->first)
        std::fprintf(stderr, "Seek(%s) gave %s, want %s\n", Show(target).c_str(),
                     c->Valid() ? Show(std::string(c->key())).c_str() : "none", Show(lb->first).c_str());
      CHECK(c->Valid() && c->key() == lb->first && c->value() == lb->second);
      // Step both ways from there.
      auto it = lb;
      c->Prev();
      if (it == m.begin()) CHECK(!c->Valid());
      else CHECK(c->Valid() && c->key() == std::prev(it)->first);
    }
    auto ub = m.upper_bound(target);
    c->SeekForPrev(target);
    if (ub == m.begin()) {
      if (c->Valid()) std::fprintf(stderr, "SeekForPrev(%s) gave %s, want none\n", Show(target).c_str(), Show(std::string(c->key())).c_str());
      CHECK(!c->Valid());
    } else {
      auto want = std::prev(ub);
      if (!c->Valid() || c->key() != want->first)
        std::fprintf(stderr, "SeekForPrev(%s) gave %s, want %s\n", Show(target).c_str(),
                     c->Valid() ? Show(std::string(c->key())).c_str() : "none", Show(want->first).c_str());
      CHECK(c->Valid() && c->key() == want->first);
      c->Next();
      if (ub == m.end()) CHECK(!c->Valid());
      else CHECK(c->Valid() && c->key() == ub->first);
    }
    // A range with random bound kinds, both directions, and its count.
    std::string lo = RandomTarget(keys, rng, alphabet), hi = RandomTarget(keys, rng, alphabet);
    if (rng() % 4 != 0 && lo > hi) std::swap(lo, hi);
    pmemkv::KeyRange r;
    const int shape = static_cast<int>(rng() % 4);  // 0 both, 1 lower only, 2 upper only, 3 none
    if (shape == 0 || shape == 1) r.lower = {lo, true, rng() % 2 == 0};
    if (shape == 0 || shape == 2) r.upper = {hi, true, rng() % 2 == 0};
    // The model's entries in r: [first, last); walks compare up to kLimit entries from each end.
    auto first = !r.lower.present ? m.begin()
                 : r.lower.inclusive ? m.lower_bound(std::string(r.lower.key))
                                     : m.upper_bound(std::string(r.lower.key));
    auto last = !r.upper.present ? m.end()
                : r.upper.inclusive ? m.upper_bound(std::string(r.upper.key))
                                    : m.lower_bound(std::string(r.upper.key));
    if (r.IsEmpty()) last = first;
    constexpr size_t kLimit = 1000;
    Entries want, want_back;
    size_t in_range = 0;
    if (!r.IsEmpty() && (first == m.end() || last == m.end() || first->first < last->first))
      in_range = static_cast<size_t>(std::distance(first, last));
    for (auto it = first; want.size() < std::min(in_range, kLimit); ++it) want.push_back(*it);
    for (auto it = last; want_back.size() < std::min(in_range, kLimit);) want_back.push_back(*--it);
    Collect f, b;
    f.stop_after = b.stop_after = kLimit;
    const pmemkv::Code code = in_range >= kLimit ? pmemkv::Code::kStoppedByCallback : pmemkv::Code::kOk;
    CHECK(t->Walk(r, false, f).code() == code);
    CHECK(f.got == want);
    CHECK(t->Walk(r, true, b).code() == code);
    CHECK(b.got == want_back);
    CHECK_OK(t->Count(r, &n));
    CHECK(n == in_range);
  }
}

// Objects of each type in the pool at `path` (closed), to compare with Verify's stats: every
// node and leaf allocated is reachable exactly once (I6: no leak after any crash).
struct Census {
  uint64_t nodes = 0, leaves = 0, slabs = 0, other = 0;
};
Census CountObjects(const std::string& path) {
  Census c;
  PMEMobjpool* pop = pmemobj_open(path.c_str(), radix::kLayoutName);
  if (pop == nullptr) {
    c.other = UINT64_MAX;
    return c;
  }
  for (PMEMoid oid = pmemobj_first(pop); !OID_IS_NULL(oid); oid = pmemobj_next(oid)) {
    const uint64_t type = pmemobj_type_num(oid);
    if (type == radix::kNodeTypeNum) c.nodes++;
    else if (type == radix::kLeafTypeNum) c.leaves++;
    else if (type == radix::kSlabTypeNum) c.slabs++;
    else if (type != POBJ_ROOT_TYPE_NUM) c.other++;
  }
  pmemobj_close(pop);
  return c;
}

// Closes `t` and checks that the pool holds exactly the objects the tree reaches.
#define CHECK_NO_LEAK(t, path)                                                                  \
  do {                                                                                          \
    radix::Radix::Stats st_;                                                                    \
    CHECK((t)->Verify(&st_).empty());                                                           \
    (t).reset();                                                                                \
    const Census c_ = CountObjects(path);                                                       \
    const uint64_t nodes_ = st_.own_nodes;                                                      \
    if (c_.nodes != nodes_ || c_.leaves != st_.own_leaves || c_.other != 0)                     \
      std::fprintf(stderr, "pool holds %llu nodes, %llu leaves, %llu others; tree %llu, %llu\n", \
                   (unsigned long long)c_.nodes, (unsigned long long)c_.leaves,                 \
                   (unsigned long long)c_.other, (unsigned long long)nodes_,                    \
                   (unsigned long long)st_.own_leaves);                                         \
    CHECK(c_.nodes == nodes_ && c_.leaves == st_.own_leaves && c_.other == 0);                  \
  } while (0)

// CHECK_NO_LEAK as a predicate (for callbacks that return whether the pool is as expected).
bool NoLeak(std::unique_ptr<radix::Radix>& t, const std::string& path) {
  radix::Radix::Stats st;
  if (!t->Verify(&st).empty() || st.undersized != 0) return false;
  t.reset();
  const Census c = CountObjects(path);
  return c.nodes == st.own_nodes && c.leaves == st.own_leaves && c.other == 0;
}

// Keys that are prefixes of each other, inserted and removed in every order, the tree checked
// after each step.
void TestPrefixKeysEveryOrder() {
  const std::string path = PoolPath("prefixes");
  std::unique_ptr<radix::Radix> t;
  CHECK_OK(OpenTree(path, 16 << 20, &t));
  std::mt19937_64 rng(1);
  const std::vector<std::string> base = {"", "a", "ab", "abc"};
  std::vector<int> ins = {0, 1, 2, 3};
  int combos = 0;
  do {
    std::vector<int> del = {0, 1, 2, 3};
    do {
      Model m;
      for (int i : ins) {
        CHECK_OK(t->Put(base[i], "v" + base[i]));
        m[base[i]] = "v" + base[i];
        CheckAgainstModel(t.get(), m, rng, 8);
        if (Failed()) return;
      }
      for (int i : del) {
        CHECK_OK(t->Remove(base[i]));
        CHECK(t->Remove(base[i]).IsNotFound());
        m.erase(base[i]);
        CheckAgainstModel(t.get(), m, rng, 8);
        if (Failed()) return;
      }
      combos++;
    } while (std::next_permutation(del.begin(), del.end()));
  } while (std::next_permutation(ins.begin(), ins.end()));
  CHECK(combos == 24 * 24);
  radix::Radix::Stats st;
  CHECK(t->Verify(&st).empty() && st.leaves == 0);
  t.reset();
  unlink(path.c_str());
}

// Keys differing only in the last byte (all 256 values), 0x00 and 0xff runs, and keys of 64 KiB
// that share all but their last byte, with prefixes of each other.
void TestLastByteAndLongKeys() {
  const std::string path = PoolPath("bytes");
  std::unique_ptr<radix::Radix> t;
  CHECK_OK(OpenTree(path, 64 << 20, &t));
  std::mt19937_64 rng(2);
  Model m;
  for (int b = 255; b >= 0; b--) {
    const std::string k = std::string("key") + static_cast<char>(b);
    CHECK_OK(t->Put(k, std::to_string(b)));
    m[k] = std::to_string(b);
  }
  for (int len = 0; len < 6; len++) {
    m[std::string(len, '\0')] = "zeros" + std::to_string(len);
    m[std::string(len, '\xff')] = "ones" + std::to_string(len);
    CHECK_OK(t->Put(std::string(len, '\0'), "zeros" + std::to_string(len)));
    CHECK_OK(t->Put(std::string(len, '\xff'), "ones" + std::to_string(len)));
  }
  CheckAgainstModel(t.get(), m, rng, 400);
  if (Failed()) return;
  radix::Radix::Stats st;
  CHECK(t->Verify(&st).empty());
  CHECK(st.nodes[3] >= 1);  // 256 children under "key": a Node256
  const std::string big(64 * 1024, 'x');
  for (int b : {0, 1, 0x7f, 0xfe, 0xff}) {
    const std::string k = big + static_cast<char>(b);
    CHECK_OK(t->Put(k, "long" + std::to_string(b)));
    m[k] = "long" + std::to_string(b);
  }
  CHECK_OK(t->Put(big, std::string(100000, 'v')));
  m[big] = std::string(100000, 'v');
  CHECK_OK(t->Put(big.substr(0, 40000), "shorter"));
  m[big.substr(0, 40000)] = "shorter";
  CheckAgainstModel(t.get(), m, rng, 200);
  if (Failed()) return;
  t.reset();
  CHECK_OK(OpenTree(path, 0, &t));
  CheckAgainstModel(t.get(), m, rng, 200);
  if (Failed()) return;
  // Remove in random order; the tree collapses back.
  std::vector<std::string> keys;
  for (const auto& kv : m) keys.push_back(kv.first);
  std::shuffle(keys.begin(), keys.end(), rng);
  for (size_t i = 0; i < keys.size(); i++) {
    CHECK_OK(t->Remove(keys[i]));
    m.erase(keys[i]);
    if (i % 16 == 0) {
      CheckAgainstModel(t.get(), m, rng, 10);
      if (Failed()) return;
    }
  }
  CHECK(t->Verify(&st).empty() && st.leaves == 0 && st.nodes[0] + st.nodes[1] + st.nodes[2] + st.nodes[3] == 0);
  CHECK_NO_LEAK(t, path);
  unlink(path.c_str());
}

// Random operations over small alphabets (many shared prefixes, every node shape, growth and
// shrinking) and the full byte range, against the model, with reopens.
void TestRandomOps(uint64_t seed, int alphabet, int max_len, int ops) {
  const std::string path = PoolPath("random" + std::to_string(seed));
  std::unique_ptr<radix::Radix> t;
  CHECK_OK(OpenTree(path, 64 << 20, &t));
  std::mt19937_64 rng(seed);
  Model m;
  for (int op = 0; op < ops; op++) {
    std::string k(rng() % (max_len + 1), '\0');
    for (char& ch : k) ch = static_cast<char>(rng() % alphabet);
    const int what = static_cast<int>(rng() % 10);
    if (what < 6) {
      const std::string v(rng() % 3 == 0 ? 8 : rng() % 300, static_cast<char>('a' + op % 26));
      CHECK_OK(t->Put(k, v));
      m[k] = v;
    } else if (what < 9) {
      // Remove a present key most of the time.
      if (!m.empty() && rng() % 4 != 0) {
        auto it = m.lower_bound(k);
        if (it == m.end()) it = m.begin();
        k = it->first;
      }
      const pmemkv::Status s = t->Remove(k);
      CHECK(s.ok() == (m.erase(k) == 1));
      CHECK(s.ok() || s.IsNotFound());
    } else {
      Copy c;
      auto it = m.find(k);
      const pmemkv::Status s = t->Get(k, c);
      CHECK(s.ok() == (it != m.end()) && (it == m.end() || c.value == it->second));
    }
    if (op % 997 == 0) {
      CheckAgainstModel(t.get(), m, rng, 30, alphabet);
      if (Failed()) return;
    }
    if (op % 20011 == 0) {
      t.reset();
      CHECK_OK(OpenTree(path, 0, &t));
    }
  }
  CheckAgainstModel(t.get(), m, rng, 500, alphabet);
  if (Failed()) return;
  radix::Radix::Stats st;
  CHECK(t->Verify(&st).empty());
  std::printf("  seed %llu alphabet %d: %llu keys, nodes 4/16/48/256 = %llu/%llu/%llu/%llu, depth %llu\n",
              static_cast<unsigned long long>(seed), alphabet, static_cast<unsigned long long>(st.leaves),
              static_cast<unsigned long long>(st.nodes[0]), static_cast<unsigned long long>(st.nodes[1]),
              static_cast<unsigned long long>(st.nodes[2]), static_cast<unsigned long long>(st.nodes[3]),
              static_cast<unsigned long long>(st.max_depth));
  CHECK_NO_LEAK(t, path);
  unlink(path.c_str());
}

std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016llu", static_cast<unsigned long long>(i));
  return buf;
}

// Ascending and descending fills of db_bench-style keys, reopen (the open walk recounts), then removal
// of everything in random order.
void TestFill(int order, size_t count) {
  const std::string path = PoolPath("fill" + std::to_string(order));
  std::unique_ptr<radix::Radix> t;
  CHECK_OK(OpenTree(path, 256 << 20, &t));
  std::vector<uint64_t> ids(count);
  for (size_t i = 0; i < count; i++) ids[i] = i;
  std::mt19937_64 rng(count + order);
  if (order < 0) std::reverse(ids.begin(), ids.end());
  if (order == 0) std::shuffle(ids.begin(), ids.end(), rng);
  Model m;
  for (uint64_t id : ids) {
    const std::string k = Key(id), v = "value-" + std::to_string(id);
    CHECK_OK(t->Put(k, v));
    m[k] = v;
  }
  CheckAgainstModel(t.get(), m, rng, 300, 58);
  if (Failed()) return;
  t.reset();
  CHECK_OK(OpenTree(path, 0, &t));
  uint64_t n = 0;
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == count);
  std::shuffle(ids.begin(), ids.end(), rng);
  for (size_t i = 0; i < ids.size(); i++) {
    CHECK_OK(t->Remove(Key(ids[i])));
    m.erase(Key(ids[i]));
    if (i % (count / 4) == 0) {
      CheckAgainstModel(t.get(), m, rng, 50, 58);
      if (Failed()) return;
    }
  }
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == 0);
  CHECK_NO_LEAK(t, path);
  unlink(path.c_str());
}

void TestSizeLimitsAndBasics() {
  const std::string path = PoolPath("basics");
  std::unique_ptr<radix::Radix> t;
  CHECK_OK(OpenTree(path, 8 << 20, &t));
  Copy c;
  CHECK(t->Get("", c).IsNotFound());
  CHECK(t->Remove("").IsNotFound());
  std::unique_ptr<pmemkv::Cursor> cur;
  CHECK_OK(t->NewCursor(&cur));
  cur->SeekToFirst();
  CHECK(!cur->Valid());
  cur->Seek("x");
  CHECK(!cur->Valid());
  CHECK_OK(t->Put("", ""));
  CHECK_OK(t->Get("", c));
  CHECK(c.value.empty());
  // Overwrites: same size in place, other sizes through a new leaf.
  CHECK_OK(t->Put("k", "12345"));
  CHECK_OK(t->Put("k", "abcde"));
  CHECK_OK(t->Get("k", c));
  CHECK(c.value == "abcde");
  CHECK_OK(t->Put("k", std::string(10000, 'z')));
  CHECK_OK(t->Get("k", c));
  CHECK(c.value == std::string(10000, 'z'));
  CHECK_OK(t->Put("k", ""));
  CHECK_OK(t->Get("k", c));
  CHECK(c.value.empty());
  CHECK_VERIFY(t.get());
  // Sizes beyond 4 GiB - 1 are refused before anything is read.
  const pmemkv::Slice huge("", size_t{1} << 32);
  CHECK(t->Put(huge, "v").code() == pmemkv::Code::kInvalidArgument);
  CHECK(t->Put("k", huge).code() == pmemkv::Code::kInvalidArgument);
  CHECK(t->Batch({pmemkv::BatchOp{true, "a", "1"}}).ok());
  uint64_t n = 0;
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == 3);
  t.reset();
  unlink(path.c_str());
}

// A full pool: OUT_OF_MEMORY, nothing changed, and writes work again after removals; a batch
// that runs out of room leaves nothing of itself.
void TestOutOfSpace() {
  const std::string path = PoolPath("full");
  std::unique_ptr<radix::Radix> t;
  CHECK_OK(OpenTree(path, 8 << 20, &t));
  g_allow_undersized = true;  // removes in the full pool may leave nodes in their larger shape
  struct Reset {
    ~Reset() { g_allow_undersized = false; }
  } reset;
  std::mt19937_64 rng(5);
  Model m;
  pmemkv::Status s;
  int i = 0;
  for (; i < 1000000; i++) {
    const std::string k = Key(rng() % 100000000), v(100 + rng() % 400, 'v');
    s = t->Put(k, v);
    if (!s.ok()) break;
    m[k] = v;
  }
  CHECK(s.code() == pmemkv::Code::kOutOfMemory);
  CheckAgainstModel(t.get(), m, rng, 50, 58);
  if (Failed()) return;
  std::vector<pmemkv::BatchOp> batch;
  for (int j = 0; j < 2000; j++) batch.push_back({true, "batch" + std::to_string(j), std::string(300, 'b')});
  batch.push_back({false, m.begin()->first, ""});
  s = t->Batch(batch);
  CHECK(s.code() == pmemkv::Code::kOutOfMemory);
  CHECK(s.message().find("batch operation") != std::string::npos);
  CheckAgainstModel(t.get(), m, rng, 50, 58);
  if (Failed()) return;
  int removed = 0;
  for (auto it = m.begin(); it != m.end();) {
    if (removed++ % 2 == 0) {
      CHECK_OK(t->Remove(it->first));
      it = m.erase(it);
    } else {
      ++it;
    }
  }
  for (int j = 0; j < 100; j++) {
    CHECK_OK(t->Put("again" + std::to_string(j), "x"));
    m["again" + std::to_string(j)] = "x";
  }
  CheckAgainstModel(t.get(), m, rng, 50, 58);
  CHECK_NO_LEAK(t, path);
  unlink(path.c_str());
}

// A batch is one transaction: all of it or nothing, the last operation on a key wins, and a
// later operation sees the earlier ones (splits and collapses inside one transaction).
void TestBatch() {
  const std::string path = PoolPath("batch");
  std::unique_ptr<radix::Radix> t;
  CHECK_OK(OpenTree(path, 32 << 20, &t));
  std::mt19937_64 rng(6);
  Model m;
  std::vector<pmemkv::BatchOp> ops;
  for (int i = 0; i < 300; i++) ops.push_back({true, Key(i * 3), "first"});
  for (int i = 0; i < 300; i += 2) ops.push_back({false, Key(i * 3), ""});
  for (int i = 0; i < 300; i += 4) ops.push_back({true, Key(i * 3), "again"});
  ops.push_back({false, "never-there", ""});
  CHECK_OK(t->Batch(ops));
  for (const auto& op : ops) {
    if (op.is_put) m[op.key] = op.value;
    else m.erase(op.key);
  }
  CheckAgainstModel(t.get(), m, rng, 100, 58);
  if (Failed()) return;
  // The empty key and a remove in a second batch (a batch that fails is TestOutOfSpace's).
  std::vector<pmemkv::BatchOp> more = {{true, "new-key", "v"}, {false, Key(3), ""}};
  more.push_back({true, std::string(), std::string()});
  CHECK_OK(t->Batch(more));
  m["new-key"] = "v";
  m.erase(Key(3));
  m[""] = "";
  CheckAgainstModel(t.get(), m, rng, 50, 58);
  t.reset();
  unlink(path.c_str());
}

// Damaged pools: a child link outside the pool, a link back up the tree (a cycle), a link to
// an object that is no node and a bad root link give UNKNOWN_ERROR naming the damage at open,
// never a crash or a hang; a version above this build's is refused.
void TestDamagedPools() {
  const std::string path = PoolPath("damaged");
  {
    std::unique_ptr<radix::Radix> t;
    CHECK_OK(OpenTree(path, 8 << 20, &t));
    for (int i = 0; i < 200; i++) CHECK_OK(t->Put(Key(i), "v"));
    CHECK_VERIFY(t.get());
  }
  auto with_root = [&](const std::function<void(PMEMobjpool*, radix::Root*)>& fn) {
    PMEMobjpool* pop = pmemobj_open(path.c_str(), radix::kLayoutName);
    if (pop == nullptr) return false;
    auto* root = static_cast<radix::Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(radix::Root))));
    fn(pop, root);
    pmemobj_close(pop);
    return true;
  };
  auto expect_damaged = [](const pmemkv::Status& s) {
    return s.code() == pmemkv::Code::kUnknownError && s.message().find("damaged") != std::string::npos;
  };
  for (int damage = 0; damage < 4; damage++) {
    uint64_t saved = 0, where = 0;  // the damaged link, as a pool offset
    CHECK(with_root([&](PMEMobjpool* pop, radix::Root* root) {
      char* base = reinterpret_cast<char*>(pop);
      auto* top = reinterpret_cast<radix::NodeHeader*>(base + root->top);
      uint64_t* link = damage == 3 ? &root->top : &radix::Children(top)[0];
      where = static_cast<uint64_t>(reinterpret_cast<char*>(link) - base);
      saved = *link;
      if (damage == 0) *link = uint64_t{1} << 40;           // outside the pool
      else if (damage == 1) *link = root->top;              // a cycle: back to the top
      else if (damage == 2) *link = pmemobj_oid(root).off;  // an object that is no node (the root)
      else *link = root->top + 3;                           // into the middle of a node
      pmemobj_persist(pop, link, sizeof(*link));
    }));
    // Open walks the whole tree (claiming every record for its slab): every damaged link is
    // met there, before anything is written.
    std::unique_ptr<radix::Radix> t;
    CHECK(expect_damaged(OpenTree(path, 0, &t)));
    t.reset();
    CHECK(with_root([&](PMEMobjpool* pop, radix::Root*) {
      auto* link = reinterpret_cast<uint64_t*>(reinterpret_cast<char*>(pop) + where);
      *link = saved;
      pmemobj_persist(pop, link, sizeof(*link));
    }));
    CHECK_OK(OpenTree(path, 0, &t));
    CHECK_VERIFY(t.get());
  }
  // Another layout version in the root: refused, the pool left as it was.
  CHECK(with_root([](PMEMobjpool* pop, radix::Root* root) {
    root->version = radix::kLayoutVersion + 1;
    pmemobj_persist(pop, &root->version, sizeof(root->version));
  }));
  std::unique_ptr<radix::Radix> t;
  pmemkv::Status s = OpenTree(path, 0, &t);
  CHECK(s.code() == pmemkv::Code::kInvalidArgument &&
        s.message().find("layout version " + std::to_string(radix::kLayoutVersion + 1)) != std::string::npos);
  CHECK(with_root([](PMEMobjpool* pop, radix::Root* root) {
    root->version = radix::kLayoutVersion;
    pmemobj_persist(pop, &root->version, sizeof(root->version));
  }));
  CHECK_OK(OpenTree(path, 0, &t));
  t.reset();
  unlink(path.c_str());
}

// A put, remove or batch inside the application's own libpmemobj transaction is refused.
void TestInsideForeignTransaction() {
  const std::string path = PoolPath("foreign");
  std::unique_ptr<radix::Radix> t;
  CHECK_OK(OpenTree(path, 8 << 20, &t));
  CHECK_OK(t->Put("a", "1"));
  PMEMobjpool* other = pmemobj_create(PoolPath("other").c_str(), "other", 8 << 20, 0600);
  CHECK(other != nullptr);
  pmemkv::Code put = pmemkv::Code::kOk, remove = pmemkv::Code::kOk;
  if (pmemobj_tx_begin(other, nullptr, TX_PARAM_NONE) == 0) {
    put = t->Put("b", "2").code();
    remove = t->Remove("a").code();
    pmemobj_tx_commit();
  }
  pmemobj_tx_end();
  pmemobj_close(other);
  CHECK(put == pmemkv::Code::kTransactionScopeError);
  CHECK(remove == pmemkv::Code::kTransactionScopeError);
  Copy c;
  CHECK_OK(t->Get("a", c));
  CHECK(t->Get("b", c).IsNotFound());
  t.reset();
  unlink(path.c_str());
  unlink(PoolPath("other").c_str());
}

// Crash points: a child process runs one mutation and is killed at its k-th crash point, for
// every k; the reopened pool holds exactly the state before or after (killed: either,
// depending on whether the point came after the change's link store; completed: after),
// passes Verify, and holds no allocation the tree does not reach.
struct CrashCase {
  const char* name;
  std::function<void(radix::Radix*, Model*)> setup;
  std::function<pmemkv::Status(radix::Radix*)> op;
  std::function<void(Model*)> apply;
  int min_points;
  std::function<bool(radix::Radix*)> check = nullptr;  // more to check of the reopened pool
  std::function<void(const std::string&)> prepare = nullptr;  // runs on the closed prepared pool
};

void PutAll(radix::Radix* t, Model* m, const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    if (!t->Put(k, "v" + k).ok()) return;
    (*m)[k] = "v" + k;
  }
}

std::vector<std::string> Bytes(const std::string& prefix, int from, int to) {
  std::vector<std::string> out;
  for (int b = from; b < to; b++) out.push_back(prefix + static_cast<char>(b));
  return out;
}

// Nodes of each shape (Node4, Node16, Node48, Node256).
std::vector<uint64_t> Shapes(radix::Radix* t) {
  radix::Radix::Stats st;
  t->Verify(&st);
  return {st.nodes[0], st.nodes[1], st.nodes[2], st.nodes[3]};
}

// Turns the closed pool at `path`, written without slabs (SetUseSlabs(false): every record an
// allocation of its own, as in a version 1 pool), into a version 1 pool: version 1 and the
// persistent key count of version 1 (I5 of version 1).
void MarkVersion1(const std::string& path, uint64_t count) {
  PMEMobjpool* pop = pmemobj_open(path.c_str(), radix::kLayoutName);
  if (pop == nullptr) return;
  auto* root = static_cast<radix::Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(radix::Root))));
  root->version = 1;
  root->count = count;
  pmemobj_persist(pop, root, sizeof(*root));
  pmemobj_close(pop);
}

uint64_t VersionOf(const std::string& path) {
  PMEMobjpool* pop = pmemobj_open(path.c_str(), radix::kLayoutName);
  if (pop == nullptr) return 0;
  const auto* root = static_cast<radix::Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(radix::Root))));
  const uint64_t v = root->version;
  pmemobj_close(pop);
  return v;
}

// A version 1 pool (every record an allocation of its own, no slab, Root::count kept) opens as
// version 2 with everything in it; new records go into slabs beside the old ones, old records
// are freed when replaced or removed, and a version above 2 is still refused.
void TestUpgradeFromVersion1() {
  const std::string path = PoolPath("v1");
  Model m;
  std::mt19937_64 rng(21);
  {
    std::unique_ptr<radix::Radix> t;
    CHECK_OK(OpenTree(path, 16 << 20, &t));
    t->SetUseSlabs(false);
    std::vector<pmemkv::BatchOp> ops;
    for (int i = 0; i < 3000; i++) {
      const std::string k = Key(rng() % 1000000);
      ops.push_back({true, k, "old-" + k});
      m[k] = "old-" + k;
    }
    CHECK_OK(t->Batch(ops));
  }
  CHECK(CountObjects(path).slabs == 0);
  MarkVersion1(path, m.size());
  CHECK(VersionOf(path) == 1);
  std::unique_ptr<radix::Radix> t;
  CHECK_OK(OpenTree(path, 0, &t));
  CheckAgainstModel(t.get(), m, rng, 50, 58);
  if (Failed()) return;
  int i = 0;
  for (auto it = m.begin(); it != m.end(); i++) {
    if (i % 3 == 0) {
      CHECK_OK(t->Remove(it->first));
      it = m.erase(it);
    } else {
      if (i % 3 == 1) {
        CHECK_OK(t->Put(it->first, "new"));
        it->second = "new";
      }
      ++it;
    }
  }
  for (int j = 0; j < 500; j++) {
    const std::string k = Key(rng() % 1000000) + "n";
    CHECK_OK(t->Put(k, "fresh"));
    m[k] = "fresh";
  }
  CheckAgainstModel(t.get(), m, rng, 50, 58);
  CHECK_NO_LEAK(t, path);
  CHECK(VersionOf(path) == radix::kLayoutVersion);
  CHECK(CountObjects(path).slabs > 0);
  CHECK_OK(OpenTree(path, 0, &t));
  CheckAgainstModel(t.get(), m, rng, 20, 58);
  t.reset();
  unlink(path.c_str());
}

// Random batches (copy-on-write: path copies of shared nodes, in-place changes of the batch's
// own, every shape change inside one batch) against the model, with large values now and then
// (records of their own, and the transactional path when one is written twice in a batch).
void TestRandomBatches(uint64_t seed, int alphabet) {
  const std::string path = PoolPath("batches" + std::to_string(seed));
  std::unique_ptr<radix::Radix> t;
  CHECK_OK(OpenTree(path, 64 << 20, &t));
  std::mt19937_64 rng(seed);
  Model m;
  for (int round = 0; round < 3000; round++) {
    std::vector<pmemkv::BatchOp> ops;
    const int n = 1 + static_cast<int>(rng() % (round % 10 == 0 ? 300 : 40));
    for (int i = 0; i < n; i++) {
      std::string k(rng() % 5, '\0');
      for (char& ch : k) ch = static_cast<char>(rng() % alphabet);
      if (rng() % 3 == 0) {
        ops.push_back({false, k, ""});
      } else {
        const size_t len = rng() % 50 == 0 ? 2000 + rng() % 3000 : rng() % 20;
        ops.push_back({true, k, std::string(len, static_cast<char>('a' + rng() % 26))});
      }
    }
    CHECK_OK(t->Batch(ops));
    for (const auto& op : ops) {
      if (op.is_put) m[op.key] = op.value;
      else m.erase(op.key);
    }
    if (round % 500 == 0) {
      CheckAgainstModel(t.get(), m, rng, 20, alphabet);
      if (Failed()) return;
    }
  }
  CheckAgainstModel(t.get(), m, rng, 100, alphabet);
  if (Failed()) return;
  CHECK_NO_LEAK(t, path);
  CHECK_OK(OpenTree(path, 0, &t));
  CheckAgainstModel(t.get(), m, rng, 20, alphabet);
  t.reset();
  unlink(path.c_str());
}

// Churn in a minimum-size pool: a few thousand live keys overwritten and removed hundreds of
// thousands of times never fill the pool (the cleaner turns garbage back into room), and the
// slabs stay within a small multiple of the live records.
void TestChurnNeverFills() {
  const std::string path = PoolPath("churn");
  std::unique_ptr<radix::Radix> t;
  CHECK_OK(OpenTree(path, 8 << 20, &t));
  std::mt19937_64 rng(22);
  Model m;
  for (int i = 0; i < 300000; i++) {
    const std::string k = Key(rng() % 4000);
    if (rng() % 4 == 0) {
      const pmemkv::Status s = t->Remove(k);
      CHECK(s.ok() || s.IsNotFound());
      m.erase(k);
    } else {
      const std::string v(rng() % 300, static_cast<char>('a' + i % 26));
      CHECK_OK(t->Put(k, v));
      m[k] = v;
    }
    if (Failed()) return;
  }
  CheckAgainstModel(t.get(), m, rng, 50, 58);
  t.reset();
  const Census c = CountObjects(path);
  CHECK(c.slabs <= 16);  // about 1.3 MB of live records in slabs of 128 KiB
  CHECK_OK(OpenTree(path, 0, &t));
  CheckAgainstModel(t.get(), m, rng, 20, 58);
  t.reset();
  unlink(path.c_str());
}

void TestCrashPoints() {
  const CrashCase cases[] = {
      {"first put of an empty tree", [](radix::Radix*, Model*) {},
       [](radix::Radix* t) { return t->Put("k", "one"); }, [](Model* m) { (*m)["k"] = "one"; }, 2},
      {"split of a leaf", [](radix::Radix* t, Model* m) { PutAll(t, m, {"abc"}); },
       [](radix::Radix* t) { return t->Put("abd", "new"); }, [](Model* m) { (*m)["abd"] = "new"; }, 2},
      {"child added to a node", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("p", 'a', 'c')); },
       [](radix::Radix* t) { return t->Put("pz", "new"); }, [](Model* m) { (*m)["pz"] = "new"; }, 2},
      {"end set", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("p", 'a', 'c')); },
       [](radix::Radix* t) { return t->Put("p", "end"); }, [](Model* m) { (*m)["p"] = "end"; }, 2},
      {"node grows 4 -> 16", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("g", 'a', 'e')); },
       [](radix::Radix* t) { return t->Put("gz", "new"); }, [](Model* m) { (*m)["gz"] = "new"; }, 2},
      {"node grows 48 -> 256", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("g", 0, 48)); },
       [](radix::Radix* t) { return t->Put("g\xf0", "new"); }, [](Model* m) { (*m)["g\xf0"] = "new"; }, 2},
      {"overwrite in place", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("o", 'a', 'f')); },
       [](radix::Radix* t) { return t->Put("oc", "XXX"); }, [](Model* m) { (*m)["oc"] = "XXX"; }, 1},
      {"overwrite with a new leaf", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("o", 'a', 'f')); },
       [](radix::Radix* t) { return t->Put("oc", "a longer value"); }, [](Model* m) { (*m)["oc"] = "a longer value"; }, 1},
      {"remove collapses a node", [](radix::Radix* t, Model* m) { PutAll(t, m, {"xa", "xb", "y"}); },
       [](radix::Radix* t) { return t->Remove("xa"); }, [](Model* m) { m->erase("xa"); }, 1},
      {"remove shrinks 16 -> 4", [](radix::Radix* t, Model* m) {
         PutAll(t, m, Bytes("s", 'a', 'f'));
         t->Remove("sb");  // 4 children left: still a Node16
         m->erase("sb"); },
       [](radix::Radix* t) { return t->Remove("sa"); }, [](Model* m) { m->erase("sa"); }, 1},
      {"remove of an end", [](radix::Radix* t, Model* m) { PutAll(t, m, {"e", "ea", "eb"}); },
       [](radix::Radix* t) { return t->Remove("e"); }, [](Model* m) { m->erase("e"); }, 1},
      {"remove of a child in place", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("r", 'a', 'd')); },
       [](radix::Radix* t) { return t->Remove("rb"); }, [](Model* m) { m->erase("rb"); }, 1},
      {"remove of the last key", [](radix::Radix* t, Model* m) { PutAll(t, m, {"only"}); },
       [](radix::Radix* t) { return t->Remove("only"); }, [](Model* m) { m->erase("only"); }, 1},
      {"batch of splits, growth and collapses",
       [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("b", 'a', 'e')); PutAll(t, m, {"c1", "c2"}); },
       [](radix::Radix* t) {
         return t->Batch({{true, "bz", "1"}, {false, "c1", ""}, {true, "ba\x01", "2"}, {false, "bb", ""},
                          {true, "", "3"}, {true, "bz", "4"}});
       },
       [](Model* m) {
         (*m)["bz"] = "4"; m->erase("c1"); (*m)["ba\x01"] = "2"; m->erase("bb"); (*m)[""] = "3";
       },
       2},
      {"batch through a Node256 (a copy of its own) with a shrink and a collapse",
       [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("n", 0, 60)); PutAll(t, m, {"x1", "x2", "y"}); },
       [](radix::Radix* t) {
         return t->Batch({{true, "n\xf0", "1"}, {false, "n\x01", ""}, {false, "x1", ""}, {true, "n\x05z", "2"},
                          {true, std::string("n\x07"), std::string(3000, 'L')}});
       },
       [](Model* m) {
         (*m)["n\xf0"] = "1"; m->erase("n\x01"); m->erase("x1"); (*m)["n\x05z"] = "2";
         (*m)["n\x07"] = std::string(3000, 'L');
       },
       2},
      {"batch that takes the transactional path (a large value written twice)",
       [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("w", 'a', 'e')); },
       [](radix::Radix* t) {
         return t->Batch({{true, "wz", std::string(5000, 'a')}, {true, "wb", "x"}, {true, "wz", std::string(5000, 'b')}});
       },
       [](Model* m) { (*m)["wz"] = std::string(5000, 'b'); (*m)["wb"] = "x"; },
       2},
      {"insert into a Node16 with room", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("q", 'a', 'f')); },
       [](radix::Radix* t) { return t->Put("qz", "new"); }, [](Model* m) { (*m)["qz"] = "new"; }, 2,
       [](radix::Radix* t) { return Shapes(t)[1] == 1; }},
      {"insert into a Node48 with room", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("q", 0, 20)); },
       [](radix::Radix* t) { return t->Put("q\xc8", "new"); }, [](Model* m) { (*m)["q\xc8"] = "new"; }, 2,
       [](radix::Radix* t) { return Shapes(t)[2] == 1; }},
      {"insert into a Node256 in place", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("g", 0, 60)); },
       [](radix::Radix* t) { return t->Put("g\xf0", "new"); }, [](Model* m) { (*m)["g\xf0"] = "new"; }, 2,
       [](radix::Radix* t) { return Shapes(t)[3] == 1; }},
      {"node grows 16 -> 48", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("g", 'a', 'a' + 16)); },
       [](radix::Radix* t) { return t->Put("gz", "new"); }, [](Model* m) { (*m)["gz"] = "new"; }, 2},
      {"remove shrinks 48 -> 16", [](radix::Radix* t, Model* m) {
         PutAll(t, m, Bytes("s", 0, 17));
         for (int b = 0; b < 4; b++) { t->Remove(std::string("s") + static_cast<char>(b)); m->erase(std::string("s") + static_cast<char>(b)); } },
       [](radix::Radix* t) { return t->Remove(std::string("s\x0a")); }, [](Model* m) { m->erase(std::string("s\x0a")); }, 1},
      {"remove shrinks 256 -> 48", [](radix::Radix* t, Model* m) {
         PutAll(t, m, Bytes("s", 0, 49));
         for (int b = 0; b < 8; b++) { t->Remove(std::string("s") + static_cast<char>(b)); m->erase(std::string("s") + static_cast<char>(b)); } },
       [](radix::Radix* t) { return t->Remove(std::string("s\x20")); }, [](Model* m) { m->erase(std::string("s\x20")); }, 1},
      {"remove from a Node256 in place", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("g", 0, 60)); },
       [](radix::Radix* t) { return t->Remove("g\x21"); }, [](Model* m) { m->erase("g\x21"); }, 2,
       [](radix::Radix* t) { return Shapes(t)[3] == 1; }},
      {"remove of a child of a Node16 (a copy)", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("r", 'a', 'g')); },
       [](radix::Radix* t) { return t->Remove("rb"); }, [](Model* m) { m->erase("rb"); }, 1},
      {"update of a leaf in a Node48", [](radix::Radix* t, Model* m) { PutAll(t, m, Bytes("u", 0, 20)); },
       [](radix::Radix* t) { return t->Put("u\x05", "changed"); }, [](Model* m) { (*m)["u\x05"] = "changed"; }, 2},
      {"cleaner moves the records of sparse slabs",
       [](radix::Radix* t, Model* m) {
         t->SetAutoClean(false);
         std::vector<std::string> keys;
         for (int i = 0; i < 2000; i++) keys.push_back(Key(i * 7919 % 2000));
         for (const std::string& k : keys) {
           if (!t->Put(k, std::string(200, 'c')).ok()) return;
           (*m)[k] = std::string(200, 'c');
         }
         for (int i = 0; i < 2000; i++)
           if (i % 250 != 0) {
             t->Remove(Key(i));
             m->erase(Key(i));
           }
       },
       [](radix::Radix* t) { return t->CleanSlabs(1) ? pmemkv::Status::OK() : pmemkv::Status::Unknown("clean"); },
       [](Model*) {}, 4},
      {"open upgrades a version 1 pool, then a put", [](radix::Radix* t, Model* m) {
         t->SetUseSlabs(false);
         std::vector<pmemkv::BatchOp> ops;
         for (int i = 0; i < 40; i++) ops.push_back({true, Key(i), "v1"});
         if (!t->Batch(ops).ok()) return;
         for (int i = 0; i < 40; i++) (*m)[Key(i)] = "v1";
       },
       [](radix::Radix* t) { return t->Put(Key(3), "v2"); }, [](Model* m) { (*m)[Key(3)] = "v2"; }, 3,
       nullptr, [](const std::string& path) { MarkVersion1(path, 40); }},
  };
  const std::string prepared = PoolPath("crash-prepared"), work = PoolPath("crash-work");
  for (const CrashCase& c : cases) {
    Model before;
    {
      unlink(prepared.c_str());
      std::unique_ptr<radix::Radix> t;
      CHECK_OK(OpenTree(prepared, 8 << 20, &t));
      c.setup(t.get(), &before);
      CHECK(Dump(t.get()) == ModelEntries(before));
    }
    if (c.prepare) c.prepare(prepared);
    Model after = before;
    c.apply(&after);
    const Entries want_before = ModelEntries(before), want_after = ModelEntries(after);
    // Killed: the state before, no leaked allocation, and the operation still applies.
    // Completed: the state after, nothing leaked.
    const int points = pmemkv::testing::KillAtEveryCrashPoint(
        prepared, work,
        [&](const std::string& pool) {
          std::unique_ptr<radix::Radix> t;
          pmemkv::Status s = OpenTree(pool, 0, &t);
          return s.ok() ? c.op(t.get()) : s;
        },
        [&](const pmemkv::testing::CrashOutcome& o) {
          std::unique_ptr<radix::Radix> t;
          if (!OpenTree(work, 0, &t).ok() || !t->Verify().empty()) return false;
          const Entries got = Dump(t.get());
          if (o.killed ? got != want_before && got != want_after : got != want_after) {
            std::fprintf(stderr, "case '%s': after a kill at step %d the pool holds %zu entries (%zu before, %zu after)\n",
                         c.name, o.step, got.size(), want_before.size(), want_after.size());
            return false;
          }
          if (c.check && !c.check(t.get())) return false;
          if (!NoLeak(t, work)) return false;
          if (!o.killed || got == want_after) return true;  // killed after the step that made the change
          if (!OpenTree(work, 0, &t).ok() || !c.op(t.get()).ok() || Dump(t.get()) != want_after) return false;
          return NoLeak(t, work);
        });
    CHECK(points >= 0);
    if (points < c.min_points) std::fprintf(stderr, "case '%s': only %d crash points\n", c.name, points);
    CHECK(points >= c.min_points);
  }
  unlink(prepared.c_str());
  unlink(work.c_str());
}

}  // namespace

PMEMKV_TEST(BasicsOverwritesAndSizeLimits) { TestSizeLimitsAndBasics(); }
PMEMKV_TEST(PrefixKeysInEveryOrderOfInsertAndRemoval) { TestPrefixKeysEveryOrder(); }
PMEMKV_TEST(LastByteZeroFfAnd64KiBKeys) { TestLastByteAndLongKeys(); }
PMEMKV_TEST(RandomOpsSmallAlphabet) { TestRandomOps(11, 3, 8, 60000); }
PMEMKV_TEST(RandomOpsMediumAlphabet) { TestRandomOps(12, 20, 5, 60000); }
PMEMKV_TEST(RandomOpsAllBytes) { TestRandomOps(13, 256, 4, 60000); }
PMEMKV_TEST(AscendingFill) { TestFill(1, 100000); }
PMEMKV_TEST(DescendingFill) { TestFill(-1, 100000); }
PMEMKV_TEST(RandomFill) { TestFill(0, 100000); }
PMEMKV_TEST(PoolFullIsOutOfMemoryAndChangesNothing) { TestOutOfSpace(); }
PMEMKV_TEST(BatchIsOneTransactionLastOpWins) { TestBatch(); }
PMEMKV_TEST(DamagedPoolsAreReportedNeverFollowed) { TestDamagedPools(); }
PMEMKV_TEST(InsideAForeignTransactionIsTransactionScopeError) { TestInsideForeignTransaction(); }
PMEMKV_TEST(RandomBatchesSmallAlphabet) { TestRandomBatches(31, 4); }
PMEMKV_TEST(RandomBatchesAllBytes) { TestRandomBatches(32, 256); }
PMEMKV_TEST(Version1PoolIsUpgradedOnOpen) { TestUpgradeFromVersion1(); }
PMEMKV_TEST(ChurnInAMinimumPoolNeverFillsIt) { TestChurnNeverFills(); }
PMEMKV_TEST(KillAtAnyStepLeavesStateBeforeOrAfter) { TestCrashPoints(); }

int main() { return pmemkv::testing::RunAll(); }
