// Pool: owns one libpmemobj pool (PMEMobjpool*) and closes it when destroyed.
//
// Open follows pmemkv's rules for the config flags:
//   create_if_missing          open the pool, creating it when the file does not exist
//   create_or_error_if_exists  create the pool; INVALID_ARGUMENT when the file exists
//   neither                    open only; INVALID_ARGUMENT when the file does not exist
// Creating needs `size` >= 8 MiB (PMEMOBJ_MIN_POOL); the file is created with mode 0600 and
// its whole size is allocated up front. Every pool carries a layout name ("pmemkv_<engine>");
// opening a pool created with another layout is INVALID_ARGUMENT naming both layouts, so a pool
// is never read by an engine that did not write it.
//
// Thread-safety: a Pool is immutable after Open; get() and created() may be called from any
// thread. libpmemobj itself is thread-safe for allocations and transactions (one transaction
// per thread at a time).
//
// Crash semantics: a pool is always consistent at open; libpmemobj rolls back transactions
// that were interrupted by a crash, before Open returns.
//
// One process may hold a pool open only once (libpmemobj locks the file while it is open):
// the SDK glue shares one engine, and so one Pool, between every handle on the same path.
#pragma once

#include <fcntl.h>
#include <libpmemobj.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "engine.h"
#include "status.h"

namespace pmemkv {

// The layout name every pmemkv engine gives its pools.
inline std::string LayoutName(Slice engine_name) { return "pmemkv_" + std::string(engine_name); }

// Largest pool size accepted: sizes come from JS numbers, exact up to 2^53.
constexpr uint64_t kMaxPoolSize = uint64_t{1} << 53;

namespace pool_internal {

// A single-file libpmemobj pool begins with a 4 KiB pool header whose first 8 bytes are the
// signature "PMEMOBJ\0"; the layout name (NUL-terminated, at most PMEMOBJ_MAX_LAYOUT bytes)
// follows at offset 4096. Poolsets and device DAX are not read this way.
constexpr char kObjSignature[8] = {'P', 'M', 'E', 'M', 'O', 'B', 'J', '\0'};
constexpr off_t kLayoutOffset = 4096;

inline std::string ErrnoText(int err) { return std::strerror(err); }

inline std::string PmemobjError(int err) {
  const char* msg = pmemobj_errormsg();
  if (msg != nullptr && msg[0] != '\0') return msg;
  return ErrnoText(err);
}

inline std::string Quote(const std::string& s) { return "\"" + s + "\""; }

constexpr char kLayoutPrefix[] = "pmemkv_";
constexpr size_t kLayoutPrefixLength = sizeof(kLayoutPrefix) - 1;

// "the cmap engine (layout "pmemkv_cmap")" for "pmemkv_cmap", else the quoted layout.
inline std::string DescribeLayout(const std::string& layout) {
  if (layout.size() > kLayoutPrefixLength && layout.compare(0, kLayoutPrefixLength, kLayoutPrefix) == 0)
    return "the " + layout.substr(kLayoutPrefixLength) + " engine (layout " + Quote(layout) + ")";
  return "layout " + Quote(layout);
}

}  // namespace pool_internal

// Reads the layout name from the header of the single-file pool at `path` without opening
// the pool (works while the pool is open elsewhere). Returns false when the file cannot be
// read or is not a single-file libpmemobj pool (a poolset, device DAX, or another file).
inline bool ReadPoolLayout(const std::string& path, std::string* layout) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char signature[sizeof(pool_internal::kObjSignature)];
  char name[PMEMOBJ_MAX_LAYOUT];
  bool ok = ::pread(fd, signature, sizeof(signature), 0) == static_cast<ssize_t>(sizeof(signature)) &&
            std::memcmp(signature, pool_internal::kObjSignature, sizeof(signature)) == 0 &&
            ::pread(fd, name, sizeof(name), pool_internal::kLayoutOffset) == static_cast<ssize_t>(sizeof(name));
  ::close(fd);
  if (!ok) return false;
  layout->assign(name, ::strnlen(name, sizeof(name)));
  return true;
}

class Pool {
 public:
  // Opens or creates the pool at cfg.path with `layout` (see the flag rules above).
  // REQUIRES: layout is at most PMEMOBJ_MAX_LAYOUT - 1 bytes.
  // On failure *out is untouched and the Status says what to do (INVALID_ARGUMENT for bad
  // flags, paths, sizes and layouts; OUT_OF_MEMORY when the device has no room for the pool).
  static Status Open(const Config& cfg, const char* layout, std::unique_ptr<Pool>* out);

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool() { pmemobj_close(pop_); }

  PMEMobjpool* get() const noexcept { return pop_; }
  const std::string& path() const noexcept { return path_; }
  // True when Open created the pool (it is empty: its root object is new and zeroed).
  bool created() const noexcept { return created_; }

