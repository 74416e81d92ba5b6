// Native unit tests of tree3's data structure, run without Node.js:
//   g++ -std=c++17 -O1 -g -I<sdk include> src/tree3_test.cc src/tree3.cc src/inner_tree.cc -lpmemobj -lpmem
// (the `test:native` script). Pools are made in a fresh directory under /dev/shm (or $TMPDIR)
// and removed at the end; set PMEM_IS_PMEM_FORCE=1 for speed.
#include <dirent.h>
#include <fcntl.h>
#include <libpmemobj.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

#include "fingerprint.h"
#include "layout.h"
#include "tree3.h"

namespace {

#define CHECK_VERIFY(engine)                                                       \
  do {                                                                             \
    std::string _e = (engine)->Verify();                                           \
    if (!_e.empty()) {                                                             \
      ::pmemkv::testing::Fail(__FILE__, __LINE__, "Verify: " + _e);                \
      return;                                                                      \
    }                                                                              \
  } while (0)

using Model = std::map<std::string, std::string>;

using pmemkv::testing::PoolPath;

bool Failed() { return pmemkv::testing::Failures() != 0; }

pmemkv::Status OpenTree(const std::string& path, uint64_t size, std::unique_ptr<tree3::Tree3>* out) {
  pmemkv::Config cfg;
  cfg.path = path;
  cfg.size = size;
  cfg.create_if_missing = true;
  std::unique_ptr<pmemkv::Engine> e;
  pmemkv::Status s = tree3::Tree3::Open(cfg, &e);
  if (s.ok()) out->reset(static_cast<tree3::Tree3*>(e.release()));
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
  std::vector<std::pair<std::string, std::string>> got;
  size_t stop_after = SIZE_MAX;
  bool Visit(pmemkv::Slice k, pmemkv::Slice v) override {
    got.emplace_back(std::string(k), std::string(v));
    return got.size() >= stop_after;
  }
};

pmemkv::KeyRange MakeRange(const std::string* lo, bool lo_inc, const std::string* hi, bool hi_inc) {
  pmemkv::KeyRange r;
  if (lo != nullptr) r.lower = {*lo, true, lo_inc};
  if (hi != nullptr) r.upper = {*hi, true, hi_inc};
  return r;
}

using Entries = std::vector<std::pair<std::string, std::string>>;

// The model's entries in `r`: [*first, *last).
void ModelBounds(const Model& m, const pmemkv::KeyRange& r, Model::const_iterator* first, Model::const_iterator* last) {
  *first = !r.lower.present ? m.begin()
           : r.lower.inclusive ? m.lower_bound(std::string(r.lower.key))
                               : m.upper_bound(std::string(r.lower.key));
  *last = !r.upper.present ? m.end()
          : r.upper.inclusive ? m.upper_bound(std::string(r.upper.key))
                              : m.lower_bound(std::string(r.upper.key));
  if (r.lower.present && r.upper.present) {
    const int c = r.lower.key.compare(r.upper.key);
    if (c > 0 || (c == 0 && !(r.lower.inclusive && r.upper.inclusive))) *last = *first;  // empty range
  }
}

// Up to `limit` entries of `r`, from the low end (or the high end when reverse, descending).
Entries ModelRange(const Model& m, const pmemkv::KeyRange& r, bool reverse = false, size_t limit = SIZE_MAX) {
  Model::const_iterator first, last;
  ModelBounds(m, r, &first, &last);
  Entries out;
  if (!reverse) {
    for (auto it = first; it != last && out.size() < limit; ++it) out.push_back(*it);
  } else {
    for (auto it = last; it != first && out.size() < limit;) out.push_back(*--it);
  }
  return out;
}

// Compares the engine with the model: every key, full walks both ways, `samples` random ranges.
void CheckAgainstModel(tree3::Tree3* t, const Model& m, std::mt19937_64& rng, int samples) {
  CHECK_VERIFY(t);
  uint64_t n = 0;
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == m.size());
  for (const auto& kv : m) {
    Copy c;
    CHECK_OK(t->Get(kv.first, c));
    CHECK(c.calls == 1 && c.value == kv.second);
  }
  Collect fwd;
  CHECK_OK(t->Walk(pmemkv::KeyRange{}, false, fwd));
  CHECK(fwd.got == ModelRange(m, pmemkv::KeyRange{}));
  Collect rev;
  CHECK_OK(t->Walk(pmemkv::KeyRange{}, true, rev));
  CHECK(rev.got == ModelRange(m, pmemkv::KeyRange{}, true));

  std::vector<const std::string*> keys;
  keys.reserve(m.size());
  for (const auto& kv : m) keys.push_back(&kv.first);
  // Equal bounds hold the key only when both are inclusive; inverted bounds hold nothing.
  for (int s = 0; s < 20 && !keys.empty(); s++) {
    const std::string& k = *keys[rng() % keys.size()];
    const std::string& k2 = *keys[rng() % keys.size()];
    for (int inc = 0; inc < 4; inc++) {
      const pmemkv::KeyRange r = MakeRange(&k, inc & 1, &k, inc & 2);
      CHECK_OK(t->Count(r, &n));
      CHECK(n == (inc == 3 ? 1u : 0u));
      Collect f;
      CHECK_OK(t->Walk(r, inc % 2 == 0, f));
      CHECK(f.got.size() == n && (n == 0 || f.got[0].first == k));
      if (k2 != k) {
        const pmemkv::KeyRange inv = MakeRange(std::max(&k, &k2, [](auto a, auto b) { return *a < *b; }), inc & 1,
                                               std::min(&k, &k2, [](auto a, auto b) { return *a < *b; }), inc & 2);
        CHECK_OK(t->Count(inv, &n));
        CHECK(n == 0);
        Collect none;
        CHECK_OK(t->Walk(inv, inc % 2 == 1, none));
        CHECK(none.got.empty());
      }
    }
  }
  for (int s = 0; s < samples; s++) {
    // Bounds: mostly keys up to 3000 apart, exact or just past a key (a bound between two
    // keys); sometimes random short strings (often below or above every key).
    std::string b[2];
    const size_t at = keys.empty() ? 0 : rng() % keys.size();
    for (int j = 0; j < 2; j++) {
      std::string& x = b[j];
      if (!keys.empty() && rng() % 8 != 0) {
        x = *keys[std::min(keys.size() - 1, at + (j == 0 ? 0 : rng() % 3000))];
        if (rng() % 2) x.push_back(static_cast<char>(rng() % 3));
      } else {
        x.resize(rng() % 6);
        for (char& ch : x) ch = static_cast<char>(rng() % 256);
      }
    }
    const int shape = static_cast<int>(rng() % 4);  // 0: both, 1: lower only, 2: upper only, 3: both swapped
    const bool li = rng() % 2, ui = rng() % 2;
    if (b[0] > b[1] && shape != 3) std::swap(b[0], b[1]);
    const pmemkv::KeyRange r = MakeRange(shape == 2 ? nullptr : &b[0], li, shape == 1 ? nullptr : &b[1], ui);
    // The model's count by binary search over the sorted keys.
    const auto less = [](const std::string* a, const std::string& b) { return *a < b; };
    const auto greater = [](const std::string& a, const std::string* b) { return a < *b; };
    size_t lo = 0, hi = keys.size();
    if (r.lower.present) {
      const std::string k(r.lower.key);
      lo = r.lower.inclusive ? std::lower_bound(keys.begin(), keys.end(), k, less) - keys.begin()
                             : std::upper_bound(keys.begin(), keys.end(), k, greater) - keys.begin();
    }
    if (r.upper.present) {
      const std::string k(r.upper.key);
      hi = r.upper.inclusive ? std::upper_bound(keys.begin(), keys.end(), k, greater) - keys.begin()
                             : std::lower_bound(keys.begin(), keys.end(), k, less) - keys.begin();
    }
    CHECK_OK(t->Count(r, &n));
    CHECK(n == (hi > lo ? hi - lo : 0));
    // Walks compare up to kLimit entries from each end (the visitor stops them there).
    constexpr size_t kLimit = 4000;
    Collect f, bk;
    f.stop_after = bk.stop_after = kLimit;
    const pmemkv::Code want_code = n >= kLimit ? pmemkv::Code::kStoppedByCallback : pmemkv::Code::kOk;
    CHECK(t->Walk(r, false, f).code() == want_code);
    CHECK(f.got == ModelRange(m, r, false, kLimit));
    CHECK(t->Walk(r, true, bk).code() == want_code);
    CHECK(bk.got == ModelRange(m, r, true, kLimit));
  }
}

