#include "app/admin_assets.hpp"

#include <string>
#include <string_view>

#include <doctest/doctest.h>

using namespace eventide;

TEST_SUITE("admin_assets") {

TEST_CASE("the page is served for an empty path and for index.html") {
  auto page = find_admin_asset("");
  REQUIRE(page);
  CHECK(page->content_type == "text/html; charset=utf-8");
  CHECK(page->body.starts_with("<!doctype html>"));
  auto same = find_admin_asset("index.html");
  REQUIRE(same);
  CHECK(same->body == page->body);
}

TEST_CASE("every asset the page links to is embedded with its type") {
  auto page = find_admin_asset("")->body;
  struct expect {
    std::string_view name, type;
  };
  for (auto [name, type] :
       {expect{"console.js", "text/javascript; charset=utf-8"},
        expect{"console.css", "text/css; charset=utf-8"},
        expect{"favicon.svg", "image/svg+xml"}}) {
    CAPTURE(name);
    CHECK(page.find("/admin/" + std::string{name}) != std::string_view::npos);
    auto asset = find_admin_asset(name);
    REQUIRE(asset);
    CHECK(asset->content_type == type);
    CHECK(!asset->body.empty());
  }
}

TEST_CASE("embedded files keep their exact bytes, without a terminator") {
  for (const auto& f : embedded_admin_files()) {
    CAPTURE(f.name);
    CHECK(!f.bytes.empty());
    CHECK(f.bytes.back() == '\n');
  }
}

TEST_CASE("unknown or escaping paths are not found") {
  CHECK(!find_admin_asset("nope.js"));
  CHECK(!find_admin_asset("../CMakeLists.txt"));
  CHECK(!find_admin_asset("/console.js"));
  CHECK(!find_admin_asset("console.js/"));
}

} // TEST_SUITE
