#include "app/ctl/send.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "app/ctl/format.hpp"
#include "app/ctl/json_view.hpp"
#include "app/ctl/render.hpp"
#include "app/ctl/terminal.hpp"

namespace eventide::ctl {

namespace json = boost::json;

ndjson_batcher::ndjson_batcher(std::istream& in, uint32_t max_lines,
                               size_t max_bytes)
  : in_(in), max_lines_(max_lines), max_bytes_(max_bytes) {
}

bool ndjson_batcher::next(batch& out) {
  out = batch{next_line_, 0, {}};
  std::string line;
  while (out.lines < max_lines_) {
    if (has_pending_) {
      line = std::move(pending_);
      has_pending_ = false;
    } else if (!std::getline(in_, line)) {
      break;
    }
    if (out.lines > 0 && out.body.size() + line.size() + 1 > max_bytes_) {
      pending_ = std::move(line);
      has_pending_ = true;
      break;
    }
    out.body += line;
    out.body += '\n';
    ++out.lines;
  }
  next_line_ += out.lines;
  return out.lines > 0;
}

std::string render_send_error(uint64_t line, const json::object& e) {
  std::string out = "line " + std::to_string(line) + ": "
                    + str_of(e, "error");
  if (auto detail = str_of(e, "detail"); !detail.empty())
    out += ": " + detail;
  if (auto id = str_of(e, "id"); !id.empty())
    out += " (id " + id + ")";
  return out;
}

namespace {

/// Runs the batches and keeps the totals; prints as it goes.
class sender {
public:
  sender(http_client& http, bool json) : http_(http), json_(json) {
    progress_ = !json && stderr_is_terminal();
    start_ = std::chrono::steady_clock::now();
  }

  /// Sends every batch; returns the exit code.
  int run(ndjson_batcher& batcher) {
    ndjson_batcher::batch b;
    try {
      while (!failed_ && batcher.next(b)) {
        if (interrupted())
          return finish(130);
        post(b);
        show_progress();
      }
    } catch (const interrupted_error&) {
      return finish(130);
    } catch (const transport_error&) {
      finish(2);
      throw;
    }
    return finish(failed_ || rejected_ > 0 ? 1 : 0);
  }

private:
  void post(const ndjson_batcher::batch& b) {
    auto res = http_.request(boost::beast::http::verb::post, "/v1/events",
                             b.body, "application/x-ndjson");
    lines_ += b.lines;
    json::error_code ec;
    auto v = json::parse(res.body, ec);
    const auto* o = ec ? nullptr : v.if_object();
    if (res.status != 200 || o == nullptr) {
      failed_ = true;
      auto range = " (lines " + std::to_string(b.first_line) + "-"
                   + std::to_string(b.first_line + b.lines - 1) + ")";
      server_error_ = render_server_error(res.status, res.body) + range;
      return;
    }
    accepted_ += u64_of(*o, "accepted");
    duplicates_ += u64_of(*o, "duplicates");
    rejected_ += u64_of(*o, "rejected");
    if (const auto* errors = array_of(*o, "errors"))
      for (const auto& e : *errors)
        if (const auto* eo = e.if_object())
          report(b.first_line + u64_of(*eo, "index"), *eo);
  }

  void report(uint64_t line, const json::object& e) {
    if (json_) {
      json::object entry = e;
      entry["line"] = line;
      errors_.push_back(std::move(entry));
      return;
    }
    clear_progress();
    std::printf("%s\n", render_send_error(line, e).c_str());
  }

  void show_progress() {
    if (!progress_)
      return;
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                             - start_)
                 .count();
    std::fflush(stdout);
    std::fprintf(stderr,
                 "\r\033[K%llu lines  accepted %llu  duplicates %llu  "
                 "rejected %llu  %s",
                 ull(lines_), ull(accepted_), ull(duplicates_),
                 ull(rejected_),
                 human_rate(s > 0 ? static_cast<double>(lines_) / s : 0)
                   .c_str());
    shown_ = true;
  }

  void clear_progress() {
    if (shown_)
      std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

  int finish(int code) {
    clear_progress();
    if (json_) {
      json::object doc{{"accepted", accepted_}, {"duplicates", duplicates_},
                       {"rejected", rejected_}, {"lines", lines_},
                       {"errors", std::move(errors_)}};
      if (failed_)
        doc["server_error"] = server_error_;
      if (code == 130)
        doc["interrupted"] = true;
      std::printf("%s\n", json::serialize(doc).c_str());
    } else {
      if (failed_)
        std::fprintf(stderr, "%s\n", server_error_.c_str());
      std::printf("accepted %llu, duplicates %llu, rejected %llu\n",
                  ull(accepted_), ull(duplicates_), ull(rejected_));
    }
    std::fflush(stdout);
    return code;
  }

  static unsigned long long ull(uint64_t v) {
    return v;
  }

  http_client& http_;
  bool json_;
  bool progress_ = false;
  bool shown_ = false;
  bool failed_ = false;
  std::string server_error_;
  json::array errors_;
  uint64_t lines_ = 0;
  uint64_t accepted_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t rejected_ = 0;
  std::chrono::steady_clock::time_point start_;
};

} // namespace

int run_send(const command& cmd, http_client& http, bool json) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (!cmd.target.empty() && cmd.target != "-") {
    file.open(cmd.target, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "eventide-ctl: cannot open %s\n",
                   cmd.target.c_str());
      return 1;
    }
    in = &file;
  }
  ndjson_batcher batcher{*in, cmd.batch};
  sender s{http, json};
  int code = s.run(batcher);
  std::cin.clear();  // interactive mode reads stdin again after Ctrl-D
  return code;
}

} // namespace eventide::ctl
