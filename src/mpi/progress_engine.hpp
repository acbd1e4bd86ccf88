// The one thread per process that drives MPI for grove: tasks hand it the requests they wait on
// and park; it tests them and wakes each task whose request completed. Owned by
// grove::mpi::environment, which stops it before MPI is finalised.
#pragma once

#include <condition_variable>
#include <grove/detail/foreign_completion.hpp>
#include <mutex>
#include <thread>
#include <vector>

namespace grove::mpi::detail {

class progress_engine {
 public:
  // A request to watch: poll(context) tests it (true: complete), then done->complete().
  struct watched {
    bool (*poll)(void* context);
    void* context;
    grove::detail::foreign_completion* done;
  };

  progress_engine();
  ~progress_engine();  // stops and joins the thread; nothing may be pending

  // Any thread.
  void watch(const watched& w);

  // The engine of the live environment; usage_error when there is none.
  static progress_engine& current(const char* what);
  static void install(progress_engine* engine) noexcept;

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<watched> incoming_;  // guarded by mutex_
  bool stopping_ = false;          // guarded by mutex_
  std::thread thread_;
};

}  // namespace grove::mpi::detail
