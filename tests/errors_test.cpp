// Errors: exception_group and the helpers that find or split its exceptions by type, nested
// groups included (docs/reference.md §9).
#include <doctest/doctest.h>

#include <grove/grove.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::exception_ptr error_of(const char* what) {
  return std::make_exception_ptr(std::runtime_error(what));
}

// [runtime "a", logic "b", [runtime "c", invalid_argument "d"], 7]
grove::exception_group nested_example() {
  grove::exception_group inner(
      {error_of("c"), std::make_exception_ptr(std::invalid_argument("d"))});
  return grove::exception_group({error_of("a"), std::make_exception_ptr(std::logic_error("b")),
                                 std::make_exception_ptr(inner), std::make_exception_ptr(7)});
}

std::vector<std::string> leaves(const grove::exception_group& group) {
  std::vector<std::string> out;
  for (const auto& error : group.exceptions()) {
    try {
      std::rethrow_exception(error);
    } catch (const grove::exception_group& nested) {
      out.push_back("[");
      for (auto& leaf : leaves(nested)) out.push_back(leaf);
      out.push_back("]");
    } catch (const std::exception& e) {
      out.push_back(e.what());
    } catch (int v) {
      out.push_back(std::to_string(v));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("find_exception returns the first exception of a type, searching nested groups") {
  const grove::exception_group group = nested_example();
  const auto* logic = grove::find_exception<std::logic_error>(group);
  REQUIRE(logic != nullptr);
  CHECK(std::string(logic->what()) == "b");
  const auto* invalid = grove::find_exception<std::invalid_argument>(group);
  REQUIRE(invalid != nullptr);
  CHECK(std::string(invalid->what()) == "d");  // only inside the nested group
  CHECK(grove::find_exception<std::bad_alloc>(group) == nullptr);
  CHECK(*grove::find_exception<int>(group) == 7);
}

TEST_CASE("split cuts a group by type and keeps the nesting on both sides") {
  const grove::exception_group group = nested_example();
  const grove::split_group parts = grove::split<std::runtime_error>(group);
  REQUIRE(parts.matching);
  REQUIRE(parts.rest);
  CHECK(leaves(*parts.matching) == std::vector<std::string>{"a", "[", "c", "]"});
  CHECK(leaves(*parts.rest) == std::vector<std::string>{"b", "[", "d", "]", "7"});
}

TEST_CASE("subgroup keeps only one type; a side with nothing is no group at all") {
  const grove::exception_group group = nested_example();
  const auto logic = grove::subgroup<std::logic_error>(group);  // invalid_argument is one too
  REQUIRE(logic);
  CHECK(leaves(*logic) == std::vector<std::string>{"b", "[", "d", "]"});
  CHECK_FALSE(grove::subgroup<std::bad_alloc>(group));
  const grove::split_group everything = grove::split<std::exception>(group);
  CHECK(everything.rest);  // the int
  // A nested group is a std::exception itself: it matches as a whole, as in Python.
  CHECK(leaves(*everything.matching) == std::vector<std::string>{"a", "b", "[", "c", "d", "]"});
}

TEST_CASE("a nursery's group of errors splits by type") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  try {
    rt.run([] {
      grove::open_nursery([](grove::nursery& n) {
        n.start_soon([] { throw std::runtime_error("network"); });
        n.start_soon([] { throw std::invalid_argument("bad input"); });
      });
    });
    FAIL("the nursery did not throw");
  } catch (const grove::exception_group& group) {
    CHECK(grove::find_exception<std::invalid_argument>(group) != nullptr);
    const auto parts = grove::split<std::invalid_argument>(group);
    CHECK(leaves(*parts.matching) == std::vector<std::string>{"bad input"});
    CHECK(leaves(*parts.rest) == std::vector<std::string>{"network"});
  }
}
