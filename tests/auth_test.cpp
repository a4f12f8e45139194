#include "app/auth.hpp"

#include <string>

#include <doctest/doctest.h>

using namespace eventide;

namespace {

const std::string tok_a = "aaaaaaaaaaaaaaaaaaaa"; // 20 chars
const std::string tok_b = "bbbbbbbbbbbbbbbb-._~+/="; // every allowed sign
const std::string tok_c = "cccccccccccccccc";

std::string error_of(const std::string& text) {
  auto r = token_set::parse(text, "tokens.txt");
  auto* err = std::get_if<std::string>(&r);
  return err ? *err : std::string{};
}

token_set parsed(const std::string& text) {
  auto r = token_set::parse(text, "tokens.txt");
  REQUIRE_MESSAGE(std::holds_alternative<token_set>(r),
                  std::get<std::string>(r));
  return std::get<token_set>(std::move(r));
}

} // namespace

TEST_SUITE("auth") {

TEST_CASE("digest_equal compares whole digests") {
  token_digest a{}, b{};
  CHECK(digest_equal(a, b));
  b[31] = 1; // the last byte
  CHECK_FALSE(digest_equal(a, b));
  b[31] = 0;
  b[0] = 0x80; // the first
  CHECK_FALSE(digest_equal(a, b));
  a[0] = 0x80;
  CHECK(digest_equal(a, b));
}

TEST_CASE("tokens that share a long prefix are told apart") {
  auto set = std::get<token_set>(token_set::parse(
    "read AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1\n"
    "write AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2\n", "t"));
  CHECK(set.find("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1") == scope_set{1});
  CHECK(set.find("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2") != set.find("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"));
  CHECK_FALSE(set.find("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA3").has_value());
  CHECK_FALSE(set.find("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").has_value());
  CHECK_FALSE(set.find("").has_value());
}

TEST_CASE("a token file with comments, blanks and scope lists parses") {
  auto set = parsed("# tokens\n\n"
                    "read " + tok_a + "\n"
                    "  read,write,admin\t" + tok_b + "  \r\n"
                    "write,write " + tok_c); // no final newline
  CHECK(set.size() == 3);
  CHECK(set.find(tok_a) == scope_set{1});
  CHECK(set.find(tok_b) == scope_set{7});
  CHECK(set.find(tok_c) == scope_set{2});
}

TEST_CASE("find matches whole tokens only") {
  auto set = parsed("read " + tok_a + "\n");
  CHECK_FALSE(set.find(""));
  CHECK_FALSE(set.find(tok_a.substr(0, 19)));
  CHECK_FALSE(set.find(tok_a + "a"));
  CHECK_FALSE(set.find("b" + tok_a.substr(1)));
  CHECK_FALSE(set.find(tok_a.substr(0, 19) + "b"));
  CHECK(set.find(tok_a));
}

TEST_CASE("bad lines are refused naming the file and line, never the token") {
  auto e = error_of("read " + tok_a + "\nbogus " + tok_b + "\n");
  CHECK(e.find("tokens.txt:2:") == 0);
  CHECK(e.find("unknown scope 'bogus'") != std::string::npos);
  CHECK(e.find(tok_b) == std::string::npos);

  e = error_of("\n\n" + tok_a + "\n");
  CHECK(e.find("tokens.txt:3: expected 'SCOPES TOKEN'") == 0);
  CHECK(e.find(tok_a) == std::string::npos);

  e = error_of(tok_a + " read\n"); // the wrong way round
  CHECK(e.find("tokens.txt:1: unknown scope") == 0);
  CHECK(e.find(tok_a) == std::string::npos);

  e = error_of("read short-token\n");
  CHECK(e.find("tokens.txt:1: token shorter than 16") == 0);
  CHECK(e.find("short-token") == std::string::npos);

  e = error_of("read " + tok_a + " extra\n");
  CHECK(e.find("tokens.txt:1: expected 'SCOPES TOKEN': too many") == 0);

  e = error_of("read " + tok_a + "\nwrite " + tok_a + "\n");
  CHECK(e.find("tokens.txt:2: duplicate token (also on line 1)") == 0);
  CHECK(e.find(tok_a) == std::string::npos);

  e = error_of("read,,write " + tok_a + "\n");
  CHECK(e.find("tokens.txt:1: unknown scope ''") == 0);

  e = error_of("read " + tok_a + "\"x\n");
  CHECK(e.find("tokens.txt:1: token has a character outside") == 0);

  e = error_of("# only a comment\n\n");
  CHECK(e.find("tokens.txt: no tokens") == 0);
}

TEST_CASE("load names a missing file") {
  auto r = token_set::load("/nonexistent/eventide-tokens");
  REQUIRE(std::holds_alternative<std::string>(r));
  CHECK(std::get<std::string>(r).find("/nonexistent/eventide-tokens")
        != std::string::npos);
}

TEST_CASE("the authenticator counts each kind of failure") {
  authenticator auth{parsed("read " + tok_a + "\nwrite " + tok_c + "\n")};
  CHECK(auth.check(tok_a, scope::read) == auth_failure::none);
  CHECK(auth.check(tok_c, scope::write) == auth_failure::none);
  CHECK(auth.check(std::nullopt, scope::read) == auth_failure::missing);
  CHECK(auth.check(std::string_view{}, scope::read) == auth_failure::missing);
  CHECK(auth.check(tok_b, scope::read) == auth_failure::invalid);
  CHECK(auth.check(tok_a, scope::write) == auth_failure::scope);
  CHECK(auth.check(tok_c, scope::read) == auth_failure::scope);
  CHECK(auth.check(tok_a, scope::admin) == auth_failure::scope);
  auto s = auth.stats();
  CHECK(s.enabled);
  CHECK(s.missing == 2);
  CHECK(s.invalid == 1);
  CHECK(s.scope == 3);
  CHECK(auth_summary(s, auth_stats{}, 60)
        == "refused 6 unauthenticated or unauthorised requests in the last "
           "60 s: missing=2 invalid=1 scope=3");
  CHECK(auth_summary(s, s, 60).empty());
}

TEST_CASE("bearer_token reads the Authorization header") {
  CHECK(bearer_token("Bearer abc") == std::optional<std::string_view>{"abc"});
  CHECK(bearer_token("bearer   abc ") == std::optional<std::string_view>{"abc"});
  CHECK(bearer_token("BEARER\tabc") == std::optional<std::string_view>{"abc"});
  CHECK_FALSE(bearer_token(""));
  CHECK_FALSE(bearer_token("Bearer"));
  CHECK_FALSE(bearer_token("Bearer   "));
  CHECK_FALSE(bearer_token("Basic abc"));
  CHECK_FALSE(bearer_token("Bearerabc"));
}

TEST_CASE("error bodies follow the API's error shape") {
  CHECK(auth_error_json(auth_failure::scope, scope::write, false)
        == R"({"error":"forbidden","detail":"this token lacks the write scope"})");
  CHECK(auth_error_json(auth_failure::invalid, scope::read, true)
        == R"({"error":"unauthorized","detail":"unknown token"})");
  CHECK(auth_error_json(auth_failure::missing, scope::read, false)
          .find(R"("error":"unauthorized")")
        != std::string::npos);
}

}
