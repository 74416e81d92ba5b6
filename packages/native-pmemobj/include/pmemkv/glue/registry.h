// Registry: the engines an addon has open, keyed by the real path of their pool.
//
// libpmemobj refuses to open a pool twice in one process (it locks the file while it is
// open), so every open of the same path, from any thread or worker_thread, shares one engine
// instance through a shared_ptr<LiveEngine>. Each JS handle holds one reference and each
// in-flight async operation holds one more; the engine (and with it its pool) is destroyed
// when the last reference is released.
//
// Volatile engines (no pool) share the same way: by the real path of their heap directory,
// and for engines that declare `shared_by_name`, by the config `name` too (InstanceKey). An
// open with neither gets a private instance, freed when its handle closes.
//
// Scope: one registry per engine addon (its symbols are hidden), shared by every Node.js
// environment (main thread and workers) that loads the addon. Two different engine addons
// cannot share a pool anyway: each pool carries its engine's layout name, and Pool::Open
// refuses a pool of another layout with INVALID_ARGUMENT.
//
// Thread-safety: a Registry is safe for concurrent access from multiple threads without any
// external synchronization. Acquire holds the registry mutex while an engine opens, and the
// release of the last reference holds it while the engine closes, so a path is never being
// closed and reopened at the same time.
#pragma once

#include <stdlib.h>

#include <climits>
#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "../descriptor.h"
#include "../engine.h"
#include "../locks.h"
#include "../status.h"
#include "executor.h"

namespace pmemkv {
namespace glue __attribute__((visibility("hidden"))) {

using OpenFn = Status (*)(const Config& cfg, std::unique_ptr<Engine>* out);

// What PMEMKV_REGISTER_ENGINE records about an engine class.
struct EngineInfo {
  const EngineDescriptor& descriptor;
  OpenFn open;  // EngineClass::Open

  const char* name() const noexcept { return descriptor.name; }
  ThreadModel model() const noexcept { return descriptor.thread_model; }
};

// Runs `f` (returning Status), turning any exception into a Status: engines must not throw
// across the SDK boundary, and an exception must never reach N-API or a libuv thread.
template <class F>
Status Guard(F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("out of memory (DRAM)");
  } catch (const std::exception& e) {
    return Status::Unknown(std::string("engine failed: ") + e.what());
  } catch (...) {
    return Status::Unknown("engine failed with an unknown exception");
  }
}

// What kind of call an engine method is, for the thread model's locking.
enum class CallKind {
  kRead,         // Get, Exists, Count, Walk, WalkChunk
  kWrite,        // Put, Remove: may run beside reads under a narrow write lock
  kExclusive,    // Batch, Defrag: always exclude readers
};

// One open engine instance, and the locking its thread model asks for.
//
//   kThreadSafe    no lock
//   kSingleWriter  reads: readers lock shared; writes: writer_mutex_, plus the readers lock
//                  exclusively (for Put/Remove only when the engine does not take it itself,
//                  descriptor.narrow_write_lock)
//   kSerialized    every call: writer_mutex_ and the readers lock exclusively
//
// Async work of an engine that is not thread-safe runs on the engine's own executor thread
// (executor.h), one operation at a time, so that no libuv thread ever waits for these locks.
class LiveEngine {
 public:
  LiveEngine(const EngineInfo& info, std::string key, std::unique_ptr<Engine> engine)
      : info_(info), key_(std::move(key)), engine_(std::move(engine)) {}
  ~LiveEngine() { Destroy(); }

  const EngineInfo& info() const noexcept { return info_; }
  // The registry key (real path of the pool), empty for an engine opened without a path.
  const std::string& key() const noexcept { return key_; }
  // True when async work must go through the executor (any model but kThreadSafe).
  bool queues_async() const noexcept { return info_.model() != kThreadSafe; }

  // Calls f(Engine&) -> Status under the locks of `kind` (see above). Never throws.
  template <class F>
  Status Call(CallKind kind, F&& f) {
    return Guard([&]() -> Status {
      Engine& e = *engine_;
      switch (info_.model()) {
        case kThreadSafe:
          return f(e);
        case kSingleWriter:
          if (kind == CallKind::kRead) {
            SharedLockGuard guard(e.readers_lock());
            return f(e);
          }
          if (kind == CallKind::kWrite && info_.descriptor.narrow_write_lock) {
            std::lock_guard<std::mutex> writer(writer_mutex_);
            return f(e);
          }
          break;
        case kSerialized:
          break;
      }
      std::lock_guard<std::mutex> writer(writer_mutex_);
      Engine::ExclusiveSection section(e);
      return f(e);
    });
  }

  // The engine's executor, started on first use. REQUIRES: queues_async().
  std::shared_ptr<Executor> executor() {
    std::lock_guard<std::mutex> lock(executor_mutex_);
    if (!executor_) executor_ = Executor::Start();
    return executor_;
  }

  // Destroys the engine (closing its pool) after stopping the executor. Called once, by the
  // release of the last reference (which is never a job of the executor: see executor.h).
  void Destroy() noexcept {
    std::shared_ptr<Executor> executor;
    {
      std::lock_guard<std::mutex> lock(executor_mutex_);
      executor.swap(executor_);
    }
    if (executor) executor->Stop();
    engine_.reset();
  }

