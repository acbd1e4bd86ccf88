// The exception types grove throws (docs/reference.md §9). `cancelled` lives in cancel.hpp: it is
// deliberately not a std::exception, so `catch (const std::exception&)` cannot swallow it.
#pragma once

#include <exception>
#include <grove/detail/export.hpp>
#include <stdexcept>
#include <string>
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
