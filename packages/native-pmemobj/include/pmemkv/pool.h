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
// Files that are not pools: before libpmemobj sees an existing path, Open checks what is
// there and refuses, with INVALID_ARGUMENT and a message saying what it found, anything that
// is not a single-file pool, a poolset file or a device DAX: a directory, FIFO, socket, block
// device, character device other than device DAX (/dev/null, /dev/zero), a regular file
// shorter than PMEMOBJ_MIN_POOL (8 MiB: pmemobj_create makes no smaller pool, so a shorter
// file holds no pool; libpmemobj would map it and die of SIGBUS reading the header past its
// end), and a file whose first bytes are not libpmemobj's signature. Nothing is written to a
// refused file: it keeps its size, mode and bytes. create_if_missing never overwrites an
// existing file; it only creates a missing one. Symbolic links are followed, as stat(2)
// does: a link to a pool opens the pool, a link to anything else is refused as its target
// is, and the message names the link's target. No check blocks: a FIFO is never opened for
// reading, and a device is never opened at all.
//
// Errors: INVALID_ARGUMENT for bad flags, paths, sizes, files and layouts; POOL_LOCKED when
// the pool is held open by another process (libpmemobj locks an open pool); OUT_OF_MEMORY when
// the device has no room for a new pool. Bytes read from a file are quoted with QuoteBytes.
//
// Allocation classes: every open and create registers the SDK's allocation classes
// (alloc.h) before Open returns; engines pass AllocFlags(n) to libpmemobj's allocations.
//
// Thread-safety: a Pool is immutable after Open; get() and created() may be called from any
// thread. libpmemobj itself is thread-safe for allocations and transactions (one transaction
// per thread at a time).
//
// Crash semantics: a pool is always consistent at open; libpmemobj rolls back transactions
// that were interrupted by a crash, before Open returns.
//
// Creation is atomic: the pool is made under a temporary name in the same directory
// (".<name>.pmemkv-creating.<pid>.<n>"), complete (pmemobj_create returns once its headers
// are persistent), and only then given its name with a rename that never replaces a file
// (renameat2 RENAME_NOREPLACE; link(2) + unlink where the file system lacks it). So the path
// holds either no pool or a whole one, whatever the moment of a crash, and two processes
// creating the same path race only on that rename: the loser discards its own pool and opens
// the winner's (create_if_missing: POOL_LOCKED while the winner holds it open) or refuses
// (create_or_error_if_exists). A crash during creation leaves at most a temporary file; the
// next creation in that directory removes those whose creating process is gone.
//
// What libpmemobj writes during an open: the pool header's shutdown state and the run id in
// the first 8 KiB (on every open), and, when the pool holds an interrupted transaction, its
// undo or redo log (the recovery the user wants). When the open fails, Open restores the
// first 8 KiB as they were, so a pool that libpmemobj refuses before recovery is left
// byte-for-byte as it was for `pmempool check`; log replay done before a later failure stays.
//
// One process may hold a pool open only once (libpmemobj locks the file while it is open):
// the SDK glue shares one engine, and so one Pool, between every handle on the same path.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <libpmemobj.h>
#include <signal.h>
#include <sys/syscall.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <atomic>
#include <cstring>
#include <memory>
#include <string>

#include "alloc.h"
#include "engine.h"
#include "quote.h"
#include "status.h"

