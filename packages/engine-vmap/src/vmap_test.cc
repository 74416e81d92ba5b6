// Native unit tests of vmap (no Node.js): order and cursor moves in both directions,
// overwrite and remove through both structures, the DRAM size limit, the file-backed heap.
#include "vmap.h"

#include <dirent.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include <pmemkv/testing.h>

using pmemkv::Config;
using pmemkv::Engine;
using pmemkv::Slice;
using pmemkv::vmap::VMap;

namespace {

std::unique_ptr<Engine> OpenVMap(const Config& cfg) {
  std::unique_ptr<Engine> e;
  if (!VMap::Open(cfg, &e).ok()) return nullptr;
  return e;
}

std::vector<std::string> Forward(pmemkv::Cursor& c) {
  std::vector<std::string> keys;
  for (c.SeekToFirst(); c.Valid(); c.Next()) keys.emplace_back(c.key());
  return keys;
}

}  // namespace

PMEMKV_TEST(CursorWalksBytewiseOrderBothWays) {
  auto e = OpenVMap(Config{});
  CHECK(e != nullptr);
  for (const std::string& k : std::vector<std::string>{"b", "a", std::string("a\0", 2), "", "\xff", "ab"}) CHECK_OK(e->Put(k, "v" + k));
  std::unique_ptr<pmemkv::Cursor> c;
  CHECK_OK(e->NewCursor(&c));
  CHECK((Forward(*c) == std::vector<std::string>{"", "a", std::string("a\0", 2), "ab", "b", "\xff"}));
  c->SeekToLast();
  CHECK(c->Valid() && c->key() == "\xff");
  c->SeekForPrev("aa");
  CHECK(c->Valid() && c->key() == std::string("a\0", 2));
  c->Seek("ac");
  CHECK(c->Valid() && c->key() == "b");
  c->SeekToFirst();
  c->Prev();
  CHECK(!c->Valid());
  c->SeekForPrev("");
  CHECK(c->Valid() && c->key().empty());
  c->Seek("\xff\xff");
  CHECK(!c->Valid());
}

PMEMKV_TEST(OverwriteAndRemoveKeepSetAndIndexTogether) {
  auto e = OpenVMap(Config{});
  CHECK(e != nullptr);
  for (int i = 0; i < 5000; i++) CHECK_OK(e->Put("k" + std::to_string(i), std::string(i % 50, 'x')));
  for (int i = 0; i < 5000; i += 2) CHECK_OK(e->Put("k" + std::to_string(i), "new"));
  for (int i = 0; i < 5000; i += 3) CHECK_OK(e->Remove("k" + std::to_string(i)));
  CHECK(e->Remove("k0").IsNotFound());
  uint64_t n = 0;
  CHECK_OK(e->Count(pmemkv::KeyRange{}, &n));
  CHECK(n == 5000 - 1667);
  std::unique_ptr<pmemkv::Cursor> c;
  CHECK_OK(e->NewCursor(&c));
  CHECK(Forward(*c).size() == n);
  pmemkv::testing::ValueCopy keep;
  CHECK_OK(e->Get("k2", keep));
  CHECK(keep.value == "new");
  CHECK(e->Get("k3", keep).IsNotFound());
  CHECK_OK(e->Get("k1", keep));
  CHECK(keep.value == "x");
}

PMEMKV_TEST(SizeLimitRefusesPutsAndKeepsEverything) {
  Config cfg;
  cfg.size = 1 << 20;
  auto e = OpenVMap(cfg);
  CHECK(e != nullptr);
  int stored = 0;
  pmemkv::Status s;
  for (; stored < 100000; stored++) {
    s = e->Put("key" + std::to_string(stored), std::string(100, 'v'));
    if (!s.ok()) break;
  }
  CHECK(s.code() == pmemkv::Code::kOutOfMemory);
  CHECK(stored > 1000);
  pmemkv::testing::ValueCopy keep;
  for (int i = 0; i < stored; i++) CHECK_OK(e->Get("key" + std::to_string(i), keep));
  CHECK(e->Exists("key" + std::to_string(stored)).IsNotFound());
  for (int i = 0; i < stored; i += 2) CHECK_OK(e->Remove("key" + std::to_string(i)));
  CHECK_OK(e->Put("again", std::string(100, 'v')));
}

PMEMKV_TEST(FileBackedHeapLivesInTheDirectoryAndIsFull) {
  Config cfg;
  cfg.path = pmemkv::testing::PoolPath("heap");
  CHECK(::mkdir(cfg.path.c_str(), 0700) == 0);
  Config no_size = cfg;
  CHECK(VMap::Open(no_size, nullptr).code() == pmemkv::Code::kInvalidArgument);
  cfg.size = 4 << 20;
  auto e = OpenVMap(cfg);
  CHECK(e != nullptr);
  pmemkv::Status s;
  int stored = 0;
  for (; stored < 100000 && s.ok(); stored++) s = e->Put("key" + std::to_string(stored), std::string(1000, 'v'));
  CHECK(s.code() == pmemkv::Code::kOutOfMemory);
  CHECK(stored > 3000);
  pmemkv::testing::ValueCopy keep;
  CHECK_OK(e->Get("key0", keep));
  CHECK(keep.value.size() == 1000);
  Config file = cfg;
  file.path += "/not-a-dir";
  CHECK(OpenVMap(file) == nullptr);
}

int main() { return pmemkv::testing::RunAll(); }
