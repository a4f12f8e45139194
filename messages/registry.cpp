#include "messages/messages.hpp"

#include "messages/cluster.hpp"
#include "messages/introspection.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace eventide {

namespace {

constexpr auto error_category = caf::atom("eventide");

} // namespace

caf::error make_error(error_code code, std::string detail) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(detail))};
}

bool carries_code(const caf::error& err) {
  return err.category() == error_category;
}

error_code error_code_of(const caf::error& err) {
  if (err.category() == error_category && err.code() < error_code_count)
    return static_cast<error_code>(err.code());
  if (err == caf::sec::request_timeout)
    return error_code::overloaded;
  return error_code::internal;
}

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<rejection>("eventide::rejection");
  cfg.add_message_type<ingest_chunk>("eventide::ingest_chunk");
  cfg.add_message_type<chunk_result>("eventide::chunk_result");
  cfg.add_message_type<event_batch>("eventide::event_batch");
  cfg.add_message_type<key_reply>("eventide::key_reply");
  cfg.add_message_type<parser_stats>("eventide::parser_stats");
  cfg.add_message_type<apply_outcome>("eventide::apply_outcome");
  cfg.add_message_type<shard_store_stats>("eventide::shard_store_stats");
  cfg.add_message_type<actor_info>("eventide::actor_info");
  cfg.add_message_type<system_totals>("eventide::system_totals");
  cfg.add_message_type<tap_record>("eventide::tap_record");
  cfg.add_message_type<member_view>("eventide::member_view");
  cfg.add_message_type<cluster_view>("eventide::cluster_view");
  cfg.add_message_type<handshake>("eventide::handshake");
  cfg.add_message_type<member_record>("eventide::member_record");
  cfg.add_message_type<membership>("eventide::membership");
  cfg.add_message_type<route_table>("eventide::route_table");
  cfg.add_message_type<shard_role>("eventide::shard_role");
  cfg.add_error_category(
    error_category, [](uint8_t code, caf::atom_value, const caf::message& ctx) {
      std::string out{code < error_code_count
                        ? to_string(static_cast<error_code>(code))
                        : std::string_view{"unknown"}};
      if (ctx.match_elements<std::string>())
        out += ": " + ctx.get_as<std::string>(0);
      return out;
    });
}

} // namespace eventide
