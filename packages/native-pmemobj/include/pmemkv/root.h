// OpenRoot: every engine's root object, created and checked the same way.
//
// An engine's root struct begins with a RootHeader { magic, version }. On a new pool the root
// is allocated zeroed; the engine's `init` fills it and magic and version are set last, all in
// one transaction, so a crash leaves either an all-zero root (initialized again at the next
// open) or a complete one. Any other root is refused, the same way by every engine, before
// anything is written to the pool:
//   - a root smaller than the engine's struct, or a zero magic with other bytes set: damaged;
//   - another magic, or a root offset outside the heap: damaged (the layout name already said
//     the pool is this engine's);
//   - another version: a layout version this build does not read (naming both versions). An
//     engine that reads older versions too names the oldest (`oldest_readable`); it finds the
//     version in the root's header and upgrades the pool itself.
#pragma once

#include <libpmemobj.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "pool.h"
#include "status.h"
#include "tx.h"

namespace pmemkv {

struct RootHeader {
  uint64_t magic;    // the engine's magic once initialized; 0 until the initializing tx commits
  uint64_t version;  // the layout version of the code that created the pool
};
static_assert(sizeof(RootHeader) == 16, "persistent format");

// Opens the root of `pool` as a Root (a struct that begins with RootHeader), initializing it
// with init(Root*) -> Status when the pool is new (REQUIRES of init: it runs inside a
// transaction that has already snapshotted the whole root; it may TxAlloc). On success *out
// points at the root. `engine` names the engine in messages. Versions from oldest_readable
// (0: only `version`) up to `version` are accepted.
template <class Root, class Init>
Status OpenRoot(Pool& pool, const char* engine, uint64_t magic, uint64_t version, Init&& init, Root** out,
                uint64_t oldest_readable = 0) {
  static_assert(sizeof(Root) >= sizeof(RootHeader), "a root begins with a RootHeader");
  PMEMobjpool* pop = pool.get();
  // libpmemobj follows the root offset of its descriptor without checking it: an offset
  // outside the heap would make pmemobj_root_size read past the mapping.
  {
    const char* base = reinterpret_cast<const char*>(pop);
    uint64_t root_off = 0, heap = 0;
    std::memcpy(&root_off, base + kDescriptorRootOffsetAt, sizeof root_off);
    std::memcpy(&heap, base + kDescriptorHeapOffsetAt, sizeof heap);
    const uint64_t size = pool.size() != 0 ? pool.size() : UINT64_MAX;
    if (root_off != 0 && (root_off < heap + 16 || root_off >= size || size - root_off < sizeof(RootHeader)))
      return DamagedPool(pool.path(), "its root object offset " + std::to_string(root_off) + " lies outside the pool's heap");
  }
  const size_t existing = pmemobj_root_size(pop);
  if (existing != 0 && existing < sizeof(Root))
    return DamagedPool(pool.path(), std::string(engine) + " root object of " + std::to_string(existing) +
                                        " bytes, expected " + std::to_string(sizeof(Root)));
  PMEMoid oid = pool.Root(sizeof(Root));
  if (OID_IS_NULL(oid))
    return Status::OutOfMemory("the pool at " + pool.path() + " has no room for the " + engine +
                               " root object: create a larger pool (config.size)");
  Root* root = static_cast<Root*>(pmemobj_direct(oid));
  auto* header = reinterpret_cast<RootHeader*>(root);
  if (header->magic == 0) {
    const char* bytes = reinterpret_cast<const char*>(root);
    for (size_t i = 0; i < sizeof(Root); i++)
      if (bytes[i] != 0) return DamagedPool(pool.path(), std::string(engine) + " root without its magic number");
    Status s = RunTx(pop, [&]() -> Status {
      Status st = TxAddRange(root, sizeof(Root));
      if (st.ok()) st = init(root);
      if (!st.ok()) return st;
      header->version = version;
      header->magic = magic;
      return Status::OK();
    });
    if (!s.ok()) return s;
  } else if (header->magic != magic) {
    // The layout name (checked by Pool::Open) says this is the engine's pool: another magic
    // in its root is damage (a root offset or root bytes changed), not another engine's data.
    return DamagedPool(pool.path(), std::string(engine) + " root with another magic number");
  } else if (header->version > version || header->version < (oldest_readable != 0 ? oldest_readable : version)) {
    return Status::InvalidArgument("the pool at " + pool.path() + " has " + engine + " layout version " +
                                   std::to_string(header->version) + " but this build reads version " +
                                   std::to_string(version) + ": open it with the @pmemkv/engine-" + engine +
                                   " release that created it");
  }
  *out = root;
  return Status::OK();
}

// PoolSpan: the bytes of an open single-file pool, for checking persistent offsets and sizes
// before they are followed (a damaged pool must give an error, never a wild read).
class PoolSpan {
 public:
  // `base` is the pool's mapping (pmemobj_direct of offset 0), `size` its length in bytes
  // (the file size of a single-file pool; UINT64_MAX when unknown, e.g. a poolset), and
  // `heap_start` the offset of libpmemobj's heap: every object lies at or above it.
  PoolSpan(const char* base, uint64_t size, uint64_t heap_start = 1) noexcept
      : base_(base), size_(size), heap_start_(heap_start == 0 ? 1 : heap_start) {}

  // True when [off, off + len) lies inside the pool's heap (never in the pool header, the
  // descriptor or the transaction lanes, never past the end).
  bool Contains(uint64_t off, uint64_t len) const noexcept {
    return off >= heap_start_ && off <= size_ && len <= size_ - off;
  }
  const char* base() const noexcept { return base_; }
  uint64_t size() const noexcept { return size_; }
  uint64_t heap_start() const noexcept { return heap_start_; }

 private:
  const char* base_;
  uint64_t size_;
  uint64_t heap_start_;
};


// The span of `pool`: its mapping, the file's size for a single-file pool, and the heap's
// start (from the pool descriptor, which libpmemobj checksums on open; a value outside
// [8 KiB, size) falls back to 8 KiB, the end of the header and descriptor).
inline PoolSpan SpanOf(const Pool& pool) {
  struct stat st;
  std::string layout;
  uint64_t size = UINT64_MAX;
  if (ReadPoolLayout(pool.path(), &layout) && ::stat(pool.path().c_str(), &st) == 0 && S_ISREG(st.st_mode))
    size = static_cast<uint64_t>(st.st_size);
  const char* base = reinterpret_cast<const char*>(pool.get());
  uint64_t heap = 0;
  std::memcpy(&heap, base + kDescriptorHeapOffsetAt, sizeof heap);
  if (heap < 8192 || heap >= size) heap = 8192;
  return PoolSpan(base, size, heap);
}

}  // namespace pmemkv
