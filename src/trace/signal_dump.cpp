// The task-tree dump on SIGUSR1. A signal handler may call only async-signal-safe functions, so
// it does nothing but sem_post(); a watcher thread, running while some runtime listens, waits
// on the semaphore and dumps every listening runtime to stderr. The handler, once installed,
// stays for the process's life: a SIGUSR1 after the last runtime has gone posts a semaphore
// nobody waits on (drained when a watcher next starts), and nothing else happens.
#include "trace/signal_dump.hpp"

#include <semaphore.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "scheduler/runtime_core.hpp"
#include "trace/task_snapshot.hpp"

namespace grove::detail {
namespace {

sem_t dump_requests;
struct sigaction previous_action;

extern "C" void on_dump_signal(int signal_number, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  ::sem_post(&dump_requests);
  errno = saved_errno;
  // Chain to a handler installed before grove's (a plain one or an SA_SIGINFO one).
  if ((previous_action.sa_flags & SA_SIGINFO) != 0) {
    if (previous_action.sa_sigaction != nullptr) {
      previous_action.sa_sigaction(signal_number, info, context);
    }
  } else if (previous_action.sa_handler != SIG_DFL && previous_action.sa_handler != SIG_IGN) {
    previous_action.sa_handler(signal_number);
  }
}

void install_handler_once() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    ::sem_init(&dump_requests, 0, 0);
    struct sigaction action {};
    action.sa_sigaction = on_dump_signal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    ::sigemptyset(&action.sa_mask);
    ::sigaction(SIGUSR1, &action, &previous_action);
  });
}

// `lifecycle` serialises listeners coming and going, and is held while the last one joins the
// watcher, so a new watcher never starts beside one that is still stopping. The watcher takes
// only `registry`, so that join cannot deadlock.
std::mutex lifecycle;
std::mutex registry;
std::vector<runtime_core*> listeners;  // guarded by registry
bool watcher_stopping = false;         // guarded by registry
std::thread watcher;                   // guarded by lifecycle

void watch_for_requests() {
  for (;;) {
    while (::sem_wait(&dump_requests) != 0) {
    }  // EINTR: wait again
    std::lock_guard guard(registry);
    if (watcher_stopping) return;
    for (runtime_core* runtime : listeners) {
      std::ostringstream tree;
      dump_runtime(*runtime, tree);
      std::fputs(tree.str().c_str(), stderr);
    }
  }
}

}  // namespace

signal_dump_listener::signal_dump_listener(runtime_core& runtime) : runtime_(&runtime) {
  std::lock_guard hold(lifecycle);
  install_handler_once();
  std::lock_guard guard(registry);
  if (listeners.empty()) {
    while (::sem_trywait(&dump_requests) == 0) {
    }  // requests made while nobody listened
    watcher_stopping = false;
    watcher = std::thread(watch_for_requests);
  }
  listeners.push_back(runtime_);
}

signal_dump_listener::~signal_dump_listener() {
  std::lock_guard hold(lifecycle);
  bool last = false;
  {
    std::lock_guard guard(registry);
    listeners.erase(std::find(listeners.begin(), listeners.end(), runtime_));
    if (listeners.empty()) {
      watcher_stopping = true;
      ::sem_post(&dump_requests);
      last = true;
    }
  }
  if (last) watcher.join();
}

}  // namespace grove::detail
