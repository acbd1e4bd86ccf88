// readable_type_name (type_names.hpp).
#include "trace/type_names.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace grove::detail {

std::string readable_type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  if (status != 0 || !demangled) return type.name();
  // A lambda's type names every enclosing call operator ("f()::{lambda()#1}::operator()()
  // const::{lambda()#2}"); the lambdas alone say where it was written.
  std::string name = demangled.get();
  const std::string call = "::operator()(";
  for (std::size_t at = name.find(call); at != std::string::npos; at = name.find(call, at)) {
    std::size_t end = at + call.size();
    for (int depth = 1; end < name.size() && depth > 0; ++end) {
      if (name[end] == '(') ++depth;
      if (name[end] == ')') --depth;
    }
    if (name.compare(end, 6, " const") == 0) end += 6;
    name.erase(at, end - at);
  }
  return name;
}

}  // namespace grove::detail
