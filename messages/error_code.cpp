#include "messages/error_code.hpp"

namespace eventide {

std::string_view to_string(error_code code) {
  switch (code) {
    case error_code::invalid_json:
      return "invalid_json";
    case error_code::not_an_object:
      return "not_an_object";
    case error_code::missing_field:
      return "missing_field";
    case error_code::wrong_type:
      return "wrong_type";
    case error_code::unknown_field:
      return "unknown_field";
    case error_code::duplicate_field:
      return "duplicate_field";
    case error_code::too_large:
      return "too_large";
    case error_code::too_deep:
      return "too_deep";
    case error_code::bad_op:
      return "bad_op";
    case error_code::not_a_number:
      return "not_a_number";
    case error_code::overflow:
      return "overflow";
    case error_code::field_not_numeric:
      return "field_not_numeric";
    case error_code::overloaded:
      return "overloaded";
    case error_code::unavailable:
      return "unavailable";
    case error_code::internal:
      return "internal";
  }
  return "internal";
}

std::optional<error_code> error_code_from_string(std::string_view name) {
  for (std::size_t i = 0; i < error_code_count; ++i) {
    auto code = static_cast<error_code>(i);
    if (to_string(code) == name)
      return code;
  }
  return std::nullopt;
}

} // namespace eventide
