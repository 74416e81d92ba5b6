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
// transaction after allocating; "tx:nested" starts a transaction inside one. On get,
// "throw:get" throws outside any transaction.
#include <pmemkv/glue.h>
#include <pmemkv/pool.h>
#include <pmemkv/tx.h>

#include <cstring>
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

 private:
  std::map<std::string, std::string> map_;
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

  Status Count(const KeyRange& range, uint64_t* count) override {
    uint64_t n = 0;
    for (const auto& kv : index_) n += range.Contains(kv.first) ? 1 : 0;
    *count = n;
    return Status::OK();
  }

  Status Walk(const KeyRange& range, bool reverse, Visitor& visitor) override {
    auto visit = [&](const std::pair<const std::string, PMEMoid>& kv) {
      return range.Contains(kv.first) && visitor.Visit(kv.first, ValueOf(kv.second));
    };
    if (reverse) {
      for (auto it = index_.rbegin(); it != index_.rend(); ++it)
        if (visit(*it)) return Status::StoppedByCallback();
    } else {
      for (const auto& kv : index_)
        if (visit(kv)) return Status::StoppedByCallback();
    }
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

PMEMKV_REGISTER_ENGINE(FixtureEngine, "fixture", pmemkv::kSerialized);
