// Generates every connection's lines up front, so the measured run only
// writes bytes. Keys follow a Zipf law through rejection-inversion sampling
// (Hörmann and Derflinger), which needs O(1) memory for any key count.
//
// Exact verification rests on one rule: only good `incr` events touch the
// member "n", always by 1. `set` writes and `del` removes only the numeric
// members f0..f<fields-1>, and bad lines never apply. So a key's "n" grows
// by exactly the number of good incr events sent for it, whatever the
// interleaving of connections.

#include "app/bench/workload.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <random>

namespace eventide::bench {

namespace {

/// Draws key ranks 1..n with P(k) ~ 1/k^s; s = 0 is uniform.
class zipf_sampler {
public:
  zipf_sampler(uint32_t n, double s) : n_(n), s_(s) {
    if (s_ <= 0)
      return;
    h_integral_x1_ = h_integral(1.5) - 1.0;
    h_integral_n_ = h_integral(n_ + 0.5);
    threshold_ = 2.0 - h_integral_inverse(h_integral(2.5) - h(2.0));
  }

  /// A key index in [0, n).
  template <class Rng>
  uint32_t operator()(Rng& rng) const {
    if (s_ <= 0)
      return static_cast<uint32_t>(rng() % n_);
    for (;;) {
      double u = h_integral_n_ + unit(rng) * (h_integral_x1_ - h_integral_n_);
      double x = h_integral_inverse(u);
      double k = std::clamp(std::floor(x + 0.5), 1.0, double(n_));
      if (k - x <= threshold_ || u >= h_integral(k + 0.5) - h(k))
        return static_cast<uint32_t>(k) - 1;
    }
  }

private:
  template <class Rng>
  static double unit(Rng& rng) {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
  }
  static double helper1(double x) {
    return std::abs(x) > 1e-8 ? std::log1p(x) / x
                              : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
  }
  static double helper2(double x) {
    return std::abs(x) > 1e-8 ? std::expm1(x) / x
                              : 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
  }
  double h(double x) const {
    return std::exp(-s_ * std::log(x));
  }
  double h_integral(double x) const {
    double log_x = std::log(x);
    return helper2((1 - s_) * log_x) * log_x;
  }
  double h_integral_inverse(double x) const {
    double t = std::max(-1.0, x * (1 - s_));
    return std::exp(helper1(t) * x);
  }

  uint32_t n_;
  double s_;
  double h_integral_x1_ = 0;
  double h_integral_n_ = 0;
  double threshold_ = 0;
};

/// Appends JSON fragments and numbers to a buffer without temporaries.
class line_writer {
public:
  explicit line_writer(std::string& out) : out_(out) {
  }
  line_writer& raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  line_writer& num(uint64_t v) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, res.ptr);
    return *this;
  }
  line_writer& num(double v) {
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, res.ptr);
    return *this;
  }

private:
  std::string& out_;
};

enum class op_kind { set, incr, del };

/// Generates the lines of one connection.
class plan_builder {
public:
  plan_builder(const bench_options& opts, uint32_t conn, uint64_t events)
    : opts_(opts),
      conn_(conn),
      events_(events),
      rng_(opts.seed * 0x9E3779B97F4A7C15ull + conn),
      keys_(opts.keys, opts.zipf),
      ts_base_(std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count()) {
  }

  connection_plan build() {
    uint32_t per_chunk = chunk_lines(opts_);
    plan_.bytes.reserve(events_ * (90 + opts_.run_id.size()
                                   + 12 * opts_.fields));
    plan_.chunks.reserve(events_ / per_chunk + 1);
    for (uint64_t seq = 1; seq <= events_; ++seq) {
      add_line(seq);
      if (seq % per_chunk == 0 || seq == events_)
        close_chunk(seq);
    }
    return std::move(plan_);
  }

private:
  double unit() {
    return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  }

  op_kind pick_op() {
    const auto& m = opts_.mix;
    auto r = rng_() % (uint64_t{m.set} + m.incr + m.del);
    if (r < m.set)
      return op_kind::set;
    return r < uint64_t{m.set} + m.incr ? op_kind::incr : op_kind::del;
  }

  void add_line(uint64_t seq) {
    uint32_t key = keys_(rng_);
    if (opts_.bad_ratio > 0 && unit() < opts_.bad_ratio) {
      auto kind = static_cast<bad_kind>(rng_() % bad_kind_count);
      plan_.bad_lines.push_back({seq, kind});
      add_bad(seq, key, kind);
      return;
    }
    auto op = pick_op();
    if (op == op_kind::incr)
      plan_.incr_keys.push_back(key);
    add_good(seq, key, op);
  }