namespace pmemkv {

// The layout name every pmemkv engine gives its pools.
inline std::string LayoutName(Slice engine_name) { return "pmemkv_" + std::string(engine_name); }

// Largest pool size accepted: sizes come from JS numbers, exact up to 2^53.
constexpr uint64_t kMaxPoolSize = uint64_t{1} << 53;

// The "damaged pool" status every engine uses for a pool, root or structure it cannot trust
// (UNKNOWN_ERROR, with what was found and what to do).
inline Status DamagedPool(const std::string& path, const std::string& what) {
  return Status::Unknown("the pool at " + path + " is damaged (" + what +
                         "): check it with `pmempool check`, or restore it from a copy");
}

// libpmemobj's on-media pool descriptor (as `pmempool info` prints it): 2 KiB after the 4 KiB
// pool header, checksummed (Fletcher-64 over its 32-bit little-endian words, the checksum in
// its last 8 bytes counted as zero): the layout name (PMEMOBJ_MAX_LAYOUT bytes), the lanes
// offset, the lane count, the heap offset, ...; then, not checksummed, the root object's
// offset and the run id.
constexpr uint64_t kDescriptorOffset = 4096;
constexpr uint64_t kDescriptorSize = 2048;
constexpr uint64_t kDescriptorHeapOffsetAt = kDescriptorOffset + PMEMOBJ_MAX_LAYOUT + 16;
constexpr uint64_t kDescriptorRootOffsetAt = kDescriptorOffset + kDescriptorSize;

namespace pool_internal {

// A single-file libpmemobj pool begins with a 4 KiB pool header whose first 8 bytes are the
// signature "PMEMOBJ\0"; the layout name (NUL-terminated, at most PMEMOBJ_MAX_LAYOUT bytes)
// follows at offset 4096. A poolset is a text file beginning with "PMEMPOOLSET".
constexpr char kObjSignature[8] = {'P', 'M', 'E', 'M', 'O', 'B', 'J', '\0'};
constexpr char kPoolsetSignature[11] = {'P', 'M', 'E', 'M', 'P', 'O', 'O', 'L', 'S', 'E', 'T'};
constexpr off_t kLayoutOffset = 4096;

inline std::string ErrnoText(int err) { return std::strerror(err); }

// libpmemobj's message for the last failure (escaped: it may repeat bytes of the file), with
// `alias` (the name libpmemobj was given) replaced by `path` (the name the user gave).
inline std::string PmemobjError(int err, const std::string& alias = std::string(),
                                const std::string& path = std::string()) {
  const char* msg = pmemobj_errormsg();
  std::string text = msg != nullptr && msg[0] != '\0' ? msg : ErrnoText(err);
  if (!alias.empty() && alias != path)
    for (size_t at = text.find(alias); at != std::string::npos; at = text.find(alias, at + path.size()))
      text.replace(at, alias.size(), path);
  return EscapeBytes(text);
}

inline std::string Quote(const std::string& s) { return QuoteBytes(s); }

constexpr char kLayoutPrefix[] = "pmemkv_";
constexpr size_t kLayoutPrefixLength = sizeof(kLayoutPrefix) - 1;

// "the cmap engine (layout "pmemkv_cmap")" for "pmemkv_cmap", else the quoted layout.
inline std::string DescribeLayout(const std::string& layout) {
  if (layout.size() > kLayoutPrefixLength && layout.compare(0, kLayoutPrefixLength, kLayoutPrefix) == 0)
    return "the " + EscapeBytes(layout.substr(kLayoutPrefixLength), kQuoteLimit) + " engine (layout " +
           Quote(layout) + ")";
  return "layout " + Quote(layout);
}

// Whether the pool descriptor (kDescriptorSize bytes) holds its own checksum.
inline bool DescriptorChecksumHolds(const unsigned char* d) {
  uint32_t lo = 0, hi = 0;
  for (uint64_t i = 0; i < kDescriptorSize; i += 4) {
    uint32_t w = 0;
    if (i < kDescriptorSize - 8) std::memcpy(&w, d + i, 4);
    lo += w;
    hi += lo;
  }
  uint64_t stored = 0;
  std::memcpy(&stored, d + kDescriptorSize - 8, 8);
  return stored == ((uint64_t{hi} << 32) | lo);
}

// A file descriptor, closed when destroyed.
class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  void reset(int fd) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// "a directory", "a FIFO (named pipe)", ... for a file that is not a regular file.
inline const char* FileTypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

// Whether a character device is a device DAX (/dev/daxN.M), which libpmemobj maps as a pool:
// its /sys/dev/char/<major>:<minor>/subsystem names the "dax" class.
inline bool IsDeviceDax(const struct stat& st) {
  if (!S_ISCHR(st.st_mode)) return false;
  char link[64];
  std::snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/subsystem", major(st.st_rdev), minor(st.st_rdev));
  char target[PATH_MAX];
  if (::realpath(link, target) == nullptr) return false;
  const char* base = std::strrchr(target, '/');
  return base != nullptr && std::strcmp(base + 1, "dax") == 0;
}

// "pool file P" or, when P is a symbolic link, "pool file P (a symbolic link to "T")".
inline std::string Subject(const std::string& path) {
  std::string subject = "pool file " + path;
  struct stat lst;
  if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
    char target[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), target, sizeof(target));
    subject += n >= 0 ? " (a symbolic link to " + QuoteBytes(target, static_cast<size_t>(n), PATH_MAX) + ")"
                      : " (a symbolic link)";
  }
  return subject;
}