 private:
  const EngineInfo& info_;
  const std::string key_;
  std::unique_ptr<Engine> engine_;
  std::mutex writer_mutex_;  // one write at a time (kSingleWriter, kSerialized)
  std::mutex executor_mutex_;
  std::shared_ptr<Executor> executor_;  // GUARDED_BY(executor_mutex_)
};

class Registry {
 public:
  // The addon's registry. Never destroyed: a libuv thread may release the last reference
  // while the process exits.
  static Registry& Get() {
    static Registry* registry = new Registry();
    return *registry;
  }

  // The key for `path`: its real path, or for a file that does not exist yet the real path of
  // its directory plus its name; the path itself when neither resolves.
  static std::string KeyFor(const std::string& path) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf) != nullptr) return buf;
    size_t slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (!name.empty() && name != "." && name != ".." && ::realpath(dir.c_str(), buf) != nullptr) {
      std::string key = buf;
      if (key.back() != '/') key += '/';
      return key + name;
    }
    return path;
  }

  // The key under which opens of `cfg` share one instance; empty for a private instance.
  //   persistent engines   the pool's real path (KeyFor), empty without a path
  //   volatile engines     the directory's real path, then " (name N)" when the engine is
  //                        shared_by_name and cfg has a string `name`; empty without both
  static std::string InstanceKey(const EngineDescriptor& d, const Config& cfg) {
    std::string key = cfg.path.empty() ? std::string() : KeyFor(cfg.path);
    if (!d.persistent && d.shared_by_name) {
      const Config::Item* name = cfg.Find("name");
      if (name != nullptr && name->type == Config::Item::Type::kString)
        key += (key.empty() ? "(name " : " (name ") + name->string_value + ")";
    }
    return key;
  }

  // Opens `info`'s engine for `cfg`, or shares the instance already open under the same key
  // (InstanceKey, not empty). INVALID_ARGUMENT when the path is open under another engine, or
  // when create_or_error_if_exists is set and the pool is open (it exists).
  Status Acquire(const EngineInfo& info, const Config& cfg, std::shared_ptr<LiveEngine>* out) {
    std::string key = InstanceKey(info.descriptor, cfg);
    std::shared_ptr<LiveEngine> live;  // declared before the lock: released after unlocking
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      auto it = live_.find(key);
      if (it == live_.end()) break;
      live = it->second.lock();
      if (live) break;
      // Its last reference is gone and its pool is being closed: wait until it is.
      closed_.wait(lock);
    }
    if (live) {
      if (std::string(live->info().name()) != info.name())
        return Status::InvalidArgument("pool file " + cfg.path + " is open in this process with the " +
                                       live->info().name() + " engine: close it before opening it with " +
                                       info.name());
      if (cfg.create_or_error_if_exists && info.descriptor.persistent)
        return Status::InvalidArgument("pool file " + cfg.path +
                                       " already exists (it is open in this process): open it without "
                                       "create_or_error_if_exists");
      *out = std::move(live);
      return Status::OK();
    }
    std::unique_ptr<Engine> engine;
    Status s = Open(info, cfg, &engine);
    if (!s.ok()) return s;
    return Guard([&]() -> Status {
      auto* raw = new LiveEngine(info, key, std::move(engine));
      std::shared_ptr<LiveEngine> shared(raw, [](LiveEngine* e) { Registry::Get().Release(e); });
      live_[key] = shared;
      *out = std::move(shared);
      return Status::OK();
    });
  }

  // Opens a private instance that no other open shares (an engine opened without a path).
  static Status OpenUnshared(const EngineInfo& info, const Config& cfg, std::shared_ptr<LiveEngine>* out) {
    std::unique_ptr<Engine> engine;
    Status s = Open(info, cfg, &engine);
    if (!s.ok()) return s;
    return Guard([&]() -> Status {
      *out = std::make_shared<LiveEngine>(info, std::string(), std::move(engine));
      return Status::OK();
    });
  }

  // The keys of the engines open now (for diagnostics and tests).
  std::vector<std::string> LiveKeys() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> keys;
    for (const auto& kv : live_)
      if (!kv.second.expired()) keys.push_back(kv.first);
    return keys;
  }

 private:
  Registry() = default;

  static Status Open(const EngineInfo& info, const Config& cfg, std::unique_ptr<Engine>* engine) {
    Status s = Guard([&] { return info.open(cfg, engine); });
    if (s.ok() && !*engine) return Status::Unknown(std::string(info.name()) + " engine opened without an instance");
    return s;
  }

  // The deleter of every shared LiveEngine: runs on the thread that drops the last reference.
  void Release(LiveEngine* e) noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    e->Destroy();  // the pool is closed before the path can be acquired again
    live_.erase(e->key());
    delete e;
    closed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable closed_;  // signalled when an engine in live_ has been destroyed
  std::map<std::string, std::weak_ptr<LiveEngine>> live_;  // GUARDED_BY(mutex_)
};

}  // namespace glue
}  // namespace pmemkv
