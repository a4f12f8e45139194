#include "messages/messages.hpp"

#include "messages/introspection.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>
#include <caf/sec.hpp>

namespace eventide {

error_code error_code_of(const caf::error& err) {
  if (err == caf::sec::request_timeout)
    return error_code::overloaded;
  return error_code::internal;
}

void register_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<event>("eventide::event");
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
}

} // namespace eventide
