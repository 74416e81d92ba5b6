// "fixture": the smallest persistent engine that exercises the whole SDK, for the SDK's own
// tests (pool.h, tx.h, glue.h). Not a product engine.
//
// Layout "pmemkv_fixture": a root object { count } and one object per entry (type kEntryType):
// [u64 key size][u64 value size][key bytes][value bytes]. A DRAM std::map indexes the entries
// and is rebuilt on open by walking the pool's objects.
//
// Invariant: root.count == number of entry objects. Every change allocates/frees entry
// objects and rewrites root.count in one transaction, so a crash leaves both old or both new.
//
// Registered kSerialized: std::map is not thread-safe, the glue's mutex guards it.
//
// With no path and `volatile: true` in the config, Open returns a VolatileMap instead: a DRAM
// map with no pool, for testing how the glue treats engines that are not persistent.
//
// Test hooks (keys, on put): "throw:runtime" and "throw:bad_alloc" throw inside the
// transaction after allocating; "tx:foreign" calls the SDK inside a libpmemobj transaction of
// its own (as an application's would be); "tx:nested" runs a scope inside a scope (they join).
// On get, "throw:get" throws outside any transaction.
#include <pmemkv/glue.h>
#include <pmemkv/pool.h>
#include <pmemkv/tx.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <map>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace pmemkv;

constexpr uint64_t kEntryType = 1;

struct Root {
  uint64_t count;
};

struct EntryHeader {
  uint64_t key_size;
  uint64_t value_size;
};

class VolatileMap final : public Engine {
 public:
  Status Put(Slice key, Slice value) override {
    map_[std::string(key)] = std::string(value);
    return Status::OK();
  }
  Status Get(Slice key, ValueReceiver& out) override {
    auto it = map_.find(std::string(key));
    if (it == map_.end()) return Status::NotFound();
    out.Receive(it->second);
    return Status::OK();
  }
  Status Remove(Slice key) override { return map_.erase(std::string(key)) == 1 ? Status::OK() : Status::NotFound(); }
  Status NewCursor(std::unique_ptr<Cursor>*) override { return Status::NotSupported("the volatile fixture does not walk"); }

 private:
  std::map<std::string, std::string> map_;
};

class MapCursor final : public Cursor {
 public:
  explicit MapCursor(const std::map<std::string, PMEMoid>& map) : map_(map), it_(map.end()) {}
  void SeekToFirst() override { it_ = map_.begin(); }
  void SeekToLast() override { it_ = map_.empty() ? map_.end() : std::prev(map_.end()); }
  void Seek(Slice t) override { it_ = map_.lower_bound(std::string(t)); }
  void SeekForPrev(Slice t) override {
    it_ = map_.upper_bound(std::string(t));
    it_ = it_ == map_.begin() ? map_.end() : std::prev(it_);
  }
  void Next() override { ++it_; }
  void Prev() override { it_ = it_ == map_.begin() ? map_.end() : std::prev(it_); }
  bool Valid() const override { return it_ != map_.end(); }
  Slice key() const override { return it_->first; }
  Slice value() const override {
    auto* h = static_cast<const EntryHeader*>(pmemobj_direct(it_->second));
    return Slice(reinterpret_cast<const char*>(h + 1) + h->key_size, h->value_size);
  }

 private:
  const std::map<std::string, PMEMoid>& map_;
  std::map<std::string, PMEMoid>::const_iterator it_;
};

class FixtureEngine final : public Engine {
 public:
  static Status Open(const Config& cfg, std::unique_ptr<Engine>* out) {
    if (cfg.path.empty() && cfg.BoolOr("volatile", false)) {
      out->reset(new VolatileMap());
      return Status::OK();
    }
    std::unique_ptr<Pool> pool;
    Status s = Pool::Open(cfg, "pmemkv_fixture", &pool);
    if (!s.ok()) return s;
    PMEMoid root = pool->Root(sizeof(Root));
    if (OID_IS_NULL(root)) return TxStatus(errno, "cannot allocate the root object");
    std::unique_ptr<FixtureEngine> engine(new FixtureEngine(std::move(pool), root));
    for (PMEMoid oid = pmemobj_first(engine->pop()); !OID_IS_NULL(oid); oid = pmemobj_next(oid))
      if (pmemobj_type_num(oid) == kEntryType) engine->index_.emplace(std::string(KeyOf(oid)), oid);
    if (engine->index_.size() != engine->root_->count)
      return Status::Unknown("pool is inconsistent: root count differs from the entries");
    *out = std::move(engine);
    return Status::OK();
  }

