// Native tests of csmap: the engine without Node.js, on real pools in the harness's temporary
// directory. Point operations and order against std::map, cursors in both directions, reopen,
// comparators, atomic batches, a full pool, damaged pools, the epoch domain, and threads that
// write overlapping keys while others iterate.
#include <pmemkv/testing.h>

#include <libpmemobj.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pmemkv/crash_point.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "csmap.h"
#include "epoch.h"

namespace {

using csmap::CSMap;
using pmemkv::Code;
using pmemkv::Config;
using pmemkv::Cursor;
using pmemkv::Engine;
using pmemkv::KeyRange;
using pmemkv::Slice;
using pmemkv::Status;
using pmemkv::testing::PoolPath;
using pmemkv::testing::ValueCopy;

constexpr uint64_t kMiB = 1024 * 1024;

Config MakeConfig(const std::string& name, uint64_t size = 32 * kMiB, const char* comparator = nullptr) {
  Config c;
  c.path = PoolPath(name);
  c.size = size;
  c.create_if_missing = true;
  if (comparator != nullptr) {
    Config::Item item;
    item.type = Config::Item::Type::kString;
    item.string_value = comparator;
    c.items.emplace_back("comparator", item);
  }
  return c;
}

Status OpenMap(const Config& c, std::unique_ptr<Engine>* e) { return CSMap::Open(c, e); }
CSMap& AsMap(const std::unique_ptr<Engine>& e) { return static_cast<CSMap&>(*e); }

std::string Get(Engine& e, Slice key, Status* status = nullptr) {
  ValueCopy v;
  Status s = e.Get(key, v);
  if (status != nullptr) *status = s;
  return s.ok() ? v.value : std::string("<absent>");
}

// Every entry in cursor order, forward or backward.
std::vector<std::pair<std::string, std::string>> Walk(Engine& e, bool reverse) {
  std::unique_ptr<Cursor> c;
  std::vector<std::pair<std::string, std::string>> out;
  if (!e.NewCursor(&c).ok()) return out;
  if (reverse) {
    for (c->SeekToLast(); c->Valid(); c->Prev()) out.emplace_back(std::string(c->key()), std::string(c->value()));
  } else {
    for (c->SeekToFirst(); c->Valid(); c->Next()) out.emplace_back(std::string(c->key()), std::string(c->value()));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Forward(const std::map<std::string, std::string>& m) {
  return {m.begin(), m.end()};
}

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key-%08d", i);
  return buf;
}

PMEMKV_TEST(PutGetRemoveAgainstModel) {
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(MakeConfig("model"), &e));
  std::map<std::string, std::string> model;
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; i++) {
    const std::string k = Key(static_cast<int>(rng() % 3000));
    const unsigned op = rng() % 10;
    if (op < 6) {
      const std::string v = std::string(rng() % 40, static_cast<char>('a' + i % 26)) + std::to_string(i);
      CHECK_OK(e->Put(k, v));
      model[k] = v;
    } else if (op < 8) {
      Status s = e->Remove(k);
      CHECK(s.ok() == (model.erase(k) == 1));
    } else {
      Status s;
      const std::string got = Get(*e, k, &s);
      auto it = model.find(k);
      CHECK(s.ok() == (it != model.end()));
      if (it != model.end()) CHECK(got == it->second);
      CHECK(e->Exists(k).ok() == (it != model.end()));
    }
  }
  uint64_t n = 0;
  CHECK_OK(e->Count(KeyRange{}, &n));
  CHECK(n == model.size());
  CHECK(Walk(*e, false) == Forward(model));
  auto backward = Forward(model);
  std::reverse(backward.begin(), backward.end());
  CHECK(Walk(*e, true) == backward);
  const std::string problem = AsMap(e).Verify();
  CHECK(problem.empty());
}

PMEMKV_TEST(BinaryKeysAndEmptyValues) {
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(MakeConfig("binary"), &e));
  const std::string zero("\0", 1), zeros("\0\0", 2), ff("\xff", 1);
  CHECK_OK(e->Put("", "empty key"));
  CHECK_OK(e->Put(zero, ""));
  CHECK_OK(e->Put(zeros, std::string("a\0b", 3)));
  CHECK_OK(e->Put(ff, "ff"));
  CHECK(Get(*e, "") == "empty key");
  CHECK(Get(*e, zero).empty());
  CHECK(Get(*e, zeros) == std::string("a\0b", 3));
  auto all = Walk(*e, false);
  CHECK(all.size() == 4);
  CHECK(all[0].first.empty() && all[1].first == zero && all[2].first == zeros && all[3].first == ff);
}

PMEMKV_TEST(CursorSeeksAndRanges) {
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(MakeConfig("seeks"), &e));
  for (int i = 0; i < 100; i += 2) CHECK_OK(e->Put(Key(i), std::to_string(i)));
  std::unique_ptr<Cursor> c;
  CHECK_OK(e->NewCursor(&c));
  c->Seek(Key(11));
  CHECK(c->Valid() && c->key() == Key(12));
  c->Seek(Key(12));
  CHECK(c->Valid() && c->key() == Key(12) && c->value() == "12");
  c->SeekForPrev(Key(11));
  CHECK(c->Valid() && c->key() == Key(10));
  c->SeekForPrev(Key(10));
  CHECK(c->Valid() && c->key() == Key(10));
  c->Prev();
  CHECK(c->Valid() && c->key() == Key(8));
  c->Seek(Key(99));
  CHECK(!c->Valid());
  c->SeekForPrev("a");
  CHECK(!c->Valid());
  c->SeekToLast();
  CHECK(c->Valid() && c->key() == Key(98));
  c.reset();

  const std::string k10 = Key(10), k20 = Key(20), k30 = Key(30);  // the range's slices point here
  KeyRange r;
  r.lower = {k10, true, false};
  r.upper = {k20, true, true};
  uint64_t n = 0;
  CHECK_OK(e->Count(e->InOrder(r), &n));
  CHECK(n == 5);  // 12 14 16 18 20
  r.lower.inclusive = true;
  r.upper.inclusive = false;
  CHECK_OK(e->Count(e->InOrder(r), &n));
  CHECK(n == 5);  // 10 .. 18
  r.lower = {k30, true, false};
  r.upper = {k20, true, false};
  CHECK_OK(e->Count(e->InOrder(r), &n));
  CHECK(n == 0);
}