  /// `{"id":"<run>-<conn>-<seq>","key":"k:<key>"`, shared by most lines.
  line_writer& head(uint64_t seq, uint32_t key) {
    return out_.raw("{\"id\":\"")
      .raw(opts_.run_id)
      .raw("-")
      .num(uint64_t{conn_})
      .raw("-")
      .num(seq)
      .raw("\",\"key\":\"k:")
      .num(uint64_t{key})
      .raw("\"");
  }

  line_writer& tail(uint64_t seq) {
    return out_.raw(",\"ts\":").num(ts_base_ + seq / 1000).raw("}\n");
  }

  void add_good(uint64_t seq, uint32_t key, op_kind op) {
    head(seq, key);
    switch (op) {
      case op_kind::set:
        out_.raw(",\"op\":\"set\",\"data\":{");
        add_fields(1000);
        break;
      case op_kind::incr:
        out_.raw(",\"op\":\"incr\",\"data\":{\"n\":1,");
        add_fields(10);
        break;
      case op_kind::del:
        out_.raw(",\"op\":\"del\",\"data\":{\"f")
          .num(uint64_t{static_cast<uint32_t>(rng_() % opts_.fields)})
          .raw("\":null");
        break;
    }
    out_.raw("}");
    tail(seq);
  }

  /// f0..f<fields-1>: integers on even, halves (exact doubles) on odd.
  void add_fields(uint64_t range) {
    for (uint32_t j = 0; j < opts_.fields; ++j) {
      out_.raw(j == 0 ? "\"f" : ",\"f").num(uint64_t{j}).raw("\":");
      if (j % 2 == 0)
        out_.num(rng_() % range);
      else
        out_.num(static_cast<double>(rng_() % range) + 0.5);
    }
  }

  void add_bad(uint64_t seq, uint32_t key, bad_kind kind) {
    switch (kind) {
      case bad_kind::not_json:  // the closing brace is missing
        head(seq, key).raw(",\"op\":\"set\",\"data\":{\"f0\":1}\n");
        return;
      case bad_kind::missing_key:
        out_.raw("{\"id\":\"").raw(opts_.run_id).raw("-").num(uint64_t{conn_});
        out_.raw("-").num(seq).raw("\",\"op\":\"set\",\"data\":{\"f0\":1}");
        tail(seq);
        return;
      case bad_kind::unknown_member:
        head(seq, key).raw(",\"op\":\"set\",\"data\":{\"f0\":1}");
        out_.raw(",\"color\":\"red\"");
        tail(seq);
        return;
      case bad_kind::incr_string:
        head(seq, key).raw(",\"op\":\"incr\",\"data\":{\"f0\":\"abc\"}");
        tail(seq);
        return;
    }
  }

  void close_chunk(uint64_t seq) {
    plan_.chunks.push_back(
      {plan_.bytes.size(), seq, static_cast<uint32_t>(plan_.incr_keys.size()),
       static_cast<uint32_t>(plan_.bad_lines.size())});
  }

  const bench_options& opts_;
  uint32_t conn_;
  uint64_t events_;
  std::mt19937_64 rng_;
  zipf_sampler keys_;
  uint64_t ts_base_;
  connection_plan plan_;
  line_writer out_{plan_.bytes};
};

}  // namespace

std::string_view expected_code(bad_kind kind) {
  switch (kind) {
    case bad_kind::not_json:
      return "invalid_json";
    case bad_kind::missing_key:
      return "missing_field";
    case bad_kind::unknown_member:
      return "unknown_field";
    case bad_kind::incr_string:
      return "not_a_number";
  }
  return "internal";
}

const bad_line* connection_plan::find_bad(uint64_t seq) const {
  auto it = std::lower_bound(
    bad_lines.begin(), bad_lines.end(), seq,
    [](const bad_line& b, uint64_t s) { return b.seq < s; });
  return it != bad_lines.end() && it->seq == seq ? &*it : nullptr;
}

std::vector<connection_plan> generate_plans(const bench_options& opts) {
  std::vector<connection_plan> plans;
  plans.reserve(opts.connections);
  for (uint32_t c = 0; c < opts.connections; ++c) {
    uint64_t events = opts.events / opts.connections
                      + (c < opts.events % opts.connections ? 1 : 0);
    plans.push_back(plan_builder{opts, c, events}.build());
  }
  return plans;
}

std::string key_name(uint32_t k) {
  return "k:" + std::to_string(k);
}

std::array<uint64_t, bad_kind_count>
count_bad_sent(const connection_plan& plan, size_t chunks_sent) {
  std::array<uint64_t, bad_kind_count> counts{};
  size_t end = chunks_sent == 0 ? 0 : plan.chunks[chunks_sent - 1].bad_end;
  for (size_t i = 0; i < end; ++i)
    ++counts[static_cast<size_t>(plan.bad_lines[i].kind)];
  return counts;
}

}  // namespace eventide::bench
