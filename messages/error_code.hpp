#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace eventide {

/// Every error code of DESIGN.md §2; `to_string` gives the wire name.
enum class error_code : uint8_t {
  invalid_json,
  not_an_object,
  missing_field,
  wrong_type,
  unknown_field,
  duplicate_field,
  too_large,
  too_deep,
  bad_op,
  not_a_number,
  overflow,
  field_not_numeric,
  overloaded,
  unavailable,
  internal,
};

/// Number of enumerators of `error_code`, for per-code counter arrays.
inline constexpr std::size_t error_code_count = 15;

/// The wire name of `code`, e.g. "invalid_json".
std::string_view to_string(error_code code);

/// The code whose wire name is `name`, if any.
std::optional<error_code> error_code_from_string(std::string_view name);

} // namespace eventide