void TestFingerprint() {
  std::vector<bool> seen(256, false);
  for (uint8_t v : tree3::kPearsonTable) seen[v] = true;
  CHECK(std::count(seen.begin(), seen.end(), true) == 256);  // a permutation of 0..255

  CHECK(tree3::Fingerprint(nullptr, 0) != 0);
  std::mt19937_64 rng(42);
  std::string buf;
  uint64_t histogram[256] = {};
  for (size_t len = 0; len <= 64; len++) {
    buf.resize(len);
    for (int round = 0; round < 20000; round++) {
      for (char& c : buf) c = static_cast<char>(rng());
      const uint8_t h = tree3::Fingerprint(buf.data(), buf.size());
      CHECK(h != 0);
      histogram[h]++;
    }
  }
  // Every 1- and 2-byte input, exhaustively.
  for (int a = 0; a < 256; a++) {
    const char one[1] = {static_cast<char>(a)};
    CHECK(tree3::Fingerprint(one, 1) != 0);
    for (int b = 0; b < 256; b++) {
      const char two[2] = {static_cast<char>(a), static_cast<char>(b)};
      CHECK(tree3::Fingerprint(two, 2) != 0);
    }
  }
  // 0 is folded into 1, so 1 is about twice as frequent; every other value occurs.
  CHECK(histogram[0] == 0);
  for (int v = 2; v < 256; v++) CHECK(histogram[v] > 0);
}

void TestKeyPrefixOrder() {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; i++) {
    std::string a(rng() % 11, '\0'), b(rng() % 11, '\0');
    for (char& c : a) c = static_cast<char>(rng() % 4);  // tiny alphabet: many shared prefixes
    for (char& c : b) c = static_cast<char>(rng() % 4);
    const int want = a.compare(b);
    const int got = tree3::CompareKeys(tree3::KeyPrefix(a), a, tree3::KeyPrefix(b), b);
    CHECK((want < 0) == (got < 0) && (want == 0) == (got == 0));
  }
  // The 16-byte prefix pair: keys of 0 to 21 bytes over a tiny alphabet, most sharing their
  // first 8 bytes, so the second word and the fallback to the keys both decide often.
  for (int i = 0; i < 200000; i++) {
    std::string a(rng() % 22, '\0'), b(rng() % 22, '\0');
    for (size_t k = 0; k < a.size(); k++) a[k] = k < 8 ? 'p' : static_cast<char>(rng() % 3);
    for (size_t k = 0; k < b.size(); k++) b[k] = k < 8 ? 'p' : static_cast<char>(rng() % 3);
    const int want = a.compare(b);
    const int got = tree3::CompareKeys(tree3::Prefix16(a), a, tree3::Prefix16(b), b);
    CHECK((want < 0) == (got < 0) && (want == 0) == (got == 0));
  }
}

void TestBasics() {
  const std::string path = PoolPath("basics");
  std::unique_ptr<tree3::Tree3> t;
  CHECK_OK(OpenTree(path, 16 << 20, &t));
  Copy c;
  CHECK(t->Get("a", c).IsNotFound());
  CHECK(t->Exists("a").IsNotFound());
  CHECK(t->Remove("a").IsNotFound());
  uint64_t n = 1;
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == 0);
  Collect none;
  CHECK_OK(t->Walk(pmemkv::KeyRange{}, false, none));
  CHECK(none.got.empty());

  const std::string zkey("a\0b", 3), zval("\0\0x\0", 4);
  CHECK_OK(t->Put("", ""));  // empty key and value are legal
  CHECK_OK(t->Put(zkey, zval));
  CHECK_OK(t->Put("a", "1"));
  CHECK_OK(t->Get("", c));
  CHECK(c.value.empty());
  CHECK_OK(t->Get(zkey, c));
  CHECK(c.value == zval);
  CHECK(t->Get(std::string("a\0", 2), c).IsNotFound());
  CHECK_OK(t->Put("a", "a much longer value than before"));
  CHECK_OK(t->Get("a", c));
  CHECK(c.value == "a much longer value than before");
  CHECK_OK(t->Put("a", ""));
  CHECK_OK(t->Get("a", c));
  CHECK(c.value.empty());
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == 3);
  CHECK_OK(t->Exists(zkey));
  CHECK_OK(t->Remove(zkey));
  CHECK(t->Remove(zkey).IsNotFound());
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == 2);

  // A visitor that stops the walk.
  for (int i = 0; i < 200; i++) CHECK_OK(t->Put("k" + std::to_string(1000 + i), "v"));
  Collect stop;
  stop.stop_after = 5;
  CHECK(t->Walk(pmemkv::KeyRange{}, false, stop).code() == pmemkv::Code::kStoppedByCallback);
  CHECK(stop.got.size() == 5 && stop.got[0].first.empty() && stop.got[1].first == "a");
  CHECK_VERIFY(t.get());
  t.reset();
  CHECK_OK(OpenTree(path, 0, &t));
  CHECK_OK(t->Get("", c));
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == 202);
  CHECK_VERIFY(t.get());
  t.reset();
  unlink(path.c_str());
}