  // The root object, allocated zeroed on first use and grown (zero-filled) when `size` is
  // larger than before. Returns OID_NULL when the pool has no room (errno ENOMEM).
  // Thread-safe, but two threads must not race to grow it.
  PMEMoid Root(size_t size) { return pmemobj_root(pop_, size); }

 private:
  Pool(PMEMobjpool* pop, std::string path, bool created)
      : pop_(pop), path_(std::move(path)), created_(created) {}

  static Status OpenExisting(const std::string& path, const char* layout, std::unique_ptr<Pool>* out);
  static Status Create(const std::string& path, const char* layout, uint64_t size, bool open_if_exists,
                       std::unique_ptr<Pool>* out);

  PMEMobjpool* const pop_;
  const std::string path_;
  const bool created_;
};

inline Status Pool::Open(const Config& cfg, const char* layout, std::unique_ptr<Pool>* out) {
  const std::string& path = cfg.path;
  if (path.empty())
    return Status::InvalidArgument("config.path is required: give the pool file to open or create");
  if (cfg.create_if_missing && cfg.create_or_error_if_exists)
    return Status::InvalidArgument(
        "create_if_missing and create_or_error_if_exists are mutually exclusive: pass at most one of them");

  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (cfg.create_or_error_if_exists)
      return Status::InvalidArgument("pool file " + path +
                                     " already exists: remove it to create a new pool, or open it with "
                                     "create_if_missing (or without create flags)");
    return OpenExisting(path, layout, out);
  }
  int err = errno;
  if (err != ENOENT)
    return Status::InvalidArgument("cannot access pool file " + path + ": " + pool_internal::ErrnoText(err));
  if (!cfg.create_if_missing && !cfg.create_or_error_if_exists)
    return Status::InvalidArgument("pool file " + path +
                                   " does not exist: pass create_if_missing (with size) to create it");
  return Create(path, layout, cfg.size, cfg.create_if_missing, out);
}

inline Status Pool::OpenExisting(const std::string& path, const char* layout, std::unique_ptr<Pool>* out) {
  using pool_internal::DescribeLayout;
  std::string found;
  if (ReadPoolLayout(path, &found) && found != layout)
    return Status::InvalidArgument("the pool at " + path + " was created by " + DescribeLayout(found) +
                                   ", not by " + DescribeLayout(layout) +
                                   " (layout mismatch): open it with that engine, or give another path");
  PMEMobjpool* pop = pmemobj_open(path.c_str(), layout);
  if (pop == nullptr) {
    int err = errno;
    std::string why = pool_internal::PmemobjError(err);
    if (err == EWOULDBLOCK || err == EAGAIN)
      return Status::InvalidArgument("pool file " + path + " is in use (libpmemobj locks a pool while it is open, " +
                                     "here or in another process): close it there first (" + why + ")");
    return Status::InvalidArgument("cannot open pool file " + path + " as " + DescribeLayout(layout) + ": " + why);
  }
  out->reset(new Pool(pop, path, false));
  return Status::OK();
}

inline Status Pool::Create(const std::string& path, const char* layout, uint64_t size, bool open_if_exists,
                           std::unique_ptr<Pool>* out) {
  const std::string bytes = std::to_string(size);
  if (size == 0)
    return Status::InvalidArgument("config.size is required to create pool file " + path +
                                   ": give the pool size in bytes (at least 8 MiB)");
  if (size < PMEMOBJ_MIN_POOL)
    return Status::InvalidArgument("config.size " + bytes + " is below the minimum pool size of " +
                                   std::to_string(PMEMOBJ_MIN_POOL) + " bytes (8 MiB)");
  if (size > kMaxPoolSize)
    return Status::InvalidArgument("config.size " + bytes + " is above the maximum pool size of 2^53 bytes");

  // O_EXCL inside pmemobj_create: a file that appeared since Open's stat is never overwritten.
  PMEMobjpool* pop = pmemobj_create(path.c_str(), layout, static_cast<size_t>(size), S_IRUSR | S_IWUSR);
  if (pop == nullptr) {
    int err = errno;
    std::string why = pool_internal::PmemobjError(err);
    if (err == EEXIST) {
      if (open_if_exists) return OpenExisting(path, layout, out);
      return Status::InvalidArgument("pool file " + path + " already exists (created meanwhile): remove it, "
                                     "or open it with create_if_missing (or without create flags)");
    }
    // libpmemobj deletes the parts a failed create made: nothing is left at `path`.
    std::string msg = "cannot create pool file " + path + " of " + bytes + " bytes: " + why;
    if (err == ENOSPC || err == ENOMEM || err == EFBIG)
      return Status::OutOfMemory(msg + " (free space on the device, or give a smaller config.size)");
    return Status::InvalidArgument(msg);
  }
  out->reset(new Pool(pop, path, true));
  return Status::OK();
}

}  // namespace pmemkv
