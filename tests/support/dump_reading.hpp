// Reading task-tree dumps in tests: the text and JSON forms of a runtime's dump, and finding
// tasks, ids and lines in the text.
#pragma once

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <grove/grove.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "support/runtime_fixture.hpp"

namespace grove_test {

inline std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t found = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++found;
  }
  return found;
}

inline std::string text_dump(const grove::runtime& rt) {
  std::ostringstream out;
  rt.dump_task_tree(out);
  return out.str();
}

inline boost::json::value json_dump(const grove::runtime& rt) {
  std::ostringstream out;
  rt.dump_task_tree_json(out);
  // Four JSON levels per level of the tree (task, nurseries, nursery, children): deeper than
  // Boost.JSON's default limit of 32 for a recursion of depth 8.
  boost::json::parse_options options;
  options.max_depth = 100000;
  return boost::json::parse(out.str(), {}, options);
}

// Yields (never sleeps) until `done()` holds; fails the test instead of hanging.
template <class F>
inline bool eventually(F&& done) {
  const auto give_up = std::chrono::steady_clock::now() + generous;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

// The id printed after "task " on the first line that contains `marker`.
inline std::string id_on_line_with(const std::string& tree, const std::string& marker) {
  const auto at = tree.find(marker);
  if (at == std::string::npos) return {};
  const auto line_start = tree.rfind('\n', at) + 1;
  const auto id_start = tree.find("task ", line_start) + 5;
  return tree.substr(id_start, tree.find_first_of(" :", id_start) - id_start);
}

inline std::string line_with(const std::string& text, const std::string& marker) {
  const auto at = text.find(marker);
  if (at == std::string::npos) return {};
  const auto start = text.rfind('\n', at) + 1;
  return text.substr(start, text.find('\n', at) - start);
}

}  // namespace grove_test