void TestSizeLimits() {
  const std::string path = PoolPath("limits");
  std::unique_ptr<tree3::Tree3> t;
  CHECK_OK(OpenTree(path, 8 << 20, &t));
  // 4 GiB of untouched, unreserved address space: the engine must refuse it without reading.
  const size_t big = (size_t{1} << 32);
  void* p = mmap(nullptr, big, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  CHECK(p != MAP_FAILED);
  const pmemkv::Slice huge(static_cast<const char*>(p), big);
  CHECK(t->Put(huge, "v").code() == pmemkv::Code::kInvalidArgument);
  CHECK(t->Put("k", huge).code() == pmemkv::Code::kInvalidArgument);
  munmap(p, big);
  uint64_t n = 1;
  CHECK_OK(t->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == 0);
  t.reset();
  unlink(path.c_str());
}

std::string Key(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key%013llu", static_cast<unsigned long long>(i));
  return buf;
}

void TestFill(const char* name, int order, size_t count) {
  const std::string path = PoolPath(name);
  std::unique_ptr<tree3::Tree3> t;
  CHECK_OK(OpenTree(path, 64 << 20, &t));
  std::vector<uint64_t> ids(count);
  for (size_t i = 0; i < count; i++) ids[i] = i * 7;
  std::mt19937_64 rng(count + order);
  if (order < 0) std::reverse(ids.begin(), ids.end());
  if (order == 0) std::shuffle(ids.begin(), ids.end(), rng);
  Model m;
  for (uint64_t id : ids) {
    const std::string k = Key(id), v = "v" + std::to_string(id * 31);
    CHECK_OK(t->Put(k, v));
    m[k] = v;
  }
  const tree3::Tree3::Stats st = t->GetStats();
  // Ascending and descending fills leave full leaves; random fills leave them at least half full.
  if (order != 0) CHECK(st.leaves == (count + tree3::kLeafSlots - 1) / tree3::kLeafSlots);
  CHECK(st.leaves * (tree3::kLeafSlots / 2) <= count + tree3::kLeafSlots);
  CheckAgainstModel(t.get(), m, rng, 300);
  if (Failed()) return;
  t.reset();
  CHECK_OK(OpenTree(path, 0, &t));
  CheckAgainstModel(t.get(), m, rng, 300);
  if (Failed()) return;
  // Then a mixed workload: overwrites, removes of present and missing keys, new keys.
  for (int op = 0; op < 100000; op++) {
    const uint64_t id = rng() % (count * 8);
    const std::string k = Key(id);
    switch (rng() % 3) {
      case 0: {
        const std::string v(rng() % 40, static_cast<char>('a' + op % 26));
        CHECK_OK(t->Put(k, v));
        m[k] = v;
        break;
      }
      case 1: {
        const pmemkv::Status s = t->Remove(k);
        CHECK(s.ok() == (m.erase(k) == 1));
        break;
      }
      default: {
        Copy c;
        const pmemkv::Status s = t->Get(k, c);
        auto it = m.find(k);
        CHECK(s.ok() == (it != m.end()) && (it == m.end() || c.value == it->second));
      }
    }
  }
  CheckAgainstModel(t.get(), m, rng, 100);
  if (Failed()) return;
  t.reset();
  CHECK_OK(OpenTree(path, 0, &t));
  CheckAgainstModel(t.get(), m, rng, 100);
  t.reset();
  unlink(path.c_str());
}

struct ObjectCensus {
  uint64_t leaves = 0, kvslots = 0, slabs = 0, journals = 0, other = 0, bytes = 0;
  uint64_t typed_leaves = 0;  // of `leaves`: allocations of kLeafTypeNum (versions 1 and 2)
};

// Counts the pool's allocated objects by type, with the engine closed.
ObjectCensus Census(const std::string& path) {
  ObjectCensus c;
  PMEMobjpool* pop = pmemobj_open(path.c_str(), tree3::kLayoutName);
  if (pop == nullptr) {
    c.other = UINT64_MAX;
    return c;
  }
  for (PMEMoid oid = pmemobj_first(pop); !OID_IS_NULL(oid); oid = pmemobj_next(oid)) {
    const uint64_t type = pmemobj_type_num(oid);
    if (type == tree3::kLeafTypeNum || (type == 0 && pmemobj_alloc_usable_size(oid) == tree3::kLeafBytes)) {
      c.leaves++;
      c.typed_leaves += type == tree3::kLeafTypeNum ? 1 : 0;
    }
    else if (type == tree3::kKVSlotTypeNum)
      c.kvslots++;
    else if (type == tree3::kSlabTypeNum)
      c.slabs++;
    else if (type == tree3::kJournalTypeNum)
      c.journals++;
    else
      c.other++;
    c.bytes += pmemobj_alloc_usable_size(oid);
  }
  pmemobj_close(pop);
  return c;
}

// Every entry, in key order (empty when the walk fails).
Entries Dump(tree3::Tree3* t) {
  Collect all;
  if (!t->Walk(pmemkv::KeyRange{}, false, all).ok()) all.got.clear();
  return all.got;
}

// Leaves emptied by removes are freed (their space then serves pairs of any size): after each
// fill/remove cycle the pool holds no leaf and no pair, and a value far larger than any pair
// of the fills fits where the leaves were.
void TestEmptyLeavesFreed() {
  const std::string path = PoolPath("reuse");
  std::unique_ptr<tree3::Tree3> t;
  CHECK_OK(OpenTree(path, 32 << 20, &t));
  std::mt19937_64 rng(5);
  const size_t kKeys = 20000;
  ObjectCensus first;
  for (int cycle = 0; cycle < 6; cycle++) {
    std::vector<uint64_t> ids(kKeys);
    for (size_t i = 0; i < kKeys; i++) ids[i] = i + cycle * 1000003ULL * (cycle % 2);  // key ranges move
    std::shuffle(ids.begin(), ids.end(), rng);
    for (uint64_t id : ids) CHECK_OK(t->Put(Key(id), std::string(24, 'x')));
    CHECK_VERIFY(t.get());
    t.reset();  // close, count the objects, reopen
    const ObjectCensus full = Census(path);
    CHECK(full.kvslots == 0 && full.slabs > 0);  // every pair is a slab record
    if (cycle == 0) first = full;
    CHECK(full.leaves <= 2 * first.leaves);
    CHECK_OK(OpenTree(path, 0, &t));
    std::shuffle(ids.begin(), ids.end(), rng);
    for (uint64_t id : ids) CHECK_OK(t->Remove(Key(id)));
    const tree3::Tree3::Stats st = t->GetStats();
    CHECK(st.entries == 0 && st.leaves == 0);
    CHECK_VERIFY(t.get());
    t.reset();
    const ObjectCensus empty = Census(path);
    // Left: the journal, and at most the slab allocation resumes in plus the cleaner's reserve.
    CHECK(empty.kvslots == 0 && empty.leaves == 0 && empty.other == 0 && empty.journals == 1 && empty.slabs <= 2);
    CHECK_OK(OpenTree(path, 0, &t));
  }
  CHECK_OK(t->Put("big", std::string(4 << 20, 'b')));
  CHECK_VERIFY(t.get());
  t.reset();
  unlink(path.c_str());
}

// Called inside an application's own libpmemobj transaction, mutations and batches are refused
// with TRANSACTION_SCOPE_ERROR and change nothing.
void TestInsideForeignTransaction() {
  const std::string path = PoolPath("foreign");
  std::unique_ptr<tree3::Tree3> t;
  CHECK_OK(OpenTree(path, 8 << 20, &t));
  CHECK_OK(t->Put("k", "old"));
  PMEMobjpool* other = pmemobj_create(PoolPath("app").c_str(), "app", 8 << 20, 0600);
  CHECK(other != nullptr);
  CHECK(pmemobj_tx_begin(other, nullptr, TX_PARAM_NONE) == 0);
  const pmemkv::Status put = t->Put("k", "new");
  const pmemkv::Status first = t->Put("fresh", "x");
  const pmemkv::Status remove = t->Remove("k");
  const pmemkv::Status batch = t->Batch({{true, "b", "1"}});
  pmemobj_tx_abort(ECANCELED);
  pmemobj_tx_end();
  pmemobj_close(other);
  for (const pmemkv::Status& s : {put, first, remove, batch}) CHECK(s.code() == pmemkv::Code::kTransactionScopeError);
  CHECK(Dump(t.get()) == (Entries{{"k", "old"}}));
  CHECK_VERIFY(t.get());
  t.reset();
  unlink(path.c_str());
  unlink(PoolPath("app").c_str());
}

// A batch is one transaction: all of it or none, including a failure in its last operation,
// and the DRAM index follows the pool either way.
void TestBatch() {
  const std::string path = PoolPath("batch");
  std::unique_ptr<tree3::Tree3> t;
  CHECK_OK(OpenTree(path, 8 << 20, &t));
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
  CHECK(Dump(t.get()) == ModelRange(m, pmemkv::KeyRange{}));
  CHECK_VERIFY(t.get());
  // A batch that cannot fit (a value larger than the pool) changes nothing, splits included.
  std::vector<pmemkv::BatchOp> big;
  for (int i = 1000; i < 1400; i++) big.push_back({true, Key(i), "new"});
  for (int i = 1; i < 500; i += 3) big.push_back({false, Key(i), ""});
  big.push_back({true, "huge", std::string(16 << 20, 'h')});
  const pmemkv::Status s = t->Batch(big);
  CHECK(s.code() == pmemkv::Code::kOutOfMemory);
  CHECK(s.message().find("batch operation " + std::to_string(big.size() - 1)) != std::string::npos);
  CHECK(Dump(t.get()) == ModelRange(m, pmemkv::KeyRange{}));
  CHECK_VERIFY(t.get());
  t.reset();
  CHECK_OK(OpenTree(path, 0, &t));
  CHECK(Dump(t.get()) == ModelRange(m, pmemkv::KeyRange{}));
  CHECK_VERIFY(t.get());
  t.reset();
  unlink(path.c_str());
}

void TestOutOfSpaceDuringSplit() {
  const std::string path = PoolPath("oom");
  std::unique_ptr<tree3::Tree3> t;
  CHECK_OK(OpenTree(path, 8 << 20, &t));
  Model m;
  // Ascending fill until the pool is full: every leaf but the last is then full.
  uint64_t next = 0;
  for (;;) {
    const std::string k = Key(next * 1000), v(200, static_cast<char>('a' + next % 26));
    const pmemkv::Status s = t->Put(k, v);
    if (s.code() == pmemkv::Code::kOutOfMemory) break;
    CHECK_OK(s);
    m[k] = v;
    next++;
  }
  CHECK(m.size() > 10 * static_cast<size_t>(tree3::kLeafSlots));
  // Keys between existing ones land in full leaves: each put is a split. Space runs out for
  // good after at most a few of them; every refused one must leave the tree as it was.
  int refused = 0;
  for (uint64_t i = 1; i < next && refused < 20; i += 2 * tree3::kLeafSlots) {
    const tree3::Tree3::Stats before = t->GetStats();
    const std::string k = Key(i * 1000 + 1), v(200, 'z');
    const pmemkv::Status s = t->Put(k, v);
    if (s.code() == pmemkv::Code::kOutOfMemory) {
      refused++;
      const tree3::Tree3::Stats after = t->GetStats();
      CHECK(after.entries == before.entries && after.leaves == before.leaves &&
            after.inner_nodes == before.inner_nodes);
      continue;
    }
    CHECK_OK(s);
    m[k] = v;
  }
  CHECK(refused > 0);
  std::mt19937_64 rng(3);
  CheckAgainstModel(t.get(), m, rng, 50);
  if (Failed()) return;
  // Freeing space makes the tree usable again, splits included: removing the lower half of
  // the keys empties (and frees) whole leaves and whole runs of KVSlots.
  std::vector<std::string> keys;
  for (const auto& kv : m) keys.push_back(kv.first);
  for (size_t i = 0; i < keys.size() / 2; i++) {
    CHECK_OK(t->Remove(keys[i]));
    m.erase(keys[i]);
  }
  for (uint64_t i = 1; i < 400; i++) {
    // Same size as the removed values: libpmemobj reuses freed units of the same size class.
    const std::string k = Key(i * 1000 + 2), v(200, 'n');
    CHECK_OK(t->Put(k, v));
    m[k] = v;
  }
  CheckAgainstModel(t.get(), m, rng, 50);
  if (Failed()) return;
  t.reset();
  CHECK_OK(OpenTree(path, 0, &t));
  CheckAgainstModel(t.get(), m, rng, 50);
  t.reset();
  unlink(path.c_str());
}

void TestLayoutChecks() {
  const std::string path = PoolPath("layout");
  std::unique_ptr<tree3::Tree3> t;
  CHECK_OK(OpenTree(path, 8 << 20, &t));
  CHECK_OK(t->Put("k", "v"));
  t.reset();
  // Another layout version in the root: refused, and the pool is left as it was.
  PMEMobjpool* pop = pmemobj_open(path.c_str(), tree3::kLayoutName);
  CHECK(pop != nullptr);
  tree3::Root* root = static_cast<tree3::Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(tree3::Root))));
  root->version = tree3::kLayoutVersion + 1;
  pmemobj_persist(pop, &root->version, sizeof(root->version));
  pmemobj_close(pop);
  const pmemkv::Status s = OpenTree(path, 0, &t);
  CHECK(s.code() == pmemkv::Code::kInvalidArgument);
  CHECK(s.message().find("layout version " + std::to_string(tree3::kLayoutVersion + 1)) != std::string::npos);
  pop = pmemobj_open(path.c_str(), tree3::kLayoutName);
  CHECK(pop != nullptr);
  root = static_cast<tree3::Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(tree3::Root))));
  root->version = tree3::kLayoutVersion;
  pmemobj_persist(pop, &root->version, sizeof(root->version));
  pmemobj_close(pop);
  CHECK_OK(OpenTree(path, 0, &t));
  Copy c;
  CHECK_OK(t->Get("k", c));
  CHECK(c.value == "v");
  t.reset();
  // Damage the pool (a leaf list that loops, then a slot referring past the end): refused with
  // UNKNOWN_ERROR on open, never followed.
  for (int damage = 0; damage < 2; damage++) {
    pop = pmemobj_open(path.c_str(), tree3::kLayoutName);
    CHECK(pop != nullptr);
    root = static_cast<tree3::Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(tree3::Root))));
    PMEMoid leaf_oid = pmemobj_root(pop, sizeof(tree3::Root));
    leaf_oid.off = root->head;
    tree3::Leaf* leaf = static_cast<tree3::Leaf*>(pmemobj_direct(leaf_oid));
    const tree3::Leaf saved = *leaf;
    if (damage == 0) leaf->next = root->head;
    else leaf->slots[0] = uint64_t{1} << 40;
    pmemobj_persist(pop, leaf, sizeof(*leaf));
    pmemobj_close(pop);
    const pmemkv::Status d = OpenTree(path, 0, &t);
    CHECK(d.code() == pmemkv::Code::kUnknownError && d.message().find("damaged") != std::string::npos);
    pop = pmemobj_open(path.c_str(), tree3::kLayoutName);
    CHECK(pop != nullptr);
    *leaf = saved;
    pmemobj_persist(pop, leaf, sizeof(*leaf));
    pmemobj_close(pop);
  }
  CHECK_OK(OpenTree(path, 0, &t));
  CHECK_OK(t->Get("k", c));
  t.reset();
  unlink(path.c_str());
  // A pool of another layout name is refused by the pool layer.
  pop = pmemobj_create(path.c_str(), "pmemkv_other", 8 << 20, 0600);
  CHECK(pop != nullptr);
  pmemobj_close(pop);
  CHECK(OpenTree(path, 0, &t).code() == pmemkv::Code::kInvalidArgument);
  unlink(path.c_str());
}