// An existing path, checked before libpmemobj maps it (Pool::Open's "Files that are not pools").
//
// The path is opened once, with O_PATH: that never blocks (not even on a FIFO without a
// writer), never runs a device's open, and follows symbolic links. The checks look at that
// descriptor (fstat), the header is read through /proc/self/fd/<it>, and libpmemobj is given
// the same /proc/self/fd/<it> (open_path), which reopens exactly the inode that was checked,
// whatever the path names by then: a path swapped between the check and pmemobj_open cannot
// smuggle a FIFO, a device or a short file past the checks. Without /proc (it is mounted on
// every Linux system this runs on, but a sandbox may hide it) the path itself is reopened and
// compared by device and inode, and libpmemobj gets the path: a swap after that comparison
// is not detected. What no check before mmap can prevent is another process that can write
// the file truncating it later, while it is mapped; such a process can damage the pool in
// any case, and the SDK does not defend against it.
struct Candidate {
  enum class Kind { kPool, kPoolset, kDeviceDax };
  Kind kind = Kind::kPool;
  Fd handle;              // the O_PATH descriptor; keep it open until pmemobj_open returns
  std::string open_path;  // the name to give libpmemobj
  uint64_t size = 0;      // bytes of a single-file pool; 0 for poolsets and device DAX
  std::string layout;     // kPool: the layout name in the pool header
  bool descriptor_ok = false;  // kPool: the pool descriptor (with the layout) holds its checksum
};

