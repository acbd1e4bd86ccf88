// JSON string literals for the task-tree dump and the trace file, which both write JSON by hand
// (a few fixed shapes; not worth a JSON library in the core).
#pragma once

#include <iosfwd>
#include <string_view>

namespace grove::detail {

// Writes `text` as a JSON string: quoted, with quotes, backslashes and control characters
// escaped.
void write_json_string(std::ostream& out, std::string_view text);

}  // namespace grove::detail
