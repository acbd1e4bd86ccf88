// Turns a task's stack overflow into a diagnostic instead of silent corruption: the guard page
// below every stack faults, and this SIGSEGV handler, running on a per-thread alternate signal
// stack (the faulting stack has no room left), recognises a guard-page address, names the stack
// size, and dies with the default action. Any other SIGSEGV goes to the handler installed before
// grove's, or to the default action.
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <mutex>

#include "fiber/stack_pool.hpp"

namespace grove::detail {
namespace {

struct sigaction previous_handler;

void write_all(const char* text, std::size_t length) noexcept {
  while (length > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, length);
    if (n <= 0) return;
    text += n;
    length -= static_cast<std::size_t>(n);
  }
}

// Formats n in decimal without allocating (async-signal-safe).
std::size_t format_unsigned(std::size_t n, char* out) noexcept {
  char digits[24];
  std::size_t count = 0;
  do {
    digits[count++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  for (std::size_t i = 0; i < count; ++i) out[i] = digits[count - 1 - i];
  return count;
}

void on_segv(int signal, siginfo_t* info, void* context) {
  const std::size_t stack_size = guarded_stack_size_at(info->si_addr);
  if (stack_size != 0) {
    char message[256];
    std::size_t length = 0;
    auto append = [&](const char* text) {
      const std::size_t n = std::strlen(text);
      std::memcpy(message + length, text, n);
      length += n;
    };
    append("grove: stack overflow in a task (its stack is ");
    length += format_unsigned(stack_size, message + length);
    append(" bytes); raise runtime_options::stack_size or use less stack\n");
    write_all(message, length);
    ::signal(SIGSEGV, SIG_DFL);
    ::raise(SIGSEGV);
    return;
  }
  // Not ours: chain.
  if (previous_handler.sa_flags & SA_SIGINFO) {
    if (previous_handler.sa_sigaction != nullptr) {
      previous_handler.sa_sigaction(signal, info, context);
      return;
    }
  } else if (previous_handler.sa_handler != SIG_DFL && previous_handler.sa_handler != SIG_IGN &&
             previous_handler.sa_handler != nullptr) {
    previous_handler.sa_handler(signal);
    return;
  }
  // Default action: re-fault with the default disposition.
  ::signal(SIGSEGV, SIG_DFL);
}

std::mutex install_mutex;

}  // namespace

void install_overflow_handler() {
  // Checked at every runtime's start, not once per process: a framework (a test runner, a crash
  // reporter) may have replaced the handler since, and restored its own over ours.
  std::lock_guard guard(install_mutex);
  struct sigaction current {};
  ::sigaction(SIGSEGV, nullptr, &current);
  if ((current.sa_flags & SA_SIGINFO) != 0 && current.sa_sigaction == on_segv) return;
  struct sigaction action {};
  action.sa_sigaction = on_segv;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGSEGV, &action, &previous_handler);
}

void prepare_thread_for_overflow_handler() {
  // Each worker needs its own alternate stack: sigaltstack is per thread. The memory lives for
  // the thread's life; a thread_local owner unmaps it at thread exit.
  struct alternate_stack {
    void* memory = nullptr;
    std::size_t size = 0;
    ~alternate_stack() {
      if (memory == nullptr) return;
      stack_t disable{};
      disable.ss_flags = SS_DISABLE;
      ::sigaltstack(&disable, nullptr);
      ::munmap(memory, size);
    }
  };
  thread_local alternate_stack owner;
  if (owner.memory != nullptr) return;
  const std::size_t size = 64 * 1024;
  void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return;  // the handler then cannot run; the overflow is a plain crash
  stack_t stack{};
  stack.ss_sp = memory;
  stack.ss_size = size;
  if (::sigaltstack(&stack, nullptr) != 0) {
    ::munmap(memory, size);
    return;
  }
  owner.memory = memory;
  owner.size = size;
}

}  // namespace grove::detail
