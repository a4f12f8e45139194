#include "app/auth.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace eventide {

namespace {

/// 1 when `x` is zero, else 0, computed without a branch.
uint64_t is_zero(uint64_t x) {
  return ((x | (0 - x)) >> 63) ^ 1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty()
         && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

/// RFC 6750 b64token characters.
bool token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
         || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
         || c == '~' || c == '+' || c == '/' || c == '=';
}

std::optional<scope> scope_of(std::string_view name) {
  if (name == "read")
    return scope::read;
  if (name == "write")
    return scope::write;
  if (name == "admin")
    return scope::admin;
  return std::nullopt;
}

} // namespace

std::string_view to_string(scope s) {
  switch (s) {
    case scope::read:
      return "read";
    case scope::write:
      return "write";
    case scope::admin:
      return "admin";
  }
  return "unknown";
}

bool digest_equal(const token_digest& a, const token_digest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Why digests: comparing the presented token with the configured ones byte
// by byte would stop at the first difference or at a length mismatch, and
// the time taken would tell an attacker how much of a token they guessed.
// Instead every token is hashed under a random per-process key into a
// fixed-size digest (HMAC-SHA-256, OpenSSL), and the presented token's
// digest is compared with *every* configured digest by OpenSSL's
// constant-time CRYPTO_memcmp, the results folded with masks, with no
// branch and no early exit. The time then depends only on the presented token's length
// (known to its sender) and the number of configured tokens (fixed), never
// on which token matched or how close a guess was; and because the key is
// secret, an attacker cannot even aim for digests that share a prefix. The
// plain tokens are not kept in memory after the file is read.
std::optional<scope_set> token_set::find(std::string_view token) const {
  auto d = digest_of(token);
  uint64_t found = 0;
  uint64_t scopes = 0;
  for (const auto& e : entries_) {
    auto diff = CRYPTO_memcmp(d.data(), e.digest.data(), d.size());
    uint64_t eq = is_zero(static_cast<uint64_t>(static_cast<unsigned>(diff)));
    scopes |= e.scopes & (0 - eq);
    found |= eq;
  }
  if (found == 0)
    return std::nullopt;
  return static_cast<scope_set>(scopes);
}

token_digest token_set::digest_of(std::string_view token) const {
  token_digest d{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(token.data()), token.size(),
       d.data(), &len);
  return d;
}

std::variant<token_set, std::string>
token_set::parse(std::string_view text, const std::string& name) {
  token_set out;
  if (RAND_bytes(out.key_.data(), static_cast<int>(out.key_.size())) != 1)
    return name + ": no random bytes for the token key";
  std::unordered_map<std::string, int> seen; // token -> line, parse only
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    auto raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto line = trim(raw);
    if (line.empty() || line.front() == '#')
      continue;
    auto where = name + ":" + std::to_string(line_no) + ": ";
    auto gap = line.find_first_of(" \t");
    if (gap == std::string_view::npos)
      return where + "expected 'SCOPES TOKEN' (e.g. 'read,write TOKEN')";
    auto scopes_text = line.substr(0, gap);
    auto token = trim(line.substr(gap));
    if (token.find_first_of(" \t") != std::string_view::npos)
      return where + "expected 'SCOPES TOKEN': too many fields";
    scope_set scopes = 0;
    std::string_view rest = scopes_text;
    while (true) {
      auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      auto s = scope_of(item);
      if (!s) {
        // Why the length check: a line written the wrong way round would
        // otherwise print the token here.
        if (item.size() < min_token_length && item.find('=') == item.npos)
          return where + "unknown scope '" + std::string{item}
                 + "' (expected read, write or admin)";
        return where + "unknown scope (expected read, write or admin)";
      }
      scopes |= static_cast<scope_set>(*s);
      if (comma == std::string_view::npos)
        break;
      rest.remove_prefix(comma + 1);
    }
    if (token.size() < min_token_length)
      return where + "token shorter than "
             + std::to_string(min_token_length) + " characters";
    for (char c : token)
      if (!token_char(c))
        return where
               + "token has a character outside A-Z a-z 0-9 - . _ ~ + / =";
    auto [it, fresh] = seen.emplace(std::string{token}, line_no);
    if (!fresh)
      return where + "duplicate token (also on line "
             + std::to_string(it->second) + ")";
    out.entries_.push_back({out.digest_of(token), scopes});
  }
  if (out.entries_.empty())
    return name + ": no tokens (authentication on would refuse everyone)";
  return out;
}

std::variant<token_set, std::string>
token_set::load(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return "cannot read auth.token-file '" + path
           + "': " + std::strerror(errno);
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

authenticator::authenticator(token_set tokens) : tokens_(std::move(tokens)) {
}

auth_failure authenticator::check(std::optional<std::string_view> token,
                                  scope needed) {
  if (!token || token->empty()) {
    ++missing_;
    return auth_failure::missing;
  }
  auto scopes = tokens_.find(*token);
  if (!scopes) {
    ++invalid_;
    return auth_failure::invalid;
  }
  if ((*scopes & static_cast<scope_set>(needed)) == 0) {
    ++scope_;
    return auth_failure::scope;
  }
  return auth_failure::none;
}

auth_stats authenticator::stats() const {
  return {true, missing_.load(), invalid_.load(), scope_.load()};
}

std::optional<std::string_view> bearer_token(std::string_view header) {
  header = trim(header);
  constexpr std::string_view scheme = "bearer";
  if (header.size() <= scheme.size())
    return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    auto c = header[i];
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    if (c != scheme[i])
      return std::nullopt;
  }
  if (header[scheme.size()] != ' ' && header[scheme.size()] != '\t')
    return std::nullopt;
  auto token = trim(header.substr(scheme.size()));
  if (token.empty())
    return std::nullopt;
  return token;
}

std::string auth_error_json(auth_failure f, scope needed, bool tcp) {
  boost::json::object obj;
  switch (f) {
    case auth_failure::missing:
      obj["error"] = "unauthorized";
      obj["detail"] = tcp ? "authentication required: the first line must "
                            "be {\"auth\":\"TOKEN\"}"
                          : "authentication required: send Authorization: "
                            "Bearer TOKEN";
      break;
    case auth_failure::invalid:
      obj["error"] = "unauthorized";
      obj["detail"] = "unknown token";
      break;
    case auth_failure::scope:
    case auth_failure::none:
      obj["error"] = "forbidden";
      obj["detail"] = "this token lacks the " + std::string{to_string(needed)}
                      + " scope";
      break;
  }
  return boost::json::serialize(obj);
}

std::string auth_summary(const auth_stats& now, const auth_stats& before,
                         int seconds) {
  auto total = now.total() - before.total();
  if (total == 0)
    return {};
  std::string parts;
  auto part = [&](const char* name, uint64_t a, uint64_t b) {
    if (a > b)
      parts += std::string{" "} + name + "=" + std::to_string(a - b);
  };
  part("missing", now.missing, before.missing);
  part("invalid", now.invalid, before.invalid);
  part("scope", now.scope, before.scope);
  return "refused " + std::to_string(total)
         + " unauthenticated or unauthorised requests in the last "
         + std::to_string(seconds) + " s:" + parts;
}

} // namespace eventide
