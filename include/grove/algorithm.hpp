// Data-parallel algorithms on nurseries (docs/reference.md §7): parallel_for and parallel_reduce
// over integer or random-access-iterator ranges. Work is split lazily: a task halves its remaining
// range only when its worker's deque is empty (so an idle worker could take the other half),
// instead of pre-chunking; a half nobody steals is run inline by the joining parent.
#pragma once

#include <algorithm>
#include <grove/cancel.hpp>
#include <grove/detail/export.hpp>
#include <grove/detail/requirements.hpp>
#include <grove/detail/spin_lock.hpp>
#include <grove/errors.hpp>
#include <grove/nursery.hpp>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace grove {

namespace detail {

template <class I>
struct grain_type {
  using type = std::iter_difference_t<I>;
};
template <class I>
requires std::is_integral_v<I>
struct grain_type<I> {
  using type = I;
};

// A checkpoint that also checks the task requirement (docs/reference.md §10 rules 4, 5).
GROVE_API void algorithm_checkpoint(const char* what);
// Whether the running task should give half of its remaining range away now: its worker has
// nothing queued locally and there are other workers that could steal it.
GROVE_API bool should_split_now() noexcept;
// Workers of the current task's runtime (1 outside a task).
GROVE_API unsigned current_worker_count() noexcept;

// The algorithms work on positions 0..count-1 of the range (a signed type); `at(k)` maps a
// position back to an index or iterator.
template <class I>
struct position_type {
  using type = std::iter_difference_t<I>;
};
template <class I>
requires std::is_integral_v<I>
struct position_type<I> {
  using type = std::make_signed_t<I>;
};

template <class I>
struct index_space {
  I first;
  using difference = typename position_type<I>::type;
  I at(difference k) const { return first + static_cast<typename grain_type<I>::type>(k); }
};

template <class G>
void check_grain(G grain, const char* what) {
  if constexpr (std::is_signed_v<G>) {
    if (grain < 0) throw usage_error(std::string(what) + ": negative grain");
  }
}

template <class I>
typename index_space<I>::difference checked_count(I first, I last, const char* what) {
  if (last < first) throw usage_error(std::string(what) + ": last < first");
  using difference = typename index_space<I>::difference;
  if constexpr (std::is_integral_v<I>) {
    return static_cast<difference>(last) - static_cast<difference>(first);
  } else {
    return static_cast<difference>(last - first);
  }
}

template <class Difference>
Difference choose_grain(Difference count, Difference requested) {
  if (requested > 0) return requested;
  // Auto: small enough that every worker gets many pieces to balance uneven work, large
  // enough that a piece amortises the split test (an atomic load or two).
  const auto workers = static_cast<Difference>(current_worker_count());
  return std::max<Difference>(1, count / (workers * 64));
}

// Runs [begin, end) of positions in grain-sized pieces, halving the rest away whenever
// should_split_now() says so. `piece(b, e)` processes one piece; `spawn(b, e)` gives away a half.
template <class Difference, class Piece, class Spawn>
void run_lazily_split(Difference begin, Difference end, Difference grain, Piece& piece,
                      Spawn& spawn) {
  while (end - begin > grain) {
    if (cancel_requested()) throw cancelled{};
    if (end - begin >= 2 * grain && should_split_now()) {
      // Split on a multiple of grain: every piece but the range's very last is a full grain.
      const Difference middle = begin + (end - begin) / 2 / grain * grain;
      spawn(middle, end);
      end = middle;
      continue;
    }
    piece(begin, begin + grain);
    begin += grain;
  }
  if (cancel_requested()) throw cancelled{};
  if (begin < end) piece(begin, end);
}

}  // namespace detail

template <class I>
using grain_t = typename detail::grain_type<I>::type;

namespace detail {
// What parallel_for and parallel_reduce do first: the checkpoint, the checks of the range and
// the grain (usage_error naming `what`), and the sub-range size to split down to.
template <class I>
struct range_plan {
  using difference = typename index_space<I>::difference;
  difference count;
  index_space<I> space;
  difference chunk;  // 0 when count is 0
};
template <class I>
range_plan<I> plan_range(I first, I last, grain_t<I> grain, const char* what) {
  using difference = typename index_space<I>::difference;
  algorithm_checkpoint(what);
  const difference count = checked_count(first, last, what);
  check_grain(grain, what);
  const difference chunk =
      count == 0 ? difference{0} : choose_grain<difference>(count, static_cast<difference>(grain));
  return {count, index_space<I>{first}, chunk};
}
}  // namespace detail