struct CrashCase {
  const char* name;
  std::function<void(tree3::Tree3*, Model*)> setup;  // builds the state before the operation
  std::function<pmemkv::Status(tree3::Tree3*)> op;
  std::function<void(Model*)> apply;  // the operation, on the model
  int min_points;                     // crash points the operation must pass at least
  std::function<void(const std::string&)> finish = nullptr;  // on the closed prepared pool
};

void PutAll(tree3::Tree3* t, Model* m, const std::vector<uint64_t>& ids) {
  for (uint64_t id : ids) {
    const std::string k = Key(id), v = "value of " + std::to_string(id);
    if (!t->Put(k, v).ok()) return;
    (*m)[k] = v;
  }
}
std::vector<uint64_t> Range(uint64_t from, uint64_t to, uint64_t step = 1) {
  std::vector<uint64_t> ids;
  for (uint64_t i = from; i < to; i += step) ids.push_back(i);
  return ids;
}
// As PutAll, every pair an allocation of its own (as in a version 1 pool).
void PutAllOwn(tree3::Tree3* t, Model* m, const std::vector<uint64_t>& ids) {
  tree3::Tree3::SetOwnRecordsOnlyForTesting(true);
  PutAll(t, m, ids);
  tree3::Tree3::SetOwnRecordsOnlyForTesting(false);
}

