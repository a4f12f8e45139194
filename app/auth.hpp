#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace eventide {

// Bearer-token authentication (README "Security"): the token file, the
// constant-time lookup, and the failure counters. No network code inside.

/// What a token may do; a token holds any combination (none implies another).
enum class scope : uint8_t { read = 1, write = 2, admin = 4 };

using scope_set = uint8_t;

std::string_view to_string(scope s);

/// A keyed digest of a token: HMAC-SHA-256 under a random per-process key.
using token_digest = std::array<unsigned char, 32>;

/// Equality of two digests without a data-dependent branch or early exit.
bool digest_equal(const token_digest& a, const token_digest& b);

/// The tokens of a token file, held only as keyed digests.
class token_set {
public:
  /// Parses the text of a token file: `SCOPES TOKEN` per line, SCOPES a
  /// comma list of read, write, admin; `#` comment lines and blank lines.
  /// On a bad line returns "NAME:LINE: reason" (never the token itself).
  static std::variant<token_set, std::string> parse(std::string_view text,
                                                    const std::string& name);

  /// Reads and parses the file at `path`.
  static std::variant<token_set, std::string> load(const std::string& path);

  /// The scopes of `token`, or nullopt when it is not configured. Takes the
  /// same time whichever token matches, or none (see the .cpp).
  std::optional<scope_set> find(std::string_view token) const;

  std::size_t size() const noexcept {
    return entries_.size();
  }

  /// Shortest token accepted in a file.
  static constexpr std::size_t min_token_length = 16;

private:
  struct entry {
    token_digest digest;
    scope_set scopes = 0;
  };
  token_digest digest_of(std::string_view token) const;

  std::array<unsigned char, 32> key_{};
  std::vector<entry> entries_;
};

/// Why a request was refused.
enum class auth_failure : uint8_t { none, missing, invalid, scope };

/// Failure counters, for /v1/stats and /metrics.
struct auth_stats {
  bool enabled = false;
  uint64_t missing = 0; // no token presented
  uint64_t invalid = 0; // a token that is not configured
  uint64_t scope = 0;   // a valid token without the needed scope

  uint64_t total() const noexcept {
    return missing + invalid + scope;
  }
};

/// The checks both front ends share; thread-safe.
class authenticator {
public:
  explicit authenticator(token_set tokens);

  /// Checks `token` (nullopt: none was presented) for `needed`, counting
  /// every failure. Never logs.
  auth_failure check(std::optional<std::string_view> token, scope needed);

  auth_stats stats() const;

private:
  token_set tokens_;
  std::atomic<uint64_t> missing_{0};
  std::atomic<uint64_t> invalid_{0};
  std::atomic<uint64_t> scope_{0};
};

/// The token of an `Authorization: Bearer TOKEN` header value; nullopt when
/// the value is empty or of another scheme.
std::optional<std::string_view> bearer_token(std::string_view header);

/// The JSON error line/body `{"error":"unauthorized"|"forbidden",...}` for
/// a failure (not `none`) when `needed` was asked for.
std::string auth_error_json(auth_failure f, scope needed, bool tcp);

/// The periodic warning line for the failures between two readings, or
/// empty when there were none.
std::string auth_summary(const auth_stats& now, const auth_stats& before,
                         int seconds);

} // namespace eventide