  Status Put(Slice key, Slice value) override {
    if (key == "tx:foreign") {
      if (pmemobj_tx_begin(pop(), nullptr, TX_PARAM_NONE) != 0) return Status::Unknown("cannot begin");
      Status s = RunTx(pop(), [] { return Status::OK(); });
      pmemobj_tx_abort(ECANCELED);
      pmemobj_tx_end();
      return s;
    }
    if (key == "tx:nested") return RunTx(pop(), [&] { return RunTx(pop(), [] { return Status::OK(); }); });
    return Apply({BatchOp{true, std::string(key), std::string(value)}});
  }

  Status Get(Slice key, ValueReceiver& out) override {
    if (key == "throw:get") throw std::runtime_error("get failed on purpose");
    auto it = index_.find(std::string(key));
    if (it == index_.end()) return Status::NotFound();
    out.Receive(ValueOf(it->second));
    return Status::OK();
  }

  Status Remove(Slice key) override {
    if (index_.find(std::string(key)) == index_.end()) return Status::NotFound();
    return Apply({BatchOp{false, std::string(key), std::string()}});
  }

  // A cursor over the DRAM index (the SDK derives Walk and Count from it).
  Status NewCursor(std::unique_ptr<Cursor>* out) override {
    out->reset(new MapCursor(index_));
    return Status::OK();
  }

  // All or nothing: one transaction for the whole batch.
  Status Batch(const std::vector<BatchOp>& ops) override { return Apply(ops); }

 private:
  FixtureEngine(std::unique_ptr<Pool> pool, PMEMoid root)
      : pool_(std::move(pool)), root_(static_cast<Root*>(pmemobj_direct(root))) {}

  PMEMobjpool* pop() const { return pool_->get(); }

  static Slice KeyOf(PMEMoid oid) {
    auto* h = static_cast<const EntryHeader*>(pmemobj_direct(oid));
    return Slice(reinterpret_cast<const char*>(h + 1), h->key_size);
  }
  static Slice ValueOf(PMEMoid oid) {
    auto* h = static_cast<const EntryHeader*>(pmemobj_direct(oid));
    return Slice(reinterpret_cast<const char*>(h + 1) + h->key_size, h->value_size);
  }

  // Applies `ops` in one transaction; the DRAM index follows only after commit.
  Status Apply(const std::vector<BatchOp>& ops) {
    std::map<std::string, PMEMoid> changed;  // key -> its object after the batch (OID_NULL: removed)
    auto current = [&](const std::string& key) {
      auto c = changed.find(key);
      if (c != changed.end()) return c->second;
      auto it = index_.find(key);
      return it == index_.end() ? OID_NULL : it->second;
    };
    Status s = RunTx(pop(), [&]() -> Status {
      uint64_t count = root_->count;
      for (const BatchOp& op : ops) {
        PMEMoid old = current(op.key);
        if (op.is_put) {
          PMEMoid oid;
          Status st = TxAlloc(sizeof(EntryHeader) + op.key.size() + op.value.size(), kEntryType, &oid);
          if (!st.ok()) return st;
          if (op.key == "throw:runtime") throw std::runtime_error("boom");
          if (op.key == "throw:bad_alloc") throw std::bad_alloc();
          // A new object of this transaction: libpmemobj flushes it at commit, no snapshot needed.
          auto* h = static_cast<EntryHeader*>(pmemobj_direct(oid));
          h->key_size = op.key.size();
          h->value_size = op.value.size();
          std::memcpy(h + 1, op.key.data(), op.key.size());
          std::memcpy(reinterpret_cast<char*>(h + 1) + op.key.size(), op.value.data(), op.value.size());
          if (OID_IS_NULL(old))
            count++;
          else if (!(st = TxFree(old)).ok())
            return st;
          changed[op.key] = oid;
        } else if (!OID_IS_NULL(old)) {
          Status st = TxFree(old);
          if (!st.ok()) return st;
          count--;
          changed[op.key] = OID_NULL;
        }
      }
      return TxWrite(&root_->count, &count, sizeof(count));
    });
    if (!s.ok()) return s;
    for (auto& kv : changed) {
      if (OID_IS_NULL(kv.second))
        index_.erase(kv.first);
      else
        index_[kv.first] = kv.second;
    }
    return Status::OK();
  }

  std::unique_ptr<Pool> pool_;  // destroyed last: closes the pool
  Root* root_;
  std::map<std::string, PMEMoid> index_;
};

}  // namespace

constexpr pmemkv::EngineDescriptor kDescriptor = {
    .name = "fixture",
    .layout = "pmemkv_fixture",
    .layout_version = 1,
    .thread_model = pmemkv::kSerialized,
    .persistent = true,
    .sorted = true,
    .transactions = true,
};

PMEMKV_REGISTER_ENGINE(FixtureEngine, kDescriptor);
