// Out-of-line parts of grove's exception types.
#include <grove/errors.hpp>
#include <string>

namespace grove {

exception_group::exception_group(std::vector<std::exception_ptr> exceptions)
    : exceptions_(std::move(exceptions)) {
  message_ = "grove: " + std::to_string(exceptions_.size()) + " errors:";
  for (const std::exception_ptr& e : exceptions_) {
    message_ += "\n  - ";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      message_ += error.what();
    } catch (...) {
      message_ += "(an exception not derived from std::exception)";
    }
  }
}

}  // namespace grove
