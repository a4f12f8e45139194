#pragma once

#include <string>
#include <string_view>

namespace eventide {

/// Appends `s` as the inside of a JSON string literal (no quotes). The
/// input must be valid UTF-8: only quotes, backslashes and control
/// characters are escaped; every other byte passes through.
void append_json_escaped(std::string& out, std::string_view s);

} // namespace eventide
