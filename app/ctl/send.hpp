#pragma once

#include <cstdint>
#include <istream>
#include <string>

#include <boost/json/object.hpp>

#include "app/ctl/http_client.hpp"
#include "app/ctl/options.hpp"

namespace eventide::ctl {

/// Cuts NDJSON input into POST bodies of at most `max_lines` lines (blank
/// lines included, so a line's index in its batch maps back to its number
/// in the input) and, unless one line alone is larger, `max_bytes` bytes.
class ndjson_batcher {
public:
  struct batch {
    uint64_t first_line = 0;  // 1-based number of the batch's first line
    uint64_t lines = 0;
    std::string body;
  };

  ndjson_batcher(std::istream& in, uint32_t max_lines,
                 size_t max_bytes = default_max_bytes);

  /// The next batch; false at the end of the input.
  bool next(batch& out);

  /// Half the server's default http.max-body (16 MiB).
  static constexpr size_t default_max_bytes = 8u << 20;

private:
  std::istream& in_;
  uint32_t max_lines_;
  size_t max_bytes_;
  uint64_t next_line_ = 1;
  std::string pending_;  // a line read that did not fit the last batch
  bool has_pending_ = false;
};

/// "line N: code: detail (id X)" for one entry of a POST answer's errors.
std::string render_send_error(uint64_t line, const boost::json::object& e);

/// The send command: returns the exit code.
int run_send(const command& cmd, http_client& http, bool json);

} // namespace eventide::ctl
