#pragma once

// The HTTP API's route dispatch without a socket, for the fuzz target and
// tests: the same route table and handlers a session runs on a request
// Beast has parsed. Not used by the server itself.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "app/backend.hpp"
#include "app/http_api.hpp"

namespace eventide {

/// The default request header limit of an HTTP session (Beast's
/// `header_limit`, `http.max-header-bytes`); the body limit is
/// `http_options::max_body`.
inline constexpr std::size_t http_header_limit = 16 * 1024;

/// Why a request's header frames its body ambiguously (more than one or a
/// malformed Content-Length, Content-Length with Transfer-Encoding, a
/// Transfer-Encoding other than plain `chunked`); nullopt when it is sound.
/// The session answers 400 and closes on any of these.
std::optional<std::string> framing_error(
  const boost::beast::http::request_header<>& header);

/// What the routes answered, flattened.
struct dispatch_reply {
  unsigned status = 0;
  std::string body;
  std::string allow;        // for 405
  std::string content_type;
  bool stream = false;      // a streaming answer (GET /v1/tap)
};

/// Runs the route of `req` against `be` as a session would (an escaping
/// exception becomes a 500). `respond` is called once, possibly later from
/// a backend thread. Counters in /v1/stats and /metrics are all zero.
void dispatch_for_test(
  backend& be, const http_options& options,
  boost::beast::http::request<boost::beast::http::string_body>& req,
  std::function<void(dispatch_reply)> respond);

} // namespace eventide