PMEMKV_TEST(ReopenRebuildsTheIndex) {
  const Config c = MakeConfig("reopen");
  std::map<std::string, std::string> model;
  {
    std::unique_ptr<Engine> e;
    CHECK_OK(OpenMap(c, &e));
    for (int i = 0; i < 5000; i++) {
      CHECK_OK(e->Put(Key(i * 7 % 5000), std::string(i % 50, 'v') + std::to_string(i)));
      model[Key(i * 7 % 5000)] = std::string(i % 50, 'v') + std::to_string(i);
    }
    for (int i = 0; i < 5000; i += 3) {
      CHECK_OK(e->Remove(Key(i)));
      model.erase(Key(i));
    }
  }
  std::unique_ptr<Engine> e;
  Config again = c;
  again.create_if_missing = false;
  again.size = 0;
  CHECK_OK(OpenMap(again, &e));
  CHECK(Walk(*e, false) == Forward(model));
  uint64_t n = 0;
  CHECK_OK(e->Count(KeyRange{}, &n));
  CHECK(n == model.size());
  const std::string problem = AsMap(e).Verify();
  CHECK(problem.empty());
  CHECK(AsMap(e).StoredComparator() == "bytewise");
}

PMEMKV_TEST(ReverseBytewiseComparatorIsStoredAndChecked) {
  const Config c = MakeConfig("reverse", 32 * kMiB, "reverse-bytewise");
  {
    std::unique_ptr<Engine> e;
    CHECK_OK(OpenMap(c, &e));
    for (const char* k : {"a", "ab", "b", "", "abc"}) CHECK_OK(e->Put(k, k));
    auto all = Walk(*e, false);
    CHECK(all.size() == 5);
    CHECK(all[0].first == "b" && all[1].first == "abc" && all[2].first == "ab" && all[3].first == "a" &&
          all[4].first.empty());
    KeyRange r;
    r.lower = {"b", true, false};  // after "b" in reverse order
    r.upper = {"a", true, false};
    uint64_t n = 0;
    CHECK_OK(e->Count(e->InOrder(r), &n));
    CHECK(n == 2);  // abc, ab
  }
  {
    std::unique_ptr<Engine> e;
    Config plain = c;
    plain.items.clear();
    CHECK_OK(OpenMap(plain, &e));  // no comparator: the stored one applies
    CHECK(AsMap(e).StoredComparator() == "reverse-bytewise");
    CHECK(Walk(*e, false).front().first == "b");
  }
  std::unique_ptr<Engine> e;
  Status s = OpenMap(MakeConfig("reverse", 32 * kMiB, "bytewise"), &e);
  CHECK(s.code() == Code::kComparatorMismatch);
  CHECK(s.message().find("reverse-bytewise") != std::string::npos && s.message().find("bytewise") != std::string::npos);
  s = OpenMap(MakeConfig("other", 32 * kMiB, "natural"), &e);
  CHECK(s.code() == Code::kInvalidArgument);
}

PMEMKV_TEST(BatchIsAtomicAndLastOpWins) {
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(MakeConfig("batch", 8 * kMiB), &e));
  CHECK_OK(e->Put("c", "old c"));
  CHECK_OK(e->Put("d", "old d"));
  std::vector<pmemkv::BatchOp> ops = {
      {true, "a", "a1"}, {false, "a", ""}, {false, "b", ""}, {true, "b", "b1"},
      {true, "c", "c1"}, {true, "c", "c2"}, {false, "d", ""}, {false, "d", ""},
  };
  CHECK_OK(e->Batch(ops));
  CHECK(Get(*e, "a") == "<absent>" && Get(*e, "b") == "b1" && Get(*e, "c") == "c2" && Get(*e, "d") == "<absent>");
  CHECK(AsMap(e).Verify().empty());

  // A batch too large for the pool changes nothing.
  std::vector<pmemkv::BatchOp> big = {{true, "c", "would replace c"}, {false, "b", ""}};
  for (int i = 0; i < 200; i++) big.push_back({true, Key(i), std::string(64 * 1024, 'x')});
  Status s = e->Batch(big);
  CHECK(s.code() == Code::kOutOfMemory);
  CHECK(s.message().find("batch operation") != std::string::npos);
  CHECK(Get(*e, "b") == "b1" && Get(*e, "c") == "c2" && Get(*e, Key(0)) == "<absent>");
  uint64_t n = 0;
  CHECK_OK(e->Count(KeyRange{}, &n));
  CHECK(n == 2);
  CHECK(AsMap(e).Verify().empty());
}

