#include "app/bench/report.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace eventide::bench {

namespace json = boost::json;

namespace {

using code_map = std::map<std::string, code_count, std::less<>>;

code_count& code_entry(code_map& codes, std::string_view code) {
  auto it = codes.find(code);
  if (it == codes.end())
    it = codes.emplace(std::string{code}, code_count{std::string{code}}).first;
  return it->second;
}

/// Adds one connection's counts to the totals.
void add_connection(run_summary& s, code_map& codes, const bench_options& o,
                    const connection_plan& plan, const connection_result& r) {
  connection_summary c;
  c.lines_sent = r.lines_sent.load();
  c.lines_acked = r.lines_acked.load();
  c.bytes_sent = r.bytes_sent;
  c.error_lines = r.error_lines;
  c.faults = r.fault_count;
  c.complete = r.done.load() && c.lines_acked == c.lines_sent
               && (o.http || r.closed_cleanly);
  s.connections.push_back(c);
  s.lines_sent += c.lines_sent;
  s.lines_acked += c.lines_acked;
  s.bytes_sent += c.bytes_sent;
  s.error_lines += r.error_lines;
  s.unexpected_errors += r.unexpected_errors;
  s.duplicates += r.duplicates;
  s.faults += r.fault_count;
  for (const auto& f : r.faults)
    if (s.fault_texts.size() < 10)
      s.fault_texts.push_back(f);
  auto bad = count_bad_sent(plan, r.chunks_sent);
  for (size_t k = 0; k < bad_kind_count; ++k) {
    s.bad_sent += bad[k];
    if (bad[k] > 0)
      code_entry(codes, expected_code(static_cast<bad_kind>(k))).expected
        += bad[k];
  }
  for (const auto& [code, n] : r.errors_by_code)
    code_entry(codes, code).got += n;
}

bool stream_verdict(const run_summary& s) {
  bool all_complete = std::all_of(
    s.connections.begin(), s.connections.end(),
    [](const connection_summary& c) { return c.complete; });
  bool codes_match = std::all_of(
    s.errors.begin(), s.errors.end(),
    [](const code_count& c) { return c.expected == c.got; });
  return all_complete && codes_match && s.faults == 0
         && s.unexpected_errors == 0 && s.duplicates == 0
         && s.error_lines == s.bad_sent;
}

std::string format_us(double us) {
  char buf[32];
  if (us < 1000)
    std::snprintf(buf, sizeof buf, "%.0f us", us);
  else if (us < 1e6)
    std::snprintf(buf, sizeof buf, "%.2f ms", us / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.2f s", us / 1e6);
  return buf;
}

void print_latency(std::FILE* out, const char* title,
                   const latency_summary& l) {
  std::fprintf(out, "%-13s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  "
                    "(%llu samples)\n",
               title, format_us(l.p50_us).c_str(), format_us(l.p90_us).c_str(),
               format_us(l.p99_us).c_str(), format_us(l.p999_us).c_str(),
               format_us(l.max_us).c_str(),
               static_cast<unsigned long long>(l.count));
}

void print_errors(std::FILE* out, const run_summary& s) {
  std::fprintf(out, "%-13s", "errors");
  if (s.errors.empty())
    std::fprintf(out, " none (none expected)");
  for (const auto& c : s.errors)
    std::fprintf(out, " %s=%llu/%llu", c.code.c_str(),
                 static_cast<unsigned long long>(c.got),
                 static_cast<unsigned long long>(c.expected));
  if (!s.errors.empty())
    std::fprintf(out, "  (got/expected)");
  std::fprintf(out, "\n");
  if (s.unexpected_errors > 0)
    std::fprintf(out, "%-13s %llu error lines not matching a bad line\n", "",
                 static_cast<unsigned long long>(s.unexpected_errors));
}

void print_verify(std::FILE* out, const run_summary& s) {
  const auto& v = s.verify;
  if (!s.verify_error.empty()) {
    std::fprintf(out, "%-13s FAIL: baseline read failed: %s\n", "verify",
                 s.verify_error.c_str());
    return;
  }
  std::fprintf(out, "%-13s %s: %llu of %llu keys match (%llu incr events "
                    "on them)%s\n",
               "verify", v.pass() ? "PASS" : "FAIL",
               static_cast<unsigned long long>(v.keys_matching),
               static_cast<unsigned long long>(v.keys_checked),
               static_cast<unsigned long long>(v.incr_events_checked),
               v.read_failures > 0 ? ", some reads failed" : "");
  if (v.keys_checked == 0)
    std::fprintf(out, "%-13s   no key received a good incr: nothing to check\n",
                 "");
  for (const auto& e : v.examples)
    std::fprintf(out, "%-13s   %s\n", "", e.c_str());
}

double round3(double x) {
  return std::round(x * 1000) / 1000;
}

json::object latency_json(const latency_summary& l) {
  return {{"count", l.count},
          {"mean", round3(l.mean_us)},
          {"p50", round3(l.p50_us)},
          {"p90", round3(l.p90_us)},
          {"p99", round3(l.p99_us)},
          {"p999", round3(l.p999_us)},
          {"max", round3(l.max_us)}};
}

json::object options_json(const bench_options& o) {
  return {{"mode", o.http ? "http" : "tcp"},
          {"host", o.host},
          {"port", o.port},
          {"http_port", o.http_port},
          {"connections", o.connections},
          {"threads", o.threads},
          {"rate", o.rate},
          {"duration_s", o.duration_s},
          {"keys", o.keys},
          {"zipf", o.zipf},
          {"fields", o.fields},
          {"op_mix", std::to_string(o.mix.set) + ":"
                       + std::to_string(o.mix.incr) + ":"
                       + std::to_string(o.mix.del)},
          {"bad_ratio", o.bad_ratio},
          {"lines_per_chunk", chunk_lines(o)},
          {"seed", o.seed},
          {"run_id", o.run_id}};
}

json::value verify_json(const run_summary& s) {
  const auto& v = s.verify;
  json::array examples;
  for (const auto& e : v.examples)
    examples.emplace_back(e);
  return json::object{{"pass", v.pass() && s.verify_error.empty()},
                      {"keys_checked", v.keys_checked},
                      {"keys_matching", v.keys_matching},
                      {"read_failures", v.read_failures},
                      {"incr_events_checked", v.incr_events_checked},
                      {"baseline_error", s.verify_error},
                      {"mismatches", std::move(examples)}};
}

json::array connections_json(const run_summary& s) {
  json::array out;
  for (const auto& c : s.connections)
    out.push_back(json::object{{"sent", c.lines_sent},
                               {"acked", c.lines_acked},
                               {"bytes", c.bytes_sent},
                               {"error_lines", c.error_lines},
                               {"faults", c.faults},
                               {"complete", c.complete}});
  return out;
}

json::object errors_json(const run_summary& s) {
  json::object out;
  for (const auto& c : s.errors)
    out[c.code] = json::object{{"expected", c.expected}, {"got", c.got}};
  return out;
}

}  // namespace

run_summary
summarize_run(const bench_options& opts,
              const std::vector<connection_plan>& plans,
              const std::vector<std::unique_ptr<connection_result>>& results,
              bench_clock::time_point start, verify_result verify,
              std::string verify_error) {
  run_summary s;
  s.events_planned = opts.events;
  code_map codes;
  std::vector<int64_t> ack_ns, sched_ns;
  auto end = start;
  for (size_t c = 0; c < plans.size(); ++c) {
    const auto& r = *results[c];
    add_connection(s, codes, opts, plans[c], r);
    ack_ns.insert(ack_ns.end(), r.latency_ns.begin(), r.latency_ns.end());
    sched_ns.insert(sched_ns.end(), r.sched_latency_ns.begin(),
                    r.sched_latency_ns.end());
    end = std::max(end, r.finished);
  }
  for (auto& [code, count] : codes)
    s.errors.push_back(count);
  s.elapsed_s = std::chrono::duration<double>(end - start).count();
  if (s.elapsed_s > 0) {
    s.events_per_s = static_cast<double>(s.lines_sent) / s.elapsed_s;
    s.mb_per_s = static_cast<double>(s.bytes_sent) / 1e6 / s.elapsed_s;
  }
  s.ack_latency = summarize_latency(std::move(ack_ns));
  s.sched_latency = summarize_latency(std::move(sched_ns));
  s.verify = std::move(verify);
  s.verify_error = std::move(verify_error);
  s.stream_pass = stream_verdict(s);
  s.pass = s.stream_pass
           && (!opts.verify || (s.verify.pass() && s.verify_error.empty()));
  return s;
}

void print_text(std::FILE* out, const bench_options& o, const run_summary& s) {
  size_t complete = std::count_if(
    s.connections.begin(), s.connections.end(),
    [](const connection_summary& c) { return c.complete; });
  std::fprintf(out, "%-13s %s %s:%u, %u connections, %u thread(s), "
                    "run-id %s\n",
               "target", o.http ? "http" : "tcp", o.host.c_str(),
               o.http ? o.http_port : o.port, o.connections, o.threads,
               o.run_id.c_str());
  std::fprintf(out, "%-13s %llu events (%llu bad), %.1f MB in %.3f s: "
                    "%.0f events/s, %.2f MB/s\n",
               "sent", static_cast<unsigned long long>(s.lines_sent),
               static_cast<unsigned long long>(s.bad_sent),
               static_cast<double>(s.bytes_sent) / 1e6, s.elapsed_s,
               s.events_per_s, s.mb_per_s);
  std::fprintf(out, "%-13s %llu of %llu lines; %zu of %zu connections "
                    "complete\n",
               "acked", static_cast<unsigned long long>(s.lines_acked),
               static_cast<unsigned long long>(s.lines_sent), complete,
               s.connections.size());
  print_latency(out, "ack latency", s.ack_latency);
  if (o.rate > 0)
    print_latency(out, "from sched", s.sched_latency);
  print_errors(out, s);
  if (s.duplicates > 0)
    std::fprintf(out, "%-13s %llu (expected 0)\n", "duplicates",
                 static_cast<unsigned long long>(s.duplicates));
  if (o.verify)
    print_verify(out, s);
  for (const auto& f : s.fault_texts)
    std::fprintf(out, "%-13s %s\n", "fault", f.c_str());
  if (s.faults > s.fault_texts.size())
    std::fprintf(out, "%-13s ... %llu in all\n", "fault",
                 static_cast<unsigned long long>(s.faults));
  std::fprintf(out, "%-13s %s\n", "verdict", s.pass ? "PASS" : "FAIL");
}

void print_json(std::FILE* out, const bench_options& o, const run_summary& s) {
  json::array faults;
  for (const auto& f : s.fault_texts)
    faults.emplace_back(f);
  json::object doc{
    {"command", o.command_line},
    {"options", options_json(o)},
    {"events_planned", s.events_planned},
    {"events_sent", s.lines_sent},
    {"events_acked", s.lines_acked},
    {"bad_sent", s.bad_sent},
    {"bytes_sent", s.bytes_sent},
    {"generate_s", round3(s.generate_s)},
    {"elapsed_s", round3(s.elapsed_s)},
    {"events_per_s", std::round(s.events_per_s)},
    {"mb_per_s", round3(s.mb_per_s)},
    {"ack_latency_us", latency_json(s.ack_latency)},
    {"scheduled_latency_us",
     o.rate > 0 ? json::value(latency_json(s.sched_latency)) : nullptr},
    {"errors", errors_json(s)},
    {"error_lines", s.error_lines},
    {"unexpected_errors", s.unexpected_errors},
    {"duplicates", s.duplicates},
    {"faults", s.faults},
    {"fault_messages", std::move(faults)},
    {"connections", connections_json(s)},
    {"verify", o.verify ? verify_json(s) : json::value(nullptr)},
    {"stream_pass", s.stream_pass},
    {"verdict", s.pass ? "PASS" : "FAIL"}};
  std::fprintf(out, "%s\n", json::serialize(doc).c_str());
}

}  // namespace eventide::bench
