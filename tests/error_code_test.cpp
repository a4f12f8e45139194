#include "messages/error_code.hpp"

#include <set>
#include <string>

#include <doctest/doctest.h>

using namespace eventide;

TEST_SUITE("error_code") {

TEST_CASE("every error code has a distinct wire name that parses back") {
  std::set<std::string> names;
  for (std::size_t i = 0; i < error_code_count; ++i) {
    auto code = static_cast<error_code>(i);
    auto name = std::string{to_string(code)};
    CHECK_FALSE(name.empty());
    CHECK(names.insert(name).second);
    CHECK(error_code_from_string(name) == code);
  }
  CHECK(to_string(error_code::invalid_json) == "invalid_json");
  CHECK(to_string(error_code::field_not_numeric) == "field_not_numeric");
  CHECK(to_string(error_code::internal) == "internal");
  CHECK_FALSE(error_code_from_string("no_such_code").has_value());
}

}