inline Status Inspect(const std::string& path, Candidate* out) {
  const std::string advice = ": give the path of a pmemkv pool (a pool file, a poolset or a device DAX), "
                             "or a path where none exists to create one";
  out->handle.reset(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (out->handle.get() < 0) {
    int err = errno;
    return Status::InvalidArgument("cannot access " + Subject(path) + ": " + ErrnoText(err));
  }
  struct stat st;
  if (::fstat(out->handle.get(), &st) != 0) {
    int err = errno;
    return Status::InvalidArgument("cannot access " + Subject(path) + ": " + ErrnoText(err));
  }
  if (IsDeviceDax(st)) {
    out->kind = Candidate::Kind::kDeviceDax;
    out->open_path = path;
    return Status::OK();
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(Subject(path) + " is " + FileTypeName(st.st_mode) + advice);

  // Read the header through the checked descriptor. O_NONBLOCK and O_NOCTTY are only a guard
  // for the fallback, where the path could name something else by now.
  std::string proc = "/proc/self/fd/" + std::to_string(out->handle.get());
  Fd file(::open(proc.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  int err = file.get() < 0 ? errno : 0;
  out->open_path = proc;
  if (err == ENOENT && ::access("/proc/self/fd", F_OK) != 0) {
    file.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    err = file.get() < 0 ? errno : 0;
    struct stat again;
    if (err == 0 && (::fstat(file.get(), &again) != 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino))
      return Status::InvalidArgument(Subject(path) + " changed while it was being opened: try again");
    out->open_path = path;
  }
  if (err != 0) return Status::InvalidArgument("cannot read " + Subject(path) + ": " + ErrnoText(err));
  char head[16];
  ssize_t n = ::pread(file.get(), head, sizeof(head), 0);
  if (n < 0) {
    int err = errno;
    return Status::InvalidArgument("cannot read " + Subject(path) + ": " + ErrnoText(err));
  }
  if (n >= static_cast<ssize_t>(sizeof(kPoolsetSignature)) &&
      std::memcmp(head, kPoolsetSignature, sizeof(kPoolsetSignature)) == 0) {
    out->kind = Candidate::Kind::kPoolset;  // libpmemobj reads the set and checks its parts
    return Status::OK();
  }
  const std::string left = "; the file is left as it is: remove it, or give another path";
  const bool signed_as_pool = n >= static_cast<ssize_t>(sizeof(kObjSignature)) &&
                              std::memcmp(head, kObjSignature, sizeof(kObjSignature)) == 0;
  if (signed_as_pool && st.st_size < static_cast<off_t>(PMEMOBJ_MIN_POOL))
    return DamagedPool(path, "it begins as a libpmemobj pool but is " + std::to_string(st.st_size) +
                                 " bytes, shorter than the smallest pool (" + std::to_string(PMEMOBJ_MIN_POOL) +
                                 " bytes): it was truncated");
  if (st.st_size < static_cast<off_t>(PMEMOBJ_MIN_POOL))
    return Status::InvalidArgument(
        Subject(path) + " is not a pmemkv pool: it is " + std::to_string(st.st_size) +
        " bytes, shorter than the smallest libpmemobj pool (PMEMOBJ_MIN_POOL, " + std::to_string(PMEMOBJ_MIN_POOL) +
        " bytes)" + (st.st_size == 0 ? " (an interrupted pool creation can leave an empty file)" : "") + left);
  if (std::memcmp(head, kObjSignature, sizeof(kObjSignature)) != 0)
    return Status::InvalidArgument(Subject(path) + " is not a pmemkv pool: it begins with " +
                                   QuoteBytes(head, sizeof(kObjSignature)) + ", not with libpmemobj's signature " +
                                   QuoteBytes(kObjSignature, sizeof(kObjSignature)) + left);
  unsigned char descriptor[kDescriptorSize];
  if (::pread(file.get(), descriptor, sizeof(descriptor), kLayoutOffset) != static_cast<ssize_t>(sizeof(descriptor))) {
    int err = errno;
    return Status::InvalidArgument("cannot read the pool header of " + Subject(path) + ": " + ErrnoText(err));
  }
  const char* name = reinterpret_cast<const char*>(descriptor);
  out->kind = Candidate::Kind::kPool;
  out->size = static_cast<uint64_t>(st.st_size);
  out->layout.assign(name, ::strnlen(name, PMEMOBJ_MAX_LAYOUT));
  out->descriptor_ok = DescriptorChecksumHolds(descriptor);
  return Status::OK();
}


// The bytes of a pool that libpmemobj rewrites on every open (pool header and descriptor,
// shutdown state, run id), restored when an open fails.
constexpr size_t kOpenWrittenBytes = 8192;

// A copy of the first kOpenWrittenBytes of the checked file, put back if it changed.
class HeaderSnapshot {
 public:
  void Take(const std::string& open_path) {
    Fd file(::open(open_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (file.get() < 0) return;
    bytes_.resize(kOpenWrittenBytes);
    ssize_t n = ::pread(file.get(), &bytes_[0], bytes_.size(), 0);
    bytes_.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  void RestoreIfChanged(const std::string& open_path) const {
    if (bytes_.empty()) return;
    Fd file(::open(open_path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (file.get() < 0) return;
    std::string now(bytes_.size(), '\0');
    if (::pread(file.get(), &now[0], now.size(), 0) == static_cast<ssize_t>(now.size()) && now == bytes_) return;
    if (::pwrite(file.get(), bytes_.data(), bytes_.size(), 0) == static_cast<ssize_t>(bytes_.size()))
      ::fdatasync(file.get());
  }

 private:
  std::string bytes_;
};

inline std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
inline std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// ".<name>.pmemkv-creating." : the prefix of the temporary names of pools being created.
inline std::string CreatingPrefix(const std::string& path) { return "." + BaseName(path) + ".pmemkv-creating."; }

inline std::string CreatingName(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  const std::string dir = DirName(path);
  return (dir == "/" ? "" : dir) + "/" + CreatingPrefix(path) + std::to_string(::getpid()) + "." +
         std::to_string(counter.fetch_add(1));
}

// Removes the temporary files of creations of `path` whose process no longer exists (a crash
// during creation). Best effort: a file it cannot remove stays, and harms nothing.
inline void RemoveAbandonedCreations(const std::string& path) {
  const std::string dir = DirName(path), prefix = CreatingPrefix(path);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    ::unlink(((dir == "/" ? "" : dir) + "/" + name).c_str());
  }
  ::closedir(d);
}

// Gives `from` the name `to` unless `to` exists: 0, or -1 with errno (EEXIST when it does).
inline int RenameNoReplace(const std::string& from, const std::string& to) {
#if defined(SYS_renameat2)
  constexpr unsigned kNoReplace = 1;  // RENAME_NOREPLACE
  if (::syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), kNoReplace) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP && errno != EPERM) return -1;
#endif
  if (::link(from.c_str(), to.c_str()) != 0) return -1;
  ::unlink(from.c_str());
  return 0;
}

// Makes a rename in the directory of `path` durable (best effort: a file system without
// directory fsync keeps the name as it keeps any other).
inline void SyncDirectoryOf(const std::string& path) {
  Fd dir(::open(DirName(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() >= 0) ::fsync(dir.get());
}

}  // namespace pool_internal

// Reads the layout name from the header of the single-file pool at `path` without opening
// the pool (works while the pool is open elsewhere). Returns false when the file cannot be
// read or is not a single-file libpmemobj pool (a poolset, device DAX, or another file). Never
// blocks and never opens a device (see Pool::Open).
inline bool ReadPoolLayout(const std::string& path, std::string* layout) {
  pool_internal::Candidate c;
  if (!pool_internal::Inspect(path, &c).ok() || c.kind != pool_internal::Candidate::Kind::kPool) return false;
  *layout = c.layout;
  return true;
}

// Checks that `path` may be handed to libpmemobj (pmemobj_open, pmemobj_check): OK for a
// single-file pool, a poolset or a device DAX; INVALID_ARGUMENT saying what is there otherwise
// (see Pool::Open). A missing file is INVALID_ARGUMENT too.
inline Status CheckPoolFile(const std::string& path) {
  pool_internal::Candidate c;
  return pool_internal::Inspect(path, &c);
}

class Pool {
 public:
  // Opens or creates the pool at cfg.path with `layout` (see the flag rules above).
  // REQUIRES: layout is at most PMEMOBJ_MAX_LAYOUT - 1 bytes.
  // On failure *out is untouched and the Status says what to do.
  static Status Open(const Config& cfg, const char* layout, std::unique_ptr<Pool>* out);

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool() { pmemobj_close(pop_); }

  PMEMobjpool* get() const noexcept { return pop_; }
  const std::string& path() const noexcept { return path_; }
  // True when Open created the pool (it is empty: its root object is new and zeroed).
  bool created() const noexcept { return created_; }
  // Bytes of a single-file pool (the file's size, all of it mapped); 0 for a poolset or a
  // device DAX.
  uint64_t size() const noexcept { return size_; }

  // The flags for allocating an object of `n` bytes from the SDK's allocation classes: pass
  // them to pmemobj_tx_xalloc, pmemobj_xalloc or pmemobj_xreserve (with any other flags ORed
  // in), with the same n. See alloc.h.
  uint64_t AllocFlags(size_t n) const noexcept { return alloc_.Flags(n); }
  const AllocClasses& alloc_classes() const noexcept { return alloc_; }

  // The root object, allocated zeroed on first use and grown (zero-filled) when `size` is
  // larger than before. Returns OID_NULL when the pool has no room (errno ENOMEM).
  // Thread-safe, but two threads must not race to grow it.
  PMEMoid Root(size_t size) { return pmemobj_root(pop_, size); }

 private:
  // Registers the allocation classes before anyone allocates.
  Pool(PMEMobjpool* pop, std::string path, bool created, uint64_t size)
      : pop_(pop),
        path_(std::move(path)),
        created_(created),
        size_(size),
        alloc_(AllocClasses::Register(pop, size)) {}

  static Status OpenExisting(const std::string& path, const char* layout, std::unique_ptr<Pool>* out);
  static Status Create(const std::string& path, const char* layout, uint64_t size, bool open_if_exists,
                       std::unique_ptr<Pool>* out);

  PMEMobjpool* const pop_;
  const std::string path_;
  const bool created_;
  const uint64_t size_;
  const AllocClasses alloc_;
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
    if (cfg.create_or_error_if_exists) {
      // Say what is there when it is not even a regular file.
      if (!S_ISREG(st.st_mode)) {
        Status what = CheckPoolFile(path);
        if (!what.ok()) return what;
      }
      return Status::InvalidArgument("pool file " + path +
                                     " already exists: remove it to create a new pool, or open it with "
                                     "create_if_missing (or without create flags)");
    }
    return OpenExisting(path, layout, out);
  }
  int err = errno;
  struct stat lst;
  if (err == ENOENT && ::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode))
    return Status::InvalidArgument(pool_internal::Subject(path) +
                                   " names a file that does not exist: the link is not replaced by a pool; "
                                   "remove it, or point it where the pool should be");
  if (err != ENOENT)
    return Status::InvalidArgument("cannot access pool file " + path + ": " + pool_internal::ErrnoText(err));
  if (!cfg.create_if_missing && !cfg.create_or_error_if_exists)
    return Status::InvalidArgument("pool file " + path +
                                   " does not exist: pass create_if_missing (with size) to create it");
  return Create(path, layout, cfg.size, cfg.create_if_missing, out);
}

inline Status Pool::OpenExisting(const std::string& path, const char* layout, std::unique_ptr<Pool>* out) {
  using pool_internal::DescribeLayout;
  pool_internal::Candidate c;
  Status s = pool_internal::Inspect(path, &c);
  if (!s.ok()) return s;
  if (c.kind == pool_internal::Candidate::Kind::kPool && c.layout != layout && !c.descriptor_ok)
    return DamagedPool(path, "its pool descriptor, which holds the layout name " + pool_internal::Quote(c.layout) +
                                 ", fails its checksum");
  if (c.kind == pool_internal::Candidate::Kind::kPool && c.layout != layout)
    return Status::InvalidArgument("the pool at " + path + " was created by " + DescribeLayout(c.layout) +
                                   ", not by " + DescribeLayout(layout) +
                                   " (layout mismatch): open it with that engine, or give another path");
  pool_internal::HeaderSnapshot snapshot;
  if (c.kind == pool_internal::Candidate::Kind::kPool) snapshot.Take(c.open_path);
  PMEMobjpool* pop = pmemobj_open(c.open_path.c_str(), layout);
  if (pop == nullptr) {
    int err = errno;
    std::string why = pool_internal::PmemobjError(err, c.open_path, path);
    if (err != EWOULDBLOCK && err != EAGAIN) snapshot.RestoreIfChanged(c.open_path);
    if (err == EWOULDBLOCK || err == EAGAIN)
      return Status(Code::kPoolLocked, "pool file " + path + " is in use (libpmemobj locks a pool while it is open, " +
                                           "here or in another process): close it there first (" + why + ")");
    // The file passed the checks above (a pool of this layout), so what libpmemobj refuses in
    // it (checksums, versions, features, its heap) is damage; permissions and resources are not.
    if (err == EACCES || err == EPERM || err == EROFS || err == ENOMEM || err == EMFILE || err == ENFILE ||
        c.kind != pool_internal::Candidate::Kind::kPool)
      return Status::InvalidArgument("cannot open pool file " + path + " as " + DescribeLayout(layout) + ": " + why);
    return DamagedPool(path, "libpmemobj refuses it: " + why);
  }
  out->reset(new Pool(pop, path, false, c.size));
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

  // Made under a temporary name and renamed into place complete (see "Creation is atomic").
  pool_internal::RemoveAbandonedCreations(path);
  const std::string temp = pool_internal::CreatingName(path);
  PMEMobjpool* pop = pmemobj_create(temp.c_str(), layout, static_cast<size_t>(size), S_IRUSR | S_IWUSR);
  if (pop == nullptr) {
    int err = errno;
    std::string why = pool_internal::PmemobjError(err, temp, path);
    ::unlink(temp.c_str());  // libpmemobj removes what it made; this only makes sure
    std::string msg = "cannot create pool file " + path + " of " + bytes + " bytes: " + why;
    if (err == ENOSPC || err == ENOMEM || err == EFBIG)
      return Status::OutOfMemory(msg + " (free space on the device, or give a smaller config.size)");
    return Status::InvalidArgument(msg);
  }
  if (pool_internal::RenameNoReplace(temp, path) != 0) {
    const int err = errno;
    pmemobj_close(pop);
    ::unlink(temp.c_str());
    if (err == EEXIST) {
      // Another creator (or anything else) took the path meanwhile: never overwritten.
      if (open_if_exists) return OpenExisting(path, layout, out);
      return Status::InvalidArgument("pool file " + path + " already exists (created meanwhile): remove it, "
                                     "or open it with create_if_missing (or without create flags)");
    }
    return Status::InvalidArgument("cannot create pool file " + path + ": " + pool_internal::ErrnoText(err));
  }
  pool_internal::SyncDirectoryOf(path);
  out->reset(new Pool(pop, path, true, size));
  return Status::OK();
}

}  // namespace pmemkv
