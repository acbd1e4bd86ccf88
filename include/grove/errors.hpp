// The exception types grove throws (docs/reference.md §9). `cancelled` lives in cancel.hpp: it is
// deliberately not a std::exception, so `catch (const std::exception&)` cannot swallow it.
#pragma once

#include <exception>
#include <grove/detail/export.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace grove {

// Misuse of the API; the message says what was misused and where.
class GROVE_API usage_error : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// A fail_after/fail_at scope ran out of time.
class GROVE_API too_slow_error : public std::runtime_error {
 public:
  too_slow_error() : std::runtime_error("grove: fail_after/fail_at deadline expired") {}
  using std::runtime_error::runtime_error;
};

// Two or more errors of one nursery (or one parallel algorithm), in the order they occurred.
class GROVE_API exception_group : public std::exception {
 public:
  explicit exception_group(std::vector<std::exception_ptr> exceptions);
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::vector<std::exception_ptr> exceptions_;
  std::string message_;
};

// Working with groups by exception type, as Python's ExceptionGroup.subgroup / split do. Nested
// groups are searched too. A nested group whose type is itself E matches as a whole, as in
// Python, where the condition is tested on the group first.

namespace detail {
// The exception `error` holds, as an E; null if it is not one. Valid while `error` lives.
template <class E>
const E* exception_as(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const E& found) {
    return &found;
  } catch (...) {
    return nullptr;
  }
}
}  // namespace detail

// The first exception of type E in the group, depth first in order of occurrence; null if there
// is none. The pointer stays valid while `group` (which owns the exception) lives.
template <class E>
const E* find_exception(const exception_group& group) {
  for (const std::exception_ptr& error : group.exceptions()) {
    if (const E* found = detail::exception_as<E>(error)) return found;
    if (const auto* nested = detail::exception_as<exception_group>(error)) {
      if (const E* found = find_exception<E>(*nested)) return found;
    }
  }
  return nullptr;
}

// The group cut in two: the exceptions of type E and the others, each keeping the nesting, and
// empty (no group) when nothing falls on that side.
struct split_group {
  std::optional<exception_group> matching;
  std::optional<exception_group> rest;
};

template <class E>
split_group split(const exception_group& group) {
  std::vector<std::exception_ptr> matching;
  std::vector<std::exception_ptr> rest;
  for (const std::exception_ptr& error : group.exceptions()) {
    if (detail::exception_as<E>(error) != nullptr) {
      matching.push_back(error);
    } else if (const auto* nested = detail::exception_as<exception_group>(error)) {
      split_group parts = split<E>(*nested);
      if (parts.matching) matching.push_back(std::make_exception_ptr(std::move(*parts.matching)));
      if (parts.rest) rest.push_back(std::make_exception_ptr(std::move(*parts.rest)));
    } else {
      rest.push_back(error);
    }
  }
  split_group result;
  if (!matching.empty()) result.matching.emplace(std::move(matching));
  if (!rest.empty()) result.rest.emplace(std::move(rest));
  return result;
}

// The exceptions of type E only (nesting kept), or no group when there are none.
template <class E>
std::optional<exception_group> subgroup(const exception_group& group) {
  return split<E>(group).matching;
}

// receive() on an empty channel whose senders are all closed.
class GROVE_API end_of_channel : public std::runtime_error {
 public:
  end_of_channel() : std::runtime_error("grove: end of channel (every sender is closed)") {}
  using std::runtime_error::runtime_error;
};

// A channel handle used after its own close().
class GROVE_API closed_resource_error : public std::logic_error {
 public:
  closed_resource_error() : std::logic_error("grove: channel handle used after its own close()") {}
  using std::logic_error::logic_error;
};

// send() when every receiver is closed (or a sequencer broken by a cancelled waiter).
class GROVE_API broken_resource_error : public std::runtime_error {
 public:
  broken_resource_error() : std::runtime_error("grove: the other side of the channel is closed") {}
  using std::runtime_error::runtime_error;
};

}  // namespace grove