// Rewrites the root of the closed pool at `path` as version 1 wrote it: version 1, no journal
// (the version 2 journal object stays behind, unreferenced, as any other object would).
bool MakeVersion1(const std::string& path) {
  PMEMobjpool* pop = pmemobj_open(path.c_str(), tree3::kLayoutName);
  if (pop == nullptr) return false;
  tree3::Root* root = static_cast<tree3::Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(tree3::Root))));
  root->version = 1;
  root->journal = 0;
  pmemobj_persist(pop, root, sizeof(*root));
  pmemobj_close(pop);
  return true;
}
uint64_t VersionOf(const std::string& path) {
  PMEMobjpool* pop = pmemobj_open(path.c_str(), tree3::kLayoutName);
  if (pop == nullptr) return 0;
  const uint64_t v = static_cast<tree3::Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(tree3::Root))))->version;
  pmemobj_close(pop);
  return v;
}

// The batch of the batch crash cases: new keys between existing ones (splits), overwrites,
// removes (one of a missing key), a key put twice (the last wins) and, with `large`, a value
// too large for a slab (an allocation of its own: the batch commits through one publish).
std::vector<pmemkv::BatchOp> CrashBatch(bool large) {
  std::vector<pmemkv::BatchOp> ops;
  for (uint64_t i = 1; i < 200; i += 2) ops.push_back({true, Key(i), "batch " + std::to_string(i)});
  for (uint64_t i = 0; i < 200; i += 10) ops.push_back({true, Key(i), "overwritten"});
  for (uint64_t i = 4; i < 200; i += 10) ops.push_back({false, Key(i), ""});
  ops.push_back({false, Key(5000), ""});
  ops.push_back({true, Key(3), "the last put wins"});
  if (large) ops.push_back({true, Key(7), std::string(3000, 'L')});
  return ops;
}
void ApplyBatch(const std::vector<pmemkv::BatchOp>& ops, Model* m) {
  for (const pmemkv::BatchOp& op : ops) {
    if (op.is_put)
      (*m)[op.key] = op.value;
    else
      m->erase(op.key);
  }
}

// Reopens the pool a crash case left at `work` into *t and checks Verify; prints why not
// (`what`: the case, `step`: the crash point) and returns false when either fails.
bool ReopenVerified(const std::string& work, const char* what, int step, std::unique_ptr<tree3::Tree3>* t) {
  const pmemkv::Status s = OpenTree(work, 0, t);
  if (!s.ok()) {
    std::fprintf(stderr, "case '%s': after step %d the pool does not open: %s\n", what, step, s.message().c_str());
    return false;
  }
  const std::string v = (*t)->Verify();
  if (!v.empty()) {
    std::fprintf(stderr, "case '%s': after step %d: Verify: %s\n", what, step, v.c_str());
    return false;
  }
  return true;
}