PMEMKV_TEST(FullPoolKeepsWorking) {
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(MakeConfig("full", 8 * kMiB), &e));
  const std::string value(4000, 'f');
  int stored = 0;
  Status s;
  for (; stored < 100000; stored++) {
    s = e->Put(Key(stored), value);
    if (!s.ok()) break;
  }
  CHECK(s.code() == Code::kOutOfMemory);
  CHECK(stored > 100);
  CHECK(!e->Exists(Key(stored)).ok());
  for (int i = 0; i < stored; i++) CHECK(Get(*e, Key(i)) == value);
  for (int i = 0; i < stored; i += 2) CHECK_OK(e->Remove(Key(i)));
  for (int i = 0; i < 10; i++) CHECK_OK(e->Put("again" + std::to_string(i), value));
  CHECK(AsMap(e).Verify().empty());
}

PMEMKV_TEST(EpochsFreeRetiredNodes) {
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(MakeConfig("epochs"), &e));
  for (int i = 0; i < 1000; i++) CHECK_OK(e->Put(Key(i), "v"));
  for (int i = 0; i < 1000; i++) CHECK_OK(e->Remove(Key(i)));
  for (int i = 0; i < 4; i++) csmap::Epochs::Collect();
  CHECK(csmap::Epochs::Pending() == 0);
  // A guard holds back reclamation of what is retired while it is open.
  std::atomic<bool> entered{false}, release{false};
  std::thread reader([&] {
    csmap::Epochs::Guard g;
    entered = true;
    while (!release) std::this_thread::yield();
  });
  while (!entered) std::this_thread::yield();
  CHECK_OK(e->Put("x", "v"));
  CHECK_OK(e->Remove("x"));
  for (int i = 0; i < 4; i++) csmap::Epochs::Collect();
  const uint64_t held = csmap::Epochs::Pending();
  release = true;
  reader.join();
  for (int i = 0; i < 4; i++) csmap::Epochs::Collect();
  CHECK(held == 1);
  CHECK(csmap::Epochs::Pending() == 0);
}

// Writers on overlapping keys (puts, overwrites, removes, batches) while readers iterate in
// both directions: every walk is strictly ordered, the final state is one the writers could
// have produced (every key holds a value some thread wrote for it), and the pool reopens to
// the same state.
PMEMKV_TEST(ThreadsWriteOverlappingKeysWhileOthersIterate) {
  const Config c = MakeConfig("threads", 64 * kMiB);
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(c, &e));
  constexpr int kWriters = 4, kKeys = 2000, kOps = 20000;
  std::atomic<bool> stop{false};
  std::atomic<int> disorder{0}, failures{0}, walks{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; w++) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(100 + w);
      for (int i = 0; i < kOps; i++) {
        const std::string k = Key(static_cast<int>(rng() % kKeys));
        const unsigned op = rng() % 20;
        Status s;
        if (op < 12) {
          s = e->Put(k, k + "=" + std::to_string(w));
        } else if (op < 18) {
          s = e->Remove(k);
          if (s.IsNotFound()) s = Status::OK();
        } else if (op < 19) {
          std::vector<pmemkv::BatchOp> ops;
          for (int j = 0; j < 5; j++) {
            const std::string bk = Key(static_cast<int>(rng() % kKeys));
            ops.push_back({j % 2 == 0, bk, bk + "=" + std::to_string(w)});
          }
          s = e->Batch(ops);
        } else {
          ValueCopy v;
          s = e->Get(k, v);
          if (s.ok() && v.value.compare(0, k.size() + 1, k + "=") != 0) failures++;
          if (s.IsNotFound()) s = Status::OK();
        }
        if (!s.ok()) failures++;
      }
    });
  }
  for (int r = 0; r < 2; r++) {
    threads.emplace_back([&, r] {
      while (!stop) {
        std::unique_ptr<Cursor> cur;
        if (!e->NewCursor(&cur).ok()) {
          failures++;
          return;
        }
        std::string last;
        bool first = true;
        if (r == 0) {
          for (cur->SeekToFirst(); cur->Valid(); cur->Next()) {
            const std::string k(cur->key());
            if (!first && k <= last) disorder++;
            if (std::string(cur->value()).compare(0, k.size() + 1, k + "=") != 0) failures++;
            last = k;
            first = false;
          }
        } else {
          for (cur->SeekToLast(); cur->Valid(); cur->Prev()) {
            const std::string k(cur->key());
            if (!first && k >= last) disorder++;
            last = k;
            first = false;
          }
        }
        walks++;
      }
    });
  }
  for (int w = 0; w < kWriters; w++) threads[w].join();
  stop = true;
  for (size_t t = kWriters; t < threads.size(); t++) threads[t].join();
  CHECK(failures == 0);
  CHECK(disorder == 0);
  CHECK(walks > 0);
  const std::string problem = AsMap(e).Verify();
  CHECK(problem.empty());
  auto before = Walk(*e, false);
  for (const auto& kv : before) CHECK(kv.second.compare(0, kv.first.size() + 1, kv.first + "=") == 0);
  e.reset();
  CHECK_OK(OpenMap(c, &e));
  CHECK(Walk(*e, false) == before);
  CHECK(AsMap(e).Verify().empty());
}

