#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace eventide {

/// One file of app/admin/, compiled into the binary (cmake/EmbedFiles.cmake).
struct embedded_file {
  std::string_view name;  // relative to app/admin/, e.g. "console.js"
  std::string_view bytes; // the file's exact content
};

/// Every embedded file of the admin console (generated source).
std::span<const embedded_file> embedded_admin_files();

/// A file of the admin console as served over HTTP.
struct admin_asset {
  std::string_view content_type;
  std::string_view body;
};

/// The asset for the part of the URL after "/admin/" ("" and "index.html"
/// give the page itself); nullopt for anything not embedded.
std::optional<admin_asset> find_admin_asset(std::string_view path);

} // namespace eventide