// Deterministic crash injection: for each case and each crash point k the operation passes, a
// forked child opens a copy of the prepared pool, runs the operation and is killed (SIGKILL)
// at point k. Reopening must give the state before the operation or the state after it (a
// kill past the commit point), pass Verify (which includes: no leaked record, the arena's
// live bytes are exactly the live records'), and, when it is the state before, still take the
// operation. Every case passes points before its commit point, so both outcomes are seen.
void TestCrashPoints() {
  const CrashCase cases[] = {
      {"first put of an empty tree", [](tree3::Tree3*, Model*) {},
       [](tree3::Tree3* t) { return t->Put(Key(1), "one"); }, [](Model* m) { (*m)[Key(1)] = "one"; }, 4},
      {"insert into a leaf with room", [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(0, 10)); },
       [](tree3::Tree3* t) { return t->Put(Key(100), "new"); }, [](Model* m) { (*m)[Key(100)] = "new"; }, 2},
      {"overwrite", [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(0, 10)); },
       [](tree3::Tree3* t) { return t->Put(Key(5), "a changed, longer value"); },
       [](Model* m) { (*m)[Key(5)] = "a changed, longer value"; }, 2},
      {"overwrite with a pair too large for a slab", [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(0, 10)); },
       [](tree3::Tree3* t) { return t->Put(Key(5), std::string(5000, 'x')); },
       [](Model* m) { (*m)[Key(5)] = std::string(5000, 'x'); }, 3},
      {"overwrite of a pair of its own by a slab record", [](tree3::Tree3* t, Model* m) { PutAllOwn(t, m, Range(0, 10)); },
       [](tree3::Tree3* t) { return t->Put(Key(5), "small"); }, [](Model* m) { (*m)[Key(5)] = "small"; }, 3},
      {"remove", [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(0, 10)); },
       [](tree3::Tree3* t) { return t->Remove(Key(5)); }, [](Model* m) { m->erase(Key(5)); }, 1},
      {"remove of a pair of its own", [](tree3::Tree3* t, Model* m) { PutAllOwn(t, m, Range(0, 10)); },
       [](tree3::Tree3* t) { return t->Remove(Key(5)); }, [](Model* m) { m->erase(Key(5)); }, 2},
      {"split in the middle of the tree (a spare leaf, one journal commit)",
       [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(0, 400, 2)); },
       [](tree3::Tree3* t) { return t->Put(Key(121), "splitter"); }, [](Model* m) { (*m)[Key(121)] = "splitter"; }, 4},
      {"split in the middle of the tree by a pair of its own (transaction)",
       [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(0, 400, 2)); },
       [](tree3::Tree3* t) { return t->Put(Key(121), std::string(5000, 's')); },
       [](Model* m) { (*m)[Key(121)] = std::string(5000, 's'); }, 2 * tree3::kLeafSlots / 2},
      {"split of the last leaf (ascending fill)", [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(0, 48)); },
       [](tree3::Tree3* t) { return t->Put(Key(1000), "last"); }, [](Model* m) { (*m)[Key(1000)] = "last"; }, 4},
      {"split of the first leaf (descending fill)", [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(10, 58)); },
       [](tree3::Tree3* t) { return t->Put(Key(1), "first"); }, [](Model* m) { (*m)[Key(1)] = "first"; }, 4},
      {"remove that empties and frees a leaf",
       [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(0, 49)); },  // two leaves: 48 + 1
       [](tree3::Tree3* t) { return t->Remove(Key(48)); }, [](Model* m) { m->erase(Key(48)); }, 2},
      {"remove of the last key of the tree",
       [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(0, 1)); },
       [](tree3::Tree3* t) { return t->Remove(Key(0)); }, [](Model* m) { m->erase(Key(0)); }, 2},
      {"batch with splits, overwrites and removes (journal)",
       [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(0, 200, 2)); },
       [](tree3::Tree3* t) { return t->Batch(CrashBatch(false)); }, [](Model* m) { ApplyBatch(CrashBatch(false), m); }, 6},
      {"batch with a pair of its own (publish)",
       [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(0, 200, 2)); },
       [](tree3::Tree3* t) { return t->Batch(CrashBatch(true)); }, [](Model* m) { ApplyBatch(CrashBatch(true), m); }, 6},
      {"batch into an empty tree", [](tree3::Tree3*, Model*) {},
       [](tree3::Tree3* t) {
         std::vector<pmemkv::BatchOp> ops;
         for (uint64_t i = 0; i < 150; i++) ops.push_back({true, Key(i), "v"});
         return t->Batch(ops);
       },
       [](Model* m) {
         for (uint64_t i = 0; i < 150; i++) (*m)[Key(i)] = "v";
       }, 6},
      {"batch that empties a leaf",
       [](tree3::Tree3* t, Model* m) { PutAll(t, m, Range(0, 60)); },
       [](tree3::Tree3* t) {
         std::vector<pmemkv::BatchOp> ops;
         for (uint64_t i = 0; i < 60; i++) ops.push_back({false, Key(i), ""});
         ops.push_back({true, Key(30), "kept"});
         return t->Batch(ops);
       },
       [](Model* m) {
         m->clear();
         (*m)[Key(30)] = "kept";
       }, 3},
      {"cleaner moving the records of sparse slabs",
       [](tree3::Tree3* t, Model* m) {
         PutAll(t, m, Range(0, 8000));  // several slabs
         for (uint64_t i = 0; i < 8000; i++)
           if (i % 4 != 0) t->Remove(Key(i)), m->erase(Key(i));
       },
       [](tree3::Tree3* t) { return t->CleanAll(1) ? pmemkv::Status::OK() : pmemkv::Status::OutOfMemory("no room to clean"); },
       [](Model*) {}, 2},
      {"open of a version 1 pool (upgrade), then a put",
       [](tree3::Tree3* t, Model* m) { PutAllOwn(t, m, Range(0, 100)); },
       [](tree3::Tree3* t) { return t->Put(Key(1), "after the upgrade"); },
       [](Model* m) { (*m)[Key(1)] = "after the upgrade"; }, 3,
       [](const std::string& path) { MakeVersion1(path); }},
  };
  const std::string prepared = PoolPath("crash-prepared"), work = PoolPath("crash-work");
  for (const CrashCase& c : cases) {
    Model before;
    {
      unlink(prepared.c_str());
      std::unique_ptr<tree3::Tree3> t;
      CHECK_OK(OpenTree(prepared, 8 << 20, &t));
      c.setup(t.get(), &before);
      CHECK(Dump(t.get()) == ModelRange(before, pmemkv::KeyRange{}));
      CHECK_VERIFY(t.get());
    }
    if (c.finish) c.finish(prepared);
    Model after = before;
    c.apply(&after);
    const Entries want_before = ModelRange(before, pmemkv::KeyRange{});
    const Entries want_after = ModelRange(after, pmemkv::KeyRange{});
    int befores = 0;
    const int points = pmemkv::testing::KillAtEveryCrashPoint(
        prepared, work,
        [&](const std::string& pool) {
          std::unique_ptr<tree3::Tree3> t;
          pmemkv::Status s = OpenTree(pool, 0, &t);
          return s.ok() ? c.op(t.get()) : s;
        },
        [&](const pmemkv::testing::CrashOutcome& o) {
          std::unique_ptr<tree3::Tree3> t;
          if (!ReopenVerified(work, c.name, o.step, &t)) return false;
          const Entries got = Dump(t.get());
          const bool is_before = got == want_before, is_after = got == want_after;
          if (!(o.killed ? is_before || is_after : is_after)) {
            std::fprintf(stderr, "case '%s': after a kill at step %d the pool holds %zu entries (%zu before, %zu after)\n",
                         c.name, o.step, got.size(), want_before.size(), want_after.size());
            return false;
          }
          if (!o.killed) return true;
          if (!is_before) return true;
          befores++;
          return c.op(t.get()).ok() && Dump(t.get()) == want_after && t->Verify().empty();
        });
    CHECK(points >= 0);
    std::fprintf(stderr, "crash case '%s': %d points killed, %d reopened as before\n", c.name, points, befores);
    if (points < c.min_points) std::fprintf(stderr, "case '%s': only %d crash points\n", c.name, points);
    CHECK(points >= c.min_points);
    if (want_before != want_after) CHECK(befores > 0);
    if (c.finish) CHECK(VersionOf(work) == tree3::kLayoutVersion);
  }
  unlink(prepared.c_str());
  unlink(work.c_str());
}

