// Slab-carved task stacks with guard pages; see stack_pool.hpp.
#include "fiber/stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <system_error>

namespace grove::detail {
namespace {

#ifndef MADV_GUARD_INSTALL
constexpr int madv_guard_install = 102;  // Linux >= 6.13; older kernels answer EINVAL
#else
constexpr int madv_guard_install = MADV_GUARD_INSTALL;
#endif

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

std::size_t round_up(std::size_t n, std::size_t to) noexcept { return (n + to - 1) / to * to; }

// Each mprotect'ed guard inside a slab splits its mapping in two more; past this many guards
// a process nears vm.max_map_count (65 530), so later stacks go unguarded.
constexpr long mprotect_guard_budget = 30000;
std::atomic<long> mprotect_guards_used{0};
std::atomic<bool> guard_madvise_unsupported{false};
std::atomic<bool> warned_unguarded{false};

// Slabs, for the overflow handler (which must not lock): a fixed table whose entries are
// claimed when a slab is mapped and released when it is unmapped.
struct slab_record {
  std::atomic<bool> claimed{false};
  std::atomic<std::byte*> base{nullptr};
  std::atomic<std::size_t> stride{0};
  std::atomic<std::size_t> count{0};
  std::atomic<std::size_t> stack_size{0};
};
constexpr int max_registered_slabs = 1 << 14;
slab_record slab_registry[max_registered_slabs];
// How far into the table entries have ever been claimed (the handler's scan bound).
std::atomic<int> slab_registry_high_water{0};

int register_slab(std::byte* base, std::size_t stride, std::size_t count, std::size_t stack_size) {
  for (int slot = 0; slot < max_registered_slabs; ++slot) {
    slab_record& r = slab_registry[slot];
    bool expected = false;
    if (r.claimed.load(std::memory_order_relaxed) ||
        !r.claimed.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      continue;
    }
    r.stride.store(stride, std::memory_order_relaxed);
    r.count.store(count, std::memory_order_relaxed);
    r.stack_size.store(stack_size, std::memory_order_relaxed);
    // release: the handler that reads base (acquire) sees the other fields.
    r.base.store(base, std::memory_order_release);
    int high = slab_registry_high_water.load(std::memory_order_relaxed);
    while (high < slot + 1 && !slab_registry_high_water.compare_exchange_weak(
                                  high, slot + 1, std::memory_order_release)) {
    }
    return slot;
  }
  return -1;  // more than 16 384 live slabs: overflow there goes undiagnosed, not wrong
}

void unregister_slab(int slot) noexcept {
  if (slot < 0) return;
  slab_record& r = slab_registry[slot];
  r.base.store(nullptr, std::memory_order_release);
  // release: a later claimer's acquire sees base cleared before it writes the fields.
  r.claimed.store(false, std::memory_order_release);
}

bool force_mprotect_guards() noexcept {
  const char* setting = std::getenv("GROVE_STACK_GUARD");
  return setting != nullptr && std::strcmp(setting, "mprotect") == 0;
}

}  // namespace

stack_allocator::stack_allocator(std::size_t task_stack_size)
    : task_stack_size_(round_up(task_stack_size, page_size())),
      stack_size_(2 * task_stack_size_),
      stride_(stack_size_ + page_size()),
      use_madvise_guards_(!force_mprotect_guards()) {}

stack_allocator::~stack_allocator() {
  for (const slab& s : slabs_) {
    unregister_slab(s.registry_slot);
    ::munmap(s.base, s.bytes);
  }
  mprotect_guards_used.fetch_sub(mprotect_guards_, std::memory_order_relaxed);
}

bool stack_allocator::install_guard(std::byte* page) noexcept {
  if (use_madvise_guards_ && !guard_madvise_unsupported.load(std::memory_order_relaxed)) {
    if (::madvise(page, page_size(), madv_guard_install) == 0) return true;
    guard_madvise_unsupported.store(true, std::memory_order_relaxed);
  }
  if (mprotect_guards_used.fetch_add(1, std::memory_order_relaxed) < mprotect_guard_budget) {
    if (::mprotect(page, page_size(), PROT_NONE) == 0) {
      ++mprotect_guards_;
      return true;
    }
  }
  mprotect_guards_used.fetch_sub(1, std::memory_order_relaxed);
  if (!warned_unguarded.exchange(true)) {
    std::fprintf(stderr,
                 "grove: warning: out of guard-page budget (vm.max_map_count); further task "
                 "stacks have no guard page, so a stack overflow there is not diagnosed\n");
  }
  return false;
}

void stack_allocator::map_slab() {
  // About 8 MiB per slab, at least one stack, at most 64.
  std::size_t count = (8u << 20) / stride_;
  if (count < 1) count = 1;
  if (count > 64) count = 64;
  const std::size_t bytes = count * stride_;
  void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) {
    throw std::system_error(errno, std::generic_category(),
                            "grove: cannot map task stacks (out of memory or of mappings)");
  }
  auto* base = static_cast<std::byte*>(memory);
  // The handler names the promised size: that is what a user raises.
  slabs_.push_back({base, bytes, register_slab(base, stride_, count, task_stack_size_)});
  for (std::size_t i = count; i-- > 0;) {
    std::byte* slot = base + i * stride_;
    install_guard(slot);
    free_.push_back({slot + page_size(), stack_size_});
  }
}

