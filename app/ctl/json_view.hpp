#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace eventide::ctl {

/// Tolerant readers for the server's JSON: a missing member or one of
/// another type reads as 0 / "" (the contract may add members; the tool
/// must not break on an older or newer server).
/// JSON text as a person reads it: like boost::json::serialize, but
/// doubles in their shortest exact form with ".0" on integral values (as
/// the server writes them), not "9.5E0".
inline std::string json_text(const boost::json::value& v) {
  if (v.is_double()) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v.get_double());
    std::string out{buf, r.ptr};
    if (std::isfinite(v.get_double())
        && out.find_first_of(".eE") == std::string::npos)
      out += ".0";
    return out;
  }
  if (v.is_array()) {
    std::string out = "[";
    for (const auto& e : v.get_array())
      out += (out.size() > 1 ? "," : "") + json_text(e);
    return out + "]";
  }
  if (v.is_object()) {
    std::string out = "{";
    for (const auto& [k, e] : v.get_object())
      out += (out.size() > 1 ? "," : "")
             + boost::json::serialize(boost::json::string_view{k}) + ":"
             + json_text(e);
    return out + "}";
  }
  return boost::json::serialize(v);
}

inline uint64_t u64_of(const boost::json::value* v) {
  if (v == nullptr)
    return 0;
  if (v->is_uint64())
    return v->get_uint64();
  if (v->is_int64())
    return v->get_int64() < 0 ? 0 : static_cast<uint64_t>(v->get_int64());
  if (v->is_double())
    return v->get_double() < 0 ? 0 : static_cast<uint64_t>(v->get_double());
  return 0;
}

inline uint64_t u64_of(const boost::json::object& o, std::string_view name) {
  return u64_of(o.if_contains(name));
}

inline double double_of(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr)
    return 0;
  if (v->is_double())
    return v->get_double();
  return static_cast<double>(u64_of(v));
}

inline std::string str_of(const boost::json::object& o,
                          std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null())
    return {};
  if (v->is_string())
    return std::string{v->get_string()};
  return json_text(*v);
}

/// A scalar for a table cell: strings bare, null as "-", others as JSON.
inline std::string cell_of(const boost::json::object& o,
                           std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null())
    return "-";
  return str_of(o, name);
}

inline const boost::json::object* object_of(const boost::json::object& o,
                                            std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr ? v->if_object() : nullptr;
}

inline const boost::json::array* array_of(const boost::json::object& o,
                                          std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr ? v->if_array() : nullptr;
}

} // namespace eventide::ctl