// A batch's commit stays in the journal's log until a checkpoint (kWhenFull), so every direct
// write after it checkpoints first; otherwise the redo at the next open would store the
// batch's older words over the write's (or into memory freed since). For each kind of direct
// write into the leaf a batch changed, a forked child runs the batch, then the write, and
// exits without closing the engine (whatever was not checkpointed stays in the log), killed
// at each crash point on the way or not at all. Reopened, the pool passes Verify and holds the
// batch and the write when the child was not killed; when it was: the state before the batch,
// after it, or after both.
void TestDirectWritesAfterABatch() {
  // One step of a follow-up: an operation and its effect on the model.
  struct Step {
    std::function<pmemkv::Status(tree3::Tree3*)> op;
    std::function<void(Model*)> apply;
  };
  struct FollowUp {
    const char* name;
    std::vector<Step> steps;
  };
  std::vector<pmemkv::BatchOp> batch;
  for (uint64_t i = 0; i <= 20; i += 2) batch.push_back({true, Key(i), "batch " + std::to_string(i)});
  batch.push_back({false, Key(22), ""});
  batch.push_back({false, Key(24), ""});
  const auto put = [](uint64_t i, std::string v) {
    return Step{[=](tree3::Tree3* t) { return t->Put(Key(i), v); }, [=](Model* m) { (*m)[Key(i)] = v; }};
  };
  const auto remove = [](uint64_t i) {
    return Step{[=](tree3::Tree3* t) {
                  const pmemkv::Status s = t->Remove(Key(i));
                  return s.IsNotFound() ? pmemkv::Status::OK() : s;
                },
                [=](Model* m) { m->erase(Key(i)); }};
  };
  std::vector<Step> empty_the_leaf;
  for (uint64_t i = 0; i < 60; i += 2) empty_the_leaf.push_back(remove(i));
  empty_the_leaf.push_back(put(7, "alone"));
  const FollowUp follow_ups[] = {
      {"put of a new key", {put(1, "new")}},
      {"overwrite of a key the batch wrote", {put(2, "over")}},
      {"remove of a key the batch wrote", {remove(4)}},
      {"put of a pair of its own (transaction)", {put(3, std::string(5000, 'o'))}},
      {"removes that free the leaf, then a put into a new leaf", empty_the_leaf},
      {"cleaner moving the batch's records",
       {Step{[](tree3::Tree3* t) { return t->CleanAll(1) ? pmemkv::Status::OK() : pmemkv::Status::OutOfMemory("no room"); },
             [](Model*) {}}}},
  };
  const std::string prepared = PoolPath("direct-prepared"), work = PoolPath("direct-work");
  Model before;
  {
    unlink(prepared.c_str());
    std::unique_ptr<tree3::Tree3> t;
    CHECK_OK(OpenTree(prepared, 8 << 20, &t));
    PutAll(t.get(), &before, Range(0, 60, 2));  // one leaf of 30
  }
  for (const FollowUp& f : follow_ups) {
    // The states a kill may leave: before the batch, after it, after each step.
    std::vector<Entries> states{ModelRange(before, pmemkv::KeyRange{})};
    Model m = before;
    ApplyBatch(batch, &m);
    states.push_back(ModelRange(m, pmemkv::KeyRange{}));
    for (const Step& step : f.steps) {
      step.apply(&m);
      states.push_back(ModelRange(m, pmemkv::KeyRange{}));
    }
    int completed = 0;
    const int points = pmemkv::testing::KillAtEveryCrashPoint(
        prepared, work,
        [&](const std::string& pool) {
          std::unique_ptr<tree3::Tree3> t;
          pmemkv::Status s = OpenTree(pool, 0, &t);
          if (s.ok()) s = t->Batch(batch);
          for (size_t i = 0; s.ok() && i < f.steps.size(); i++) s = f.steps[i].op(t.get());
          (void)t.release();  // no close: the child exits with the log as the writes left it
          return s;
        },
        [&](const pmemkv::testing::CrashOutcome& o) {
          std::unique_ptr<tree3::Tree3> t;
          if (!ReopenVerified(work, f.name, o.step, &t)) return false;
          const Entries got = Dump(t.get());
          const bool ok = o.killed ? std::find(states.begin(), states.end(), got) != states.end() : got == states.back();
          if (!ok)
            std::fprintf(stderr, "after a batch, %s: %s at step %d the pool holds %zu entries (%zu after the batch, %zu at the end)\n",
                         f.name, o.killed ? "killed" : "exiting", o.step, got.size(), states[1].size(), states.back().size());
          completed += o.killed ? 0 : 1;
          return ok;
        });
    std::fprintf(stderr, "after a batch, %s: %d points killed\n", f.name, points);
    CHECK(points >= 2);
    CHECK(completed == 1);
  }
  unlink(prepared.c_str());
  unlink(work.c_str());
}

// A version 1 pool (every pair an allocation of its own, no journal, every leaf a typed
// allocation) opens, is marked version 3, and takes slab records beside its own pairs and
// header-less leaves beside its typed ones: overwrites and removes of its pairs free
// them, batches mix both kinds, and it reopens with everything. A version above 2 is refused
// and left as it was.
void TestVersion1Upgrade() {
  const std::string path = PoolPath("v1");
  std::unique_ptr<tree3::Tree3> t;
  tree3::Tree3::SetTypedLeavesForTesting(true);
  CHECK_OK(OpenTree(path, 16 << 20, &t));
  Model m;
  PutAllOwn(t.get(), &m, Range(0, 2000));
  t.reset();
  tree3::Tree3::SetTypedLeavesForTesting(false);
  const ObjectCensus v1 = Census(path);
  CHECK(v1.kvslots == 2000);
  CHECK(v1.leaves > 10 && v1.typed_leaves == v1.leaves);
  CHECK(MakeVersion1(path));
  CHECK_OK(OpenTree(path, 0, &t));
  t.reset();
  CHECK(VersionOf(path) == tree3::kLayoutVersion);
  CHECK_OK(OpenTree(path, 0, &t));
  CHECK_VERIFY(t.get());
  CHECK(Dump(t.get()) == ModelRange(m, pmemkv::KeyRange{}));
  for (uint64_t i = 0; i < 2000; i += 2) {
    CHECK_OK(t->Put(Key(i), "slab " + std::to_string(i)));
    m[Key(i)] = "slab " + std::to_string(i);
  }
  for (uint64_t i = 1; i < 2000; i += 4) {
    CHECK_OK(t->Remove(Key(i)));
    m.erase(Key(i));
  }
  std::vector<pmemkv::BatchOp> ops;
  for (uint64_t i = 3; i < 2000; i += 8) ops.push_back({true, Key(i), "batch"});
  for (uint64_t i = 7; i < 2000; i += 8) ops.push_back({false, Key(i), ""});
  for (uint64_t i = 2000; i < 2500; i++) ops.push_back({true, Key(i), "new"});
  ApplyBatch(ops, &m);
  CHECK_OK(t->Batch(ops));
  CHECK_VERIFY(t.get());
  t.reset();
  // Left as own allocations: the keys 3 mod 4 of the first 2000 that the batch did not touch.
  uint64_t own = 0;
  for (uint64_t i = 0; i < 2000; i++)
    if (i % 4 == 3 && i % 8 != 3 && i % 8 != 7) own++;
  const ObjectCensus after = Census(path);
  CHECK(after.kvslots == own);
  // The version 1 leaves stay typed allocations; the splits since added header-less ones.
  CHECK(after.typed_leaves > 0 && after.leaves > after.typed_leaves);
  CHECK_OK(OpenTree(path, 0, &t));
  CHECK_VERIFY(t.get());
  CHECK(Dump(t.get()) == ModelRange(m, pmemkv::KeyRange{}));
  t.reset();
  unlink(path.c_str());
}