template <class I, class F>
void parallel_for(I first, I last, F&& body, grain_t<I> grain = 0) {
  if constexpr (!std::is_invocable_v<F&, I, I> && !std::is_invocable_v<F&, I>) {
    static_assert(detail::dependent_false<F>,
                  "grove::parallel_for(first, last, body): body must be callable as body(i) or "
                  "as body(begin, end), with i, begin and end of the type of first and last");
  } else {
    using difference = typename detail::index_space<I>::difference;
    // Not a structured binding: lambdas below capture these (clang before 16 cannot).
    const detail::range_plan<I> plan =
        detail::plan_range(first, last, grain, "grove::parallel_for");
    const difference count = plan.count;
    const detail::index_space<I>& space = plan.space;
    const difference chunk = plan.chunk;
    if (count == 0) return;
    auto piece = [&](difference b, difference e) {
      if constexpr (std::is_invocable_v<F&, I, I>) {
        body(space.at(b), space.at(e));
      } else {
        for (difference k = b; k < e; ++k) body(space.at(k));
      }
    };
    open_nursery([&](nursery& n) {
      // Self-referential: a spawned half may split again into the same (flat) nursery, so that
      // several failing pieces surface as one exception_group with one element per piece.
      struct splitter {
        nursery* n;
        decltype(piece)* run_piece;
        difference chunk;
        void operator()(difference b, difference e) const {
          n->start_soon([self = *this, b, e] {
            splitter copy = self;
            detail::run_lazily_split(b, e, copy.chunk, *copy.run_piece, copy);
          });
        }
      };
      splitter spawn{&n, &piece, chunk};
      detail::run_lazily_split(difference{0}, count, chunk, piece, spawn);
    });
  }
}

template <class I, class T, class Map, class Reduce>
T parallel_reduce(I first, I last, T identity, Map&& map, Reduce&& reduce, grain_t<I> grain = 0) {
  if constexpr (!std::is_invocable_v<Map&, I, I>) {
    static_assert(detail::dependent_false<Map>,
                  "grove::parallel_reduce(first, last, identity, map, reduce): map must be "
                  "callable as map(begin, end)");
  } else if constexpr (!std::is_convertible_v<std::invoke_result_t<Map&, I, I>, T>) {
    static_assert(detail::dependent_false<Map>,
                  "grove::parallel_reduce: map(begin, end) must return the type of identity");
  } else if constexpr (!std::is_invocable_r_v<T, Reduce&, T, T>) {
    static_assert(detail::dependent_false<Reduce>,
                  "grove::parallel_reduce: reduce must be callable as reduce(T, T) returning T, "
                  "T being the type of identity");
  } else {
    using difference = typename detail::index_space<I>::difference;
    const detail::range_plan<I> plan =
        detail::plan_range(first, last, grain, "grove::parallel_reduce");
    const difference count = plan.count;
    const detail::index_space<I>& space = plan.space;
    const difference chunk = plan.chunk;
    if (count == 0) return identity;

    // Every task folds the pieces it ran, in order, into one partial for the contiguous range it
    // covered; the partials are combined left to right at the end, so a non-commutative reduce
    // is correct (docs/reference.md §10 rule 8).
    detail::spin_lock partials_lock;
    std::vector<std::pair<difference, T>> partials;
    struct task_range {
      difference start;
      std::optional<T> acc;
    };
    auto fold_piece = [&](task_range& range, difference b, difference e) {
      T part = map(space.at(b), space.at(e));
      if (range.acc) {
        range.acc.emplace(reduce(std::move(*range.acc), std::move(part)));
      } else {
        range.acc.emplace(std::move(part));
      }
    };
    auto publish = [&](task_range& range) {
      if (!range.acc) return;
      std::lock_guard guard(partials_lock);
      partials.emplace_back(range.start, std::move(*range.acc));
    };

    open_nursery([&](nursery& n) {
      struct splitter {
        nursery* n;
        decltype(fold_piece)* fold;
        decltype(publish)* finish;
        difference chunk;
        void operator()(difference b, difference e) const {
          n->start_soon([self = *this, b, e] { self.run(b, e); });
        }
        void run(difference b, difference e) const {
          task_range range{b, std::nullopt};
          auto piece = [&](difference pb, difference pe) { (*fold)(range, pb, pe); };
          splitter copy = *this;
          detail::run_lazily_split(b, e, chunk, piece, copy);
          (*finish)(range);
        }
      };
      splitter{&n, &fold_piece, &publish, chunk}.run(difference{0}, count);
    });

    std::sort(partials.begin(), partials.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    T result = std::move(identity);
    for (auto& [start, partial] : partials) result = reduce(std::move(result), std::move(partial));
    return result;
  }
}

}  // namespace grove
