#include "app/bench/verify.hpp"

#include <algorithm>
#include <random>
#include <unordered_map>

namespace eventide::bench {

namespace {

/// Keys with at least one planned good incr, shuffled by the seed.
std::vector<uint32_t> pick_keys(const bench_options& opts,
                                const std::vector<connection_plan>& plans) {
  std::vector<uint32_t> keys;
  for (const auto& plan : plans)
    keys.insert(keys.end(), plan.incr_keys.begin(), plan.incr_keys.end());
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::mt19937_64 rng{opts.seed ^ 0x5bd1e995u};
  std::shuffle(keys.begin(), keys.end(), rng);
  keys.resize(std::min<size_t>(keys.size(), opts.verify_keys));
  return keys;
}

/// Good incr events actually sent per sample key.
std::unordered_map<uint32_t, int64_t>
count_sent_incrs(const std::vector<uint32_t>& sample,
                 const std::vector<connection_plan>& plans,
                 const std::vector<std::unique_ptr<connection_result>>& rs) {
  std::unordered_map<uint32_t, int64_t> counts;
  for (auto k : sample)
    counts.emplace(k, 0);
  for (size_t c = 0; c < plans.size(); ++c) {
    const auto& plan = plans[c];
    size_t sent = rs[c]->chunks_sent;
    size_t end = sent == 0 ? 0 : plan.chunks[sent - 1].incr_end;
    for (size_t i = 0; i < end; ++i)
      if (auto it = counts.find(plan.incr_keys[i]); it != counts.end())
        ++it->second;
  }
  return counts;
}

void note(verify_result& r, std::string text) {
  if (r.examples.size() < 5)
    r.examples.push_back(std::move(text));
}

}  // namespace

verify_baseline read_baseline(const bench_options& opts,
                              const std::vector<connection_plan>& plans,
                              key_reader& reader) {
  verify_baseline out;
  out.keys = pick_keys(opts, plans);
  out.n_before.reserve(out.keys.size());
  for (auto k : out.keys) {
    auto counter = reader.read_counter(key_name(k));
    if (!counter.ok) {
      out.error = counter.error;
      return out;
    }
    out.n_before.push_back(counter.n);
  }
  return out;
}

verify_result
verify_counters(const verify_baseline& baseline,
                const std::vector<connection_plan>& plans,
                const std::vector<std::unique_ptr<connection_result>>& results,
                key_reader& reader) {
  verify_result out;
  out.ran = true;
  auto sent = count_sent_incrs(baseline.keys, plans, results);
  for (size_t i = 0; i < baseline.keys.size(); ++i) {
    auto key = key_name(baseline.keys[i]);
    int64_t expected = baseline.n_before[i] + sent[baseline.keys[i]];
    out.incr_events_checked += sent[baseline.keys[i]];
    ++out.keys_checked;
    auto counter = reader.read_counter(key);
    if (!counter.ok) {
      ++out.read_failures;
      note(out, counter.error);
    } else if (counter.n != expected) {
      note(out, key + ": n=" + std::to_string(counter.n) + ", expected "
                  + std::to_string(expected));
    } else {
      ++out.keys_matching;
    }
  }
  return out;
}

}  // namespace eventide::bench
