// vcmap: see vcmap.h for the structure and its invariants.
#include "vcmap.h"

#include <cstring>
#include <new>
#include <string>
#include <utility>

namespace pmemkv {
namespace vcmap {

namespace {
constexpr char kTokenTag = 'v';  // a token: the tag, then the next shard's number (u32)
constexpr size_t kTokenSize = 1 + sizeof(uint32_t);
}  // namespace

VCMap::VCMap(std::unique_ptr<VolatileHeap> heap) : heap_(std::move(heap)) {
  for (auto& shard : shards_) shard.reset(new Shard(*heap_));
}

VCMap::~VCMap() {
  for (auto& shard : shards_) shard->table.ForEach([&](Pair* p) { Pair::Destroy(*heap_, p); });
}

Status VCMap::Put(Slice key, Slice value) {
  Status s = Pair::CheckSizes(key, value, kDescriptor.name);
  if (!s.ok()) return s;
  Pair* pair = Pair::Make(*heap_, key, value);  // outside the lock
  if (pair == nullptr) return Status::OutOfMemory(heap_->FullMessage(kDescriptor.name));
  const uint64_t hash = HashKey(key);
  Shard& shard = ShardOf(hash);
  Pair* old = nullptr;
  bool inserted;
  {
    SpinWriteGuard guard(shard.lock);
    inserted = shard.table.Insert(pair, hash, &old);
  }
  if (!inserted) {  // I3: the table could not grow
    Pair::Destroy(*heap_, pair);
    return Status::OutOfMemory(heap_->FullMessage(kDescriptor.name));
  }
  Pair::Destroy(*heap_, old);  // I2: out of the table, no reader holds it
  return Status::OK();
}

Status VCMap::Get(Slice key, ValueReceiver& out) {
  const uint64_t hash = HashKey(key);
  Shard& shard = ShardOf(hash);
  SharedLockGuard guard(shard.lock);
  const Pair* pair = shard.table.Find(key, hash);
  if (pair == nullptr) return Status::NotFound();
  out.Receive(pair->value());  // I2: copied under the lock
  return Status::OK();
}

Status VCMap::Exists(Slice key) {
  const uint64_t hash = HashKey(key);
  Shard& shard = ShardOf(hash);
  SharedLockGuard guard(shard.lock);
  return shard.table.Find(key, hash) != nullptr ? Status::OK() : Status::NotFound();
}

Status VCMap::Remove(Slice key) {
  const uint64_t hash = HashKey(key);
  Shard& shard = ShardOf(hash);
  Pair* pair;
  {
    SpinWriteGuard guard(shard.lock);
    pair = shard.table.Erase(key, hash);
  }
  if (pair == nullptr) return Status::NotFound();
  Pair::Destroy(*heap_, pair);  // I2
  return Status::OK();
}

// A token: kTokenTag, then the number of the shard to resume at (u32, below kShards).
static bool DecodeToken(Slice token, uint32_t* shard) {
  if (token.size() != kTokenSize || token[0] != kTokenTag) return false;
  std::memcpy(shard, token.data() + 1, sizeof *shard);
  return *shard < VCMap::kShards;
}

Status VCMap::WalkChunk(Slice from, uint64_t limit, Visitor& visitor, std::string* next, bool* more) {
  uint32_t shard = 0;
  if (!from.empty() && !DecodeToken(from, &shard))
    return Status::InvalidArgument("vcmap: this walk token was not made by the vcmap engine");
  EntryCopies copies;
  uint64_t visited = 0;
  for (*more = false; shard < kShards && !*more; shard++) {
    copies.Clear();
    {
      Shard& s = *shards_[shard];
      SharedLockGuard guard(s.lock);
      s.table.ForEach([&](const Pair* p) { copies.Add(p->key(), p->value()); });
    }
    Status s = copies.VisitAll(visitor, &visited);  // after unlocking the shard
    if (!s.ok()) return s;
    *more = visited >= limit && visited > 0 && shard + 1 < kShards;
  }
  if (*more) {
    next->assign(1, kTokenTag);
    next->append(reinterpret_cast<const char*>(&shard), sizeof shard);  // the loop moved past the chunk's last shard
  }
  return Status::OK();
}

Status VCMap::Count(const KeyRange& range, uint64_t* count) {
  if (!range.IsFull()) return Engine::Count(range, count);
  uint64_t n = 0;
  for (auto& shard : shards_) {
    SharedLockGuard guard(shard->lock);
    n += shard->table.size();
  }
  *count = n;
  return Status::OK();
}

}  // namespace vcmap
}  // namespace pmemkv