// Overwrite and remove churn with values of many sizes in the smallest pool: the pairs written
// over the run are many times the pool, so the cleaner must keep turning garbage into free
// slabs. No put fails, the slabs stay within a bound of the live bytes, and all reopens.
void TestSlabChurn() {
  const std::string path = PoolPath("churn");
  std::unique_ptr<tree3::Tree3> t;
  CHECK_OK(OpenTree(path, 8 << 20, &t));
  std::mt19937_64 rng(11);
  Model m;
  const uint64_t kKeys = 4000;
  uint64_t written = 0, peak_slabs = 0;
  for (int round = 0; round < 60; round++) {
    for (uint64_t n = 0; n < kKeys; n++) {
      const uint64_t id = rng() % kKeys;
      if (rng() % 5 == 0) {
        const bool had = m.erase(Key(id)) == 1;
        CHECK(t->Remove(Key(id)).ok() == had);
        continue;
      }
      const std::string v(rng() % 400, static_cast<char>('a' + round % 26));
      CHECK_OK(t->Put(Key(id), v));
      if (Failed()) return;
      m[Key(id)] = v;
      written += v.size() + 30;
    }
    peak_slabs = std::max<uint64_t>(peak_slabs, t->arena().slab_bytes());
    if (round % 20 == 19) {
      CHECK_VERIFY(t.get());
      t.reset();
      CHECK_OK(OpenTree(path, 0, &t));
    }
  }
  CHECK(written > 8 * (8u << 20) / 2);
  const uint64_t live = t->arena().live_bytes();
  std::fprintf(stderr, "churn: %llu bytes written, live %llu, peak slabs %llu\n", static_cast<unsigned long long>(written),
               static_cast<unsigned long long>(live), static_cast<unsigned long long>(peak_slabs));
  CHECK(peak_slabs <= 3 * live + 8 * t->arena().slab_size());
  CHECK_VERIFY(t.get());
  std::mt19937_64 r2(3);
  CheckAgainstModel(t.get(), m, r2, 100);
  t.reset();
  unlink(path.c_str());
}

// Batches of every shape: ascending and descending runs far larger than a leaf (into an empty
// tree and beyond the ends of a full one), random keys, pairs too large for a slab, and a
// batch that removes everything (every leaf freed). Each compared with a model and Verified.
void TestBatchShapes() {
  const std::string path = PoolPath("batch-shapes");
  std::unique_ptr<tree3::Tree3> t;
  CHECK_OK(OpenTree(path, 64 << 20, &t));
  Model m;
  std::mt19937_64 rng(9);
  const auto run = [&](const std::vector<pmemkv::BatchOp>& ops) {
    ApplyBatch(ops, &m);
    CHECK_OK(t->Batch(ops));
    CHECK_VERIFY(t.get());
    CHECK(Dump(t.get()) == ModelRange(m, pmemkv::KeyRange{}));
  };
  std::vector<pmemkv::BatchOp> ops;
  for (uint64_t i = 10000; i < 15000; i++) ops.push_back({true, Key(i), "asc"});
  run(ops);
  if (Failed()) return;
  CHECK(t->GetStats().leaves <= 5000 / tree3::kLeafSlots + 2);  // ascending: full leaves
  ops.clear();
  for (uint64_t i = 20000; i < 23000; i++) ops.push_back({true, Key(i), "beyond the last"});
  for (uint64_t i = 9999; i > 7000; i--) ops.push_back({true, Key(i), "before the first"});
  run(ops);
  if (Failed()) return;
  for (int round = 0; round < 20; round++) {
    ops.clear();
    for (int k = 0; k < 1000; k++) {
      const uint64_t id = rng() % 40000;
      if (rng() % 4 == 0)
        ops.push_back({false, Key(id), ""});
      else
        ops.push_back({true, Key(id), std::string(rng() % 64 == 0 ? 3000 : rng() % 100, 'r')});
    }
    run(ops);
    if (Failed()) return;
  }
  t.reset();
  CHECK_OK(OpenTree(path, 0, &t));
  CHECK_VERIFY(t.get());
  CHECK(Dump(t.get()) == ModelRange(m, pmemkv::KeyRange{}));
  ops.clear();
  for (const auto& kv : m) ops.push_back({false, kv.first, ""});
  run(ops);
  CHECK(t->GetStats().leaves == 0 && t->GetStats().entries == 0);
  t.reset();
  const ObjectCensus c = Census(path);
  CHECK(c.leaves == 0 && c.kvslots == 0);
  unlink(path.c_str());
}

}  // namespace

PMEMKV_TEST(FingerprintNeverZeroAndAPermutation) { TestFingerprint(); }
PMEMKV_TEST(KeyPrefixesOrderLikeKeys) { TestKeyPrefixOrder(); }
PMEMKV_TEST(BasicsEmptyKeysZeroBytesOverwriteRemoveReopen) { TestBasics(); }
PMEMKV_TEST(KeysAndValuesOver4GiBAreInvalid) { TestSizeLimits(); }
PMEMKV_TEST(AscendingFill200000) { TestFill("asc", 1, 200000); }
PMEMKV_TEST(DescendingFill200000) { TestFill("desc", -1, 200000); }
PMEMKV_TEST(RandomFill200000) { TestFill("rand", 0, 200000); }
PMEMKV_TEST(EmptyLeavesAreFreed) { TestEmptyLeavesFreed(); }
PMEMKV_TEST(PoolFullDuringSplitsLeavesTreeIntact) { TestOutOfSpaceDuringSplit(); }
PMEMKV_TEST(LayoutNameAndVersionCheckedDamagedPoolsRefused) { TestLayoutChecks(); }
PMEMKV_TEST(KillAtAnyStepLeavesStateBefore) { TestCrashPoints(); }
PMEMKV_TEST(DirectWritesAfterABatchCheckpointItsCommitFirst) { TestDirectWritesAfterABatch(); }
PMEMKV_TEST(BatchIsAllOrNothing) { TestBatch(); }
PMEMKV_TEST(InsideAForeignTransactionIsTransactionScopeError) { TestInsideForeignTransaction(); }
PMEMKV_TEST(Version1PoolIsUpgradedAndMixesOwnAndSlabRecords) { TestVersion1Upgrade(); }
PMEMKV_TEST(ChurnInTheSmallestPoolIsCleanedNeverFull) { TestSlabChurn(); }
PMEMKV_TEST(BatchesOfEveryShapeMatchAModel) { TestBatchShapes(); }

int main() { return pmemkv::testing::RunAll(); }
