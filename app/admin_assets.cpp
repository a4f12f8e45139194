#include "app/admin_assets.hpp"

namespace eventide {

namespace {

/// The Content-Type for a file name, by extension.
std::string_view content_type_of(std::string_view name) {
  auto ends_with = [&](std::string_view ext) { return name.ends_with(ext); };
  if (ends_with(".html"))
    return "text/html; charset=utf-8";
  if (ends_with(".js"))
    return "text/javascript; charset=utf-8";
  if (ends_with(".css"))
    return "text/css; charset=utf-8";
  if (ends_with(".svg"))
    return "image/svg+xml";
  if (ends_with(".png"))
    return "image/png";
  if (ends_with(".json"))
    return "application/json";
  return "application/octet-stream";
}

} // namespace

std::optional<admin_asset> find_admin_asset(std::string_view path) {
  if (path.empty())
    path = "index.html";
  for (const auto& f : embedded_admin_files())
    if (f.name == path)
      return admin_asset{content_type_of(f.name), f.bytes};
  return std::nullopt;
}

} // namespace eventide
