// How dumps and traces name a task that was given no name: its callable's type, demangled.
#pragma once

#include <string>
#include <typeinfo>

namespace grove::detail {

// The demangled type, with a lambda's enclosing call operators left out:
// "main::{lambda()#1}::{lambda(grove::nursery&)#1}".
std::string readable_type_name(const std::type_info& type);

}  // namespace grove::detail