// Readers of keys present throughout never miss one while a writer's inserts make the hash
// index grow again and again (each rebuild rewrites the chains the readers are walking).
PMEMKV_TEST(LookupsNeverMissDuringIndexGrowth) {
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(MakeConfig("growth", 128 * kMiB), &e));
  constexpr int kStable = 500, kInserts = 150000;
  for (int i = 0; i < kStable; i++) CHECK_OK(e->Put("stable-" + std::to_string(i), "s"));
  const uint64_t buckets_before = AsMap(e).IndexBuckets();
  std::atomic<bool> stop{false};
  std::atomic<int> misses{0}, writes_failed{0};
  std::atomic<uint64_t> lookups{0};
  std::thread writer([&] {
    for (int i = 0; i < kInserts; i++)
      if (!e->Put(Key(i), "").ok()) writes_failed++;
    stop = true;
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; r++) {
    readers.emplace_back([&, r] {
      for (int i = r; !stop; i = (i + 7) % kStable) {
        if (!e->Exists("stable-" + std::to_string(i)).ok()) misses++;
        lookups++;
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  CHECK(writes_failed == 0);
  CHECK(misses == 0);
  CHECK(lookups > 0);
  CHECK(AsMap(e).IndexBuckets() > buckets_before);
  CHECK(AsMap(e).Verify().empty());
}

// Searches that start from the seek index (seek_index.h) while writers fill and empty the map
// around a set of stable keys, so that tables are rebuilt and entries forgotten under them: a
// seek to a stable key lands on it, a seek to a missing one on the next key above it, and a
// stable key is always found. Afterwards the table is checked against the list, and again
// after removes that forget entries and batches that add and remove tall nodes.
PMEMKV_TEST(SeeksFromTheSeekIndexStayExactWhileItIsRebuilt) {
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(MakeConfig("seek", 128 * kMiB), &e));
  constexpr int kStable = 300, kChurn = 30000, kRounds = 3;
  // Stable keys "k<even>", churned keys "k<odd>": every churned key lies between two stable ones.
  const auto key = [](int i) {
    char b[16];
    std::snprintf(b, sizeof b, "k%07d", i);
    return std::string(b);
  };
  for (int i = 0; i < kStable; i++) CHECK_OK(e->Put(key(2 * i * (kChurn / kStable)), "s"));
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0}, writes_failed{0};
  std::atomic<uint64_t> seeks{0};
  std::thread writer([&] {
    std::mt19937 rng(7);
    for (int r = 0; r < kRounds; r++) {
      std::vector<int> order(kChurn);
      for (int i = 0; i < kChurn; i++) order[i] = 2 * i + 1;
      std::shuffle(order.begin(), order.end(), rng);
      for (int k : order)
        if (!e->Put(key(k), "c").ok()) writes_failed++;
      std::shuffle(order.begin(), order.end(), rng);
      for (int k : order)
        if (!e->Remove(key(k)).ok()) writes_failed++;
    }
    stop = true;
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; r++) {
    readers.emplace_back([&, r] {
      std::unique_ptr<Cursor> cur;
      if (!e->NewCursor(&cur).ok()) {
        wrong++;
        return;
      }
      for (int i = r; !stop; i = (i + 13) % kStable) {
        const int s = 2 * i * (kChurn / kStable);
        cur->Seek(key(s));
        if (!cur->Valid() || cur->key() != key(s)) wrong++;
        // Just below the stable key: every key between is churned or absent, so the seek lands
        // on a churned key or on the stable one, never past it.
        const std::string below = key(s - 1) + "~";
        if (s > 0) {
          cur->Seek(below);
          if (!cur->Valid() || cur->key() < below || cur->key() > key(s)) wrong++;
        }
        cur->SeekForPrev(key(s));
        if (!cur->Valid() || cur->key() != key(s)) wrong++;
        if (!e->Exists(key(s)).ok()) wrong++;
        seeks++;
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  CHECK(writes_failed == 0);
  CHECK(wrong == 0);
  CHECK(seeks > 0);
  CHECK(AsMap(e).Verify().empty());

  // Single-threaded: a table with entries, kept exact across removes and batches.
  for (int i = 0; i < kChurn; i++) CHECK_OK(e->Put(key(2 * i + 1), "c"));
  CHECK(AsMap(e).SeekEntries() > 0);
  CHECK(AsMap(e).Verify().empty());
  for (int i = 0; i < kChurn; i += 3) CHECK_OK(e->Remove(key(2 * i + 1)));
  CHECK(AsMap(e).Verify().empty());
  std::vector<pmemkv::BatchOp> ops;
  for (int i = 1; i < kChurn; i += 3) {
    const std::string k = key(2 * i + 1);
    ops.push_back({i % 2 == 0, k, "b"});
  }
  CHECK_OK(e->Batch(ops));
  CHECK(AsMap(e).Verify().empty());
  // Reopened: the table is rebuilt from the list, and seeks agree with a walk.
  const std::vector<std::pair<std::string, std::string>> before = Walk(*e, false);
  e.reset();
  CHECK_OK(OpenMap(MakeConfig("seek", 128 * kMiB), &e));
  CHECK(AsMap(e).SeekEntries() > 0);
  CHECK(AsMap(e).Verify().empty());
  CHECK(Walk(*e, false) == before);
  std::unique_ptr<Cursor> cur;
  CHECK_OK(e->NewCursor(&cur));
  for (size_t i = 0; i < before.size(); i += 97) {
    cur->Seek(before[i].first);
    CHECK(cur->Valid() && cur->key() == before[i].first);
    cur->Seek(before[i].first + "\x01");
    CHECK(i + 1 < before.size() ? cur->Valid() && cur->key() == before[i + 1].first : !cur->Valid());
  }
}

// Opens a closed pool through libpmemobj directly and runs edit(pop, root).
template <class Edit>
bool EditPool(const std::string& path, Edit edit) {
  PMEMobjpool* pop = pmemobj_open(path.c_str(), csmap::kLayoutName);
  if (pop == nullptr) return false;
  auto* root = static_cast<csmap::Root*>(pmemobj_direct(pmemobj_root(pop, sizeof(csmap::Root))));
  const bool done = edit(pop, root);
  pmemobj_close(pop);
  return done;
}

// The first slab of the pool, or OID_NULL.
PMEMoid FirstOfType(PMEMobjpool* pop, uint64_t type) {
  for (PMEMoid oid = pmemobj_first(pop); !OID_IS_NULL(oid); oid = pmemobj_next(oid))
    if (pmemobj_type_num(oid) == type) return oid;
  return OID_NULL;
}

// Offsets (inside the slab) of the records a walk of the slab reads, and where it stops.
std::vector<uint64_t> SlabRecords(const char* slab, uint64_t size, uint64_t salt, uint64_t* end) {
  std::vector<uint64_t> out;
  uint64_t pos = 0;
  while (size - pos >= sizeof(csmap::Record) &&
         csmap::ValidRecord(reinterpret_cast<const csmap::Record*>(slab + pos), size - pos, salt)) {
    out.push_back(pos);
    pos += reinterpret_cast<const csmap::Record*>(slab + pos)->bytes();
  }
  *end = pos;
  return out;
}

// Writes a whole, persisted record at p.
void WriteRecord(PMEMobjpool* pop, char* p, uint64_t salt, uint64_t seq, bool dead, const std::string& key,
                 const std::string& value) {
  auto* r = reinterpret_cast<csmap::Record*>(p);
  r->key_size = static_cast<uint32_t>(key.size());
  r->value_size = static_cast<uint32_t>(value.size());
  std::memcpy(r->mutable_data(), key.data(), key.size());
  std::memcpy(r->mutable_data() + key.size(), value.data(), value.size());
  r->checksum = csmap::RecordChecksum(salt, seq, r->key_size, r->value_size, r->key());
  r->seq = seq | (dead ? csmap::kDeadBit : 0);
  pmemobj_persist(pop, r, r->bytes());
}

// A record whose bytes after the first cache line never reached the media ends the walk of
// its slab: the records before it are there, it is not, and writing goes on after it.
PMEMKV_TEST(TornLastRecordEndsTheSlab) {
  const Config c = MakeConfig("torn");
  {
    std::unique_ptr<Engine> e;
    CHECK_OK(OpenMap(c, &e));
    CHECK_OK(e->Put("a", "A"));
    CHECK_OK(e->Put("b", "B"));
    CHECK_OK(e->Put("torn", std::string(300, 't')));
  }
  CHECK(EditPool(c.path, [](PMEMobjpool* pop, csmap::Root* root) {
    const PMEMoid slab = FirstOfType(pop, csmap::kSlabTypeNum);
    if (OID_IS_NULL(slab)) return false;
    char* base = static_cast<char*>(pmemobj_direct(slab));
    uint64_t end = 0;
    const auto recs = SlabRecords(base, pmemobj_alloc_usable_size(slab), root->salt, &end);
    if (recs.size() != 3) return false;
    char* last = base + recs[2];
    std::memset(last + 64, 0, 200);  // the value's later lines: still the old (zero) bytes
    pmemobj_persist(pop, last + 64, 200);
    return true;
  }));
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(c, &e));
  CHECK(Get(*e, "a") == "A" && Get(*e, "b") == "B" && Get(*e, "torn") == "<absent>");
  CHECK(AsMap(e).Verify().empty());
  for (int i = 0; i < 100; i++) CHECK_OK(e->Put(Key(i), "after"));
  e.reset();
  CHECK_OK(OpenMap(c, &e));
  for (int i = 0; i < 100; i++) CHECK(Get(*e, Key(i)) == "after");
  CHECK(Get(*e, "a") == "A" && Get(*e, "torn") == "<absent>");
  CHECK(AsMap(e).Verify().empty());
}

// Two live records of one key (a crash between an overwrite's two persists, or a cleaner's
// copy): the higher seq wins, an equal copy counts once, and open makes the losers dead.
PMEMKV_TEST(DuplicateLiveRecordsResolveBySeq) {
  const Config c = MakeConfig("duplicate");
  {
    std::unique_ptr<Engine> e;
    CHECK_OK(OpenMap(c, &e));
    CHECK_OK(e->Put("k", "current"));
    CHECK_OK(e->Put("m", "current m"));
    CHECK_OK(e->Put("n", "n"));
  }
  CHECK(EditPool(c.path, [](PMEMobjpool* pop, csmap::Root* root) {
    const PMEMoid slab = FirstOfType(pop, csmap::kSlabTypeNum);
    if (OID_IS_NULL(slab)) return false;
    char* base = static_cast<char*>(pmemobj_direct(slab));
    uint64_t end = 0;
    const auto recs = SlabRecords(base, pmemobj_alloc_usable_size(slab), root->salt, &end);
    if (recs.size() != 3) return false;
    const auto* k = reinterpret_cast<const csmap::Record*>(base + recs[0]);
    const auto* n = reinterpret_cast<const csmap::Record*>(base + recs[2]);
    char* at = base + end;
    WriteRecord(pop, at, root->salt, k->seq_number(), false, "k", "current");  // an equal copy (the cleaner's)
    at += reinterpret_cast<csmap::Record*>(at)->bytes();
    WriteRecord(pop, at, root->salt, 1000, false, "m", "newer m");  // a higher seq for m
    at += reinterpret_cast<csmap::Record*>(at)->bytes();
    WriteRecord(pop, at, root->salt, 1, false, "n", "older n");  // a lower seq for n
    return n->seq_number() > 1;
  }));
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(c, &e));
  CHECK(Get(*e, "k") == "current");
  CHECK(Get(*e, "m") == "newer m");
  CHECK(Get(*e, "n") == "n");
  uint64_t count = 0;
  CHECK_OK(e->Count(KeyRange{}, &count));
  CHECK(count == 3);
  CHECK(AsMap(e).Verify().empty());  // one live record per key: the losers are dead now
  CHECK_OK(e->Put("later", "x"));    // seqs go on above the highest one found (1000)
  CHECK_OK(e->Remove("m"));
  e.reset();
  CHECK_OK(OpenMap(c, &e));
  CHECK(Get(*e, "m") == "<absent>" && Get(*e, "later") == "x" && Get(*e, "k") == "current");
  CHECK(AsMap(e).Verify().empty());
}

// A damaged slab (a size that leaves the slab, a wrong checksum before records that are
// live) and a damaged large record are refused with a message, not followed.
PMEMKV_TEST(DamagedRecordsAreRefused) {
  for (int variant = 0; variant < 3; variant++) {
    const Config c = MakeConfig("damaged-" + std::to_string(variant));
    {
      std::unique_ptr<Engine> e;
      CHECK_OK(OpenMap(c, &e));
      CHECK_OK(e->Put("k", "v"));
      CHECK_OK(e->Put("l", "w"));
      CHECK_OK(e->Put("big", std::string(5000, 'b')));
    }
    CHECK(EditPool(c.path, [variant](PMEMobjpool* pop, csmap::Root*) {
      const PMEMoid oid = FirstOfType(pop, variant == 2 ? csmap::kLargeTypeNum : csmap::kSlabTypeNum);
      if (OID_IS_NULL(oid)) return false;
      auto* r = static_cast<csmap::Record*>(pmemobj_direct(oid));
      if (variant == 0) r->value_size = 0xFFFFFFF0u;
      if (variant == 1) r->checksum ^= 1;
      if (variant == 2) r->key_size = 0xFFFFFFF0u;
      pmemobj_persist(pop, r, sizeof *r);
      return true;
    }));
    std::unique_ptr<Engine> e;
    Status s = OpenMap(c, &e);
    CHECK(s.code() == Code::kUnknownError);
    CHECK(s.message().find("damaged") != std::string::npos);
    CHECK(s.message().find(variant == 2 ? "large record" : "not a whole record") != std::string::npos);
  }
}

// The cleaner moves the live records of sparse slabs and frees the slabs; a key removed after
// its record moved stays removed across a reopen (the original is dead).
PMEMKV_TEST(CleanerCompactsAndRemovesStayRemoved) {
  const Config c = MakeConfig("cleaner", 16 * kMiB);
  std::map<std::string, std::string> model;
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(c, &e));
  for (int i = 0; i < 20000; i++) {
    CHECK_OK(e->Put(Key(i), std::string(150, 'a' + i % 26)));
    model[Key(i)] = std::string(150, 'a' + i % 26);
  }
  for (int i = 0; i < 20000; i++) {
    if (i % 10 == 0) continue;
    CHECK_OK(e->Remove(Key(i)));
    model.erase(Key(i));
  }
  const uint64_t before = AsMap(e).SlabCount();
  AsMap(e).CleanAllForTest(1);
  CHECK(AsMap(e).SlabCount() < before);
  CHECK(AsMap(e).Verify().empty());
  for (int i = 0; i < 20000; i += 20) {
    CHECK_OK(e->Remove(Key(i)));
    model.erase(Key(i));
  }
  e.reset();
  CHECK_OK(OpenMap(c, &e));
  CHECK(Walk(*e, false) == Forward(model));
  CHECK(AsMap(e).Verify().empty());
}

// Overwrites of many times the pool's size succeed only because the cleaner reclaims the
// slabs' garbage as it goes; two writers and a reader run at once.
PMEMKV_TEST(CleanerKeepsUpWithOverwrites) {
  const Config c = MakeConfig("cleaner-overwrites", 16 * kMiB);
  std::unique_ptr<Engine> e;
  CHECK_OK(OpenMap(c, &e));
  constexpr int kKeys = 4000, kRounds = 40;
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; w++) {
    writers.emplace_back([&, w] {
      for (int r = 0; r < kRounds; r++)
        for (int i = w; i < kKeys; i += 2)
          if (!e->Put(Key(i), Key(i) + "=" + std::to_string(r) + std::string(200, 'o')).ok()) failures++;
    });
  }
  std::thread reader([&] {
    while (!stop)
      for (int i = 0; i < kKeys && !stop; i += 7) {
        ValueCopy v;
        Status s = e->Get(Key(i), v);
        if (s.ok() && v.value.compare(0, Key(i).size() + 1, Key(i) + "=") != 0) failures++;
      }
  });
  for (auto& t : writers) t.join();
  stop = true;
  reader.join();
  CHECK(failures == 0);
  CHECK(AsMap(e).Verify().empty());
  e.reset();
  CHECK_OK(OpenMap(c, &e));
  for (int i = 0; i < kKeys; i++) CHECK(Get(*e, Key(i)) == Key(i) + "=" + std::to_string(kRounds - 1) + std::string(200, 'o'));
  CHECK(AsMap(e).Verify().empty());
}

// A version 1 pool (one object per record) built by hand is upgraded on open; a crash at any
// point of the upgrade leaves a pool that upgrades on the next open.
void MakeVersion1Pool(const Config& c, int keys, std::map<std::string, std::string>* model) {
  {
    std::unique_ptr<Engine> e;
    CHECK_OK(OpenMap(c, &e));
  }
  CHECK(EditPool(c.path, [&](PMEMobjpool* pop, csmap::Root* root) {
    std::vector<PMEMoid> v2;
    for (PMEMoid oid = pmemobj_first(pop); !OID_IS_NULL(oid); oid = pmemobj_next(oid)) v2.push_back(oid);
    for (PMEMoid oid : v2) pmemobj_free(&oid);
    TX_BEGIN(pop) {
      pmemobj_tx_add_range_direct(root, sizeof *root);
      root->version = 1;
      root->journal = 0;
      root->salt = 0;
    }
    TX_END
    for (int i = 0; i < keys; i++) {
      const std::string key = Key(i);
      const std::string value = i % 97 == 0 ? std::string(3000, 'L') : "v1-" + std::to_string(i);
      PMEMoid oid;
      if (pmemobj_alloc(pop, &oid, sizeof(csmap::V1Record) + key.size() + value.size(), csmap::kV1RecordTypeNum, nullptr,
                        nullptr) != 0)
        return false;
      auto* r = static_cast<csmap::V1Record*>(pmemobj_direct(oid));
      r->key_size = static_cast<uint32_t>(key.size());
      r->value_size = static_cast<uint32_t>(value.size());
      char* data = reinterpret_cast<char*>(r + 1);
      std::memcpy(data, key.data(), key.size());
      std::memcpy(data + key.size(), value.data(), value.size());
      pmemobj_persist(pop, r, sizeof *r + key.size() + value.size());
      (*model)[key] = value;
    }
    return true;
  }));
}

const char* g_crash_step = nullptr;
int g_crash_countdown = 0;

void KillAtStep(const char* step) {
  if (g_crash_step != nullptr && std::strcmp(step, g_crash_step) == 0 && --g_crash_countdown == 0) raise(SIGKILL);
}

// Runs op in a child process that is SIGKILLed the nth time it reaches `step`.
void RunKilled(const char* step, int nth, const std::function<void()>& op) {
  const pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    g_crash_step = step;
    g_crash_countdown = nth;
    pmemkv::SetCrashHook(&KillAtStep);
    op();
    _exit(3);  // the step was never reached
  }
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

PMEMKV_TEST(Version1PoolIsUpgraded) {
  struct Kill {
    const char* step;
    int nth;
  };
  const std::vector<Kill> kills = {{nullptr, 0}, {"upgrade: record copied", 1}, {"upgrade: record copied", 700},
                                   {"upgrade: version 2", 1}};
  int index = 0;
  for (const Kill& k : kills) {
    const Config c = MakeConfig("upgrade-" + std::to_string(index++), 16 * kMiB);
    std::map<std::string, std::string> model;
    MakeVersion1Pool(c, 1500, &model);
    if (k.step != nullptr) {
      RunKilled(k.step, k.nth, [&] {
        std::unique_ptr<Engine> e;
        OpenMap(c, &e);
      });
      if (k.nth == 1 && std::strcmp(k.step, "upgrade: record copied") == 0) {
        // Killed again in the rerun, later: the attempt's leftovers are discarded twice.
        RunKilled("upgrade: record copied", 900, [&] {
          std::unique_ptr<Engine> e;
          OpenMap(c, &e);
        });
      }
    }
    std::unique_ptr<Engine> e;
    CHECK_OK(OpenMap(c, &e));
    CHECK(Walk(*e, false) == Forward(model));
    CHECK(AsMap(e).Verify().empty());  // no version 1 object left, one live record per key
    CHECK_OK(e->Put(Key(3), "after upgrade"));
    CHECK_OK(e->Remove(Key(4)));
    model[Key(3)] = "after upgrade";
    model.erase(Key(4));
    e.reset();
    CHECK_OK(OpenMap(c, &e));
    CHECK(Walk(*e, false) == Forward(model));
    bool v2 = false;
    e.reset();
    CHECK(EditPool(c.path, [&](PMEMobjpool*, csmap::Root* root) {
      v2 = root->version == 2 && root->salt != 0 && root->journal != 0;
      return true;
    }));
    CHECK(v2);
  }
}

// Crash points: a child process runs one operation on a pool and is SIGKILLed at a named step
// of it (the `nth` time the step is reached); the reopened pool holds the state before the
// operation or after it, as the step's place before or after the commit point says, and
// passes Verify.
struct CrashCase {
  const char* name;
  const char* step;
  int nth;
  bool applied;  // the operation is there after the kill
  std::function<Status(Engine&)> op;
};

const std::string kLarge(5000, 'L');

PMEMKV_TEST(KilledAtEachStepLeavesOldOrNewState) {
  const std::vector<pmemkv::BatchOp> batch = {{true, "a", "A2"}, {true, "new", "N"}, {false, "b", ""}};
  const std::vector<pmemkv::BatchOp> large_batch = {{true, "a", kLarge}, {true, "big", "small now"}, {false, "c", ""}};
  // More stores than the journal of a 16 MiB pool holds: committed as one publish instead.
  std::vector<std::string> many_keys;
  for (int i = 0; i < 4500; i++) many_keys.push_back("many-" + std::to_string(i));
  std::vector<pmemkv::BatchOp> huge_batch = {{true, "a", "A3"}, {false, "b", ""}};
  for (const std::string& k : many_keys) huge_batch.push_back({true, k, "m"});
  const std::vector<CrashCase> cases = {
      {"insert persisted", "record persisted", 1, true, [](Engine& e) { return e.Put("new", "N"); }},
      {"overwrite: new persisted, old live", "record persisted", 1, true, [](Engine& e) { return e.Put("a", "A2"); }},
      {"overwrite: old dead", "old record dead", 1, true, [](Engine& e) { return e.Put("a", "A2"); }},
      {"overwrite of a large record: new persisted", "record persisted", 1, true,
       [](Engine& e) { return e.Put("big", "small"); }},
      {"large overwrite: new persisted", "record persisted", 1, true, [](Engine& e) { return e.Put("a", kLarge); }},
      {"remove: dead bit persisted", "old record dead", 1, true, [](Engine& e) { return e.Remove("a"); }},
      {"remove of a large record", "old record dead", 1, true, [](Engine& e) { return e.Remove("big"); }},
      {"batch: records written", "batch records written", 1, false, [&](Engine& e) { return e.Batch(batch); }},
      {"batch: committed", "batch committed", 1, true, [&](Engine& e) { return e.Batch(batch); }},
      {"batch with large records: written", "batch records written", 1, false,
       [&](Engine& e) { return e.Batch(large_batch); }},
      {"batch with large records: committed", "batch committed", 1, true, [&](Engine& e) { return e.Batch(large_batch); }},
      // Direct writes after a batch whose commit is still in the log (checkpointed only when
      // the log fills): the reopen's redo of that commit must not undo them.
      {"writes after a logged batch", "remove persisted", 1, true,
       [&](Engine& e) {
         Status s = e.Batch(batch);
         if (s.ok()) s = e.Put("new", "N2");
         if (s.ok()) s = e.Remove("a");
         return s;
       }},
      {"writes after a logged batch, then another batch", "batch committed", 2, true,
       [&](Engine& e) {
         Status s = e.Batch(batch);
         if (s.ok()) s = e.Remove("new");
         if (s.ok()) s = e.Batch({{true, "d", "D"}, {false, "a", ""}});
         return s;
       }},
      {"batch past the journal: written", "batch records written", 1, false, [&](Engine& e) { return e.Batch(huge_batch); }},
      {"batch past the journal: committed", "batch committed", 1, true, [&](Engine& e) { return e.Batch(huge_batch); }},
      {"cleaner: copies persisted", "cleaner copies persisted", 1, true,
       [](Engine& e) {
         static_cast<CSMap&>(e).CleanAllForTest(1);
         return Status::OK();
       }},
      {"cleaner: copies live", "cleaner copies live", 1, true,
       [](Engine& e) {
         static_cast<CSMap&>(e).CleanAllForTest(1);
         return Status::OK();
       }},
      {"cleaner: originals dead", "cleaner originals dead", 1, true,
       [](Engine& e) {
         static_cast<CSMap&>(e).CleanAllForTest(1);
         return Status::OK();
       }},
  };
  const auto prepare = [](Engine& e) {
    CHECK_OK(e.Put("a", "A1"));
    CHECK_OK(e.Put("b", "B1"));
    CHECK_OK(e.Put("c", "C1"));
    CHECK_OK(e.Put("big", kLarge));
    // Sparse slabs for the cleaner: many records, most removed.
    for (int i = 0; i < 6000; i++) CHECK_OK(e.Put(Key(i), std::string(100, 'p')));
    for (int i = 0; i < 6000; i++)
      if (i % 8 != 0) CHECK_OK(e.Remove(Key(i)));
  };
  int index = 0;
  for (const CrashCase& c : cases) {
    const Config cfg = MakeConfig("crash-" + std::to_string(index++), 16 * kMiB);
    {
      std::unique_ptr<Engine> e;
      CHECK_OK(OpenMap(cfg, &e));
      prepare(*e);
    }
    RunKilled(c.step, c.nth, [&] {
      std::unique_ptr<Engine> e;
      if (!OpenMap(cfg, &e).ok()) _exit(2);
      c.op(*e);
    });
    std::unique_ptr<Engine> e;
    CHECK_OK(OpenMap(cfg, &e));
    std::unique_ptr<Engine> model_engine;
    // The state before or after the operation, from the same operation on an uninterrupted copy.
    const Config mcfg = MakeConfig("crash-model-" + std::to_string(index), 16 * kMiB);
    CHECK_OK(OpenMap(mcfg, &model_engine));
    prepare(*model_engine);
    if (c.applied) CHECK_OK(c.op(*model_engine));
    const auto got = Walk(*e, false);
    if (got != Walk(*model_engine, false)) std::fprintf(stderr, "crash case: %s\n", c.name);
    CHECK(got == Walk(*model_engine, false));
    const std::string problem = AsMap(e).Verify();
    if (!problem.empty()) std::fprintf(stderr, "crash case: %s: %s\n", c.name, problem.c_str());
    CHECK(problem.empty());
    // Writing goes on after the recovered state, and survives another reopen.
    CHECK_OK(e->Put("after", "X"));
    e.reset();
    CHECK_OK(OpenMap(cfg, &e));
    CHECK(Get(*e, "after") == "X");
    CHECK(AsMap(e).Verify().empty());
  }
}

}  // namespace

int main() { return pmemkv::testing::RunAll(); }