void stack_allocator::allocate_some(std::vector<stack_memory>& into, std::size_t count) {
  std::lock_guard guard(mutex_);
  if (free_.empty()) map_slab();
  const std::size_t taken = std::min(count, free_.size());
  into.insert(into.end(), free_.end() - static_cast<std::ptrdiff_t>(taken), free_.end());
  free_.resize(free_.size() - taken);
}

void stack_allocator::deallocate_some(std::vector<stack_memory>& from, std::size_t count) noexcept {
  const auto first = from.end() - static_cast<std::ptrdiff_t>(count);
  {
    std::lock_guard guard(mutex_);
    try {
      free_.insert(free_.end(), first, from.end());
    } catch (...) {
      // Out of memory growing the free list: the stacks stay mapped and unused until the
      // runtime unmaps its slabs. Nothing else to do without allocating.
    }
  }
  from.erase(first, from.end());
}

stack_cache::stack_cache(stack_allocator& allocator) : allocator_(&allocator) {
  stacks_.reserve(capacity);
}

stack_cache::~stack_cache() { allocator_->deallocate_some(stacks_, stacks_.size()); }

stack_memory stack_cache::acquire() {
  if (stacks_.empty()) allocator_->allocate_some(stacks_, capacity / 2);
  stack_memory s = stacks_.back();
  stacks_.pop_back();
  return s;
}

void stack_cache::release(stack_memory stack) noexcept {
  if (stacks_.size() == capacity) allocator_->deallocate_some(stacks_, capacity / 2);
  stacks_.push_back(stack);  // capacity reserved in the constructor: cannot throw
}

std::size_t guarded_stack_size_at(const void* address) noexcept {
  const auto* a = static_cast<const std::byte*>(address);
  const int used = slab_registry_high_water.load(std::memory_order_acquire);
  for (int i = 0; i < used && i < max_registered_slabs; ++i) {
    const slab_record& r = slab_registry[i];
    std::byte* base = r.base.load(std::memory_order_acquire);
    if (base == nullptr) continue;
    const std::size_t stride = r.stride.load(std::memory_order_relaxed);
    const std::size_t count = r.count.load(std::memory_order_relaxed);
    if (a < base || a >= base + stride * count) continue;
    // A fault a little below the guard page's start (a large frame) is in the previous
    // stack's range; treat the guard page and the stack's lowest page both as overflow.
    const std::size_t offset = static_cast<std::size_t>(a - base) % stride;
    if (offset < 2 * page_size()) return r.stack_size.load(std::memory_order_relaxed);
  }
  return 0;
}

}  // namespace grove::detail
