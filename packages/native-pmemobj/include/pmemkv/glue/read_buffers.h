// The bound read path's memory: the key area core writes keys into and the value pools the
// engine copies values into (handle methods readKeyArea, newValuePool, getBound in handle.h).
// Part of glue.h, which includes it after <napi.h>; engines include <pmemkv/glue.h> only.
//
// Why native-owned blocks: getBound is called with nothing but lengths and an offset, so the
// glue keeps raw pointers between calls. A JS-owned ArrayBuffer could be detached (transferred
// to a worker) or collected behind those pointers; a block allocated here and viewed by an
// external ArrayBuffer cannot be: it is freed only when both the handle and every JS view of
// it have let go, whatever JS does with the views (a transferred view keeps its reference).
#pragma once

#ifndef PMEMKV_GLUE_INTERNAL
#error "include <pmemkv/glue.h>, not its parts"
#endif

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace pmemkv {
namespace glue __attribute__((visibility("hidden"))) {

// A malloc'd block shared by its owners through an atomic count (a view's finalizer may run on
// another thread when the view was transferred to a worker).
class SharedBlock {
 public:
  // A block of `size` bytes with one reference (the caller's); nullptr when malloc fails.
  static SharedBlock* New(size_t size) noexcept {
    void* raw = std::malloc(sizeof(SharedBlock) + (size == 0 ? 1 : size));
    if (raw == nullptr) return nullptr;
    return new (raw) SharedBlock(size);
  }

  char* data() noexcept { return reinterpret_cast<char*>(this + 1); }
  size_t size() const noexcept { return size_; }

  void Ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    this->~SharedBlock();
    std::free(this);
  }

  // A JS ArrayBuffer (as_buffer: a Buffer) over the whole block, holding a reference of its
  // own that its finalizer drops. Runs on the JS thread.
  napi_status Expose(napi_env env, bool as_buffer, napi_value* out) noexcept {
    Ref();
    napi_status s = as_buffer ? napi_create_external_buffer(env, size_, data(), Finalize, this, out)
                              : napi_create_external_arraybuffer(env, data(), size_, Finalize, this, out);
    if (s != napi_ok) Unref();
    return s;
  }

 private:
  explicit SharedBlock(size_t size) noexcept : size_(size) {}
  static void Finalize(napi_env, void*, void* hint) { static_cast<SharedBlock*>(hint)->Unref(); }

  std::atomic<uint32_t> refs_{1};
  size_t size_;
};

// A handle's reference to a block, dropped when replaced or when the handle dies.
class BlockRef {
 public:
  BlockRef() = default;
  BlockRef(const BlockRef&) = delete;
  BlockRef& operator=(const BlockRef&) = delete;
  ~BlockRef() { Reset(nullptr); }

  // Takes over the caller's reference to `block` (nullptr drops the current one).
  void Reset(SharedBlock* block) noexcept {
    if (block_ != nullptr) block_->Unref();
    block_ = block;
  }
  SharedBlock* get() const noexcept { return block_; }

 private:
  SharedBlock* block_ = nullptr;
};

// Sizes of the bound read path. Keys longer than the key area, and values that do not fit in
// what is left of the current pool, go through get/getInto instead (core decides).
constexpr size_t kKeyAreaBytes = 4096;
constexpr size_t kMaxValuePoolBytes = size_t{1} << 24;

// What a handle keeps for the bound read path. JS thread only.
struct ReadBuffers {
  BlockRef key_area;  // created by the first readKeyArea()
  BlockRef pool;      // the pool of the latest newValuePool(); earlier ones live on in their views
};

}  // namespace glue
}  // namespace pmemkv
