// Executor: one thread per open engine that is not thread-safe, running that engine's async
// operations one at a time in the order they were queued. Serialized and single-writer
// engines use it so that their async work never parks a libuv thread on the engine's lock
// (four queued writes would otherwise hold all four threads of the default libuv pool).
//
// A job runs its engine call, drops its reference to the engine and posts its result to the
// JS thread that started it (async.h). Because the job's engine reference may be the last one,
// the engine (and this executor) may be destroyed from the executor's own thread: Stop then
// lets the thread finish instead of joining it.
//
// Thread-safety: Post and Stop may be called from any thread.
// Part of glue.h; engines include <pmemkv/glue.h> only.
#pragma once

#ifndef PMEMKV_GLUE_INTERNAL
#error "include <pmemkv/glue.h>, not its parts"
#endif

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace pmemkv {
namespace glue __attribute__((visibility("hidden"))) {

class Job {
 public:
  virtual ~Job() = default;
  // Runs on the executor thread; must not touch JS values. Never throws.
  virtual void Run() noexcept = 0;
};

class Executor : public std::enable_shared_from_this<Executor> {
 public:
  // Starts the thread. Throws std::system_error when no thread can be created.
  static std::shared_ptr<Executor> Start() {
    std::shared_ptr<Executor> e(new Executor());
    std::shared_ptr<Executor> self = e;  // the thread's own reference: it may outlive its owner
    e->thread_ = std::thread([self] { self->Loop(); });
    return e;
  }

  ~Executor() {
    if (thread_.joinable()) thread_.detach();
  }

  // Queues `job`; false (and the job is handed back untouched) when the executor stopped.
  bool Post(std::unique_ptr<Job>& job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return false;
      queue_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
  }

  // Stops the thread once the queue is empty. Joins it, unless called from the executor's own
  // thread (from the last job's release of its engine), which then ends by itself.
  void Stop() noexcept {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (!thread_.joinable()) return;
    if (std::this_thread::get_id() == thread_.get_id())
      thread_.detach();
    else
      thread_.join();
  }

 private:
  Executor() = default;

  void Loop() noexcept {
    for (;;) {
      std::unique_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      Job* raw = job.release();
      raw->Run();  // the job owns itself from here (it is settled and deleted on the JS thread)
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::unique_ptr<Job>> queue_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;                   // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace glue
}  // namespace pmemkv
