#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan + UBSan) in build/fuzz and
# runs each for SECONDS (default 60) on a copy of its seed corpus
# (tests/fuzz/corpus/<target>), niced. Fails on any crash, timeout, leak or
# sanitizer report; the input that caused it is kept as
# build/fuzz/artifacts/<target>-crash-… and the log in build/fuzz/logs/.
#   scripts/fuzz.sh [SECONDS] [TARGET...]   (targets without the fuzz_ prefix)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] \
  && targets=(line_framer event_codec shard_apply wal_scan http_request)

dir=build/fuzz
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DEVENTIDE_FUZZ=ON >/dev/null
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"

mkdir -p "$dir/artifacts" "$dir/logs"
# JSONTestSuite's parsing cases (next to the checked-in corpus when the
# shared test data is there) are extra read-only seeds for the JSON targets.
json_suite="${EVENTIDE_TESTDATA:-../shared/testdata}/JSONTestSuite/test_parsing"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"

failed=()
for t in "${targets[@]}"; do
  work="$(mktemp -d)"
  cp -r "tests/fuzz/corpus/$t/." "$work/"
  extra=()
  case "$t" in
    event_codec|shard_apply)
      extra+=(-dict=tests/fuzz/json.dict)
      [ -d "$json_suite" ] && extra+=("$json_suite") ;;
    http_request) extra+=(-dict=tests/fuzz/http.dict) ;;
  esac
  log="$dir/logs/$t.log"
  echo "== fuzz_$t: ${seconds}s"
  start=$SECONDS
  status=0
  nice -n 10 "$dir/fuzz_$t" "$work" "${extra[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -detect_leaks=1 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/$t-" >"$log" 2>&1 || status=$?
  rm -rf "$work"
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  echo "   exit $status, ${runs:-?} runs in $((SECONDS - start))s"
  if [ "$status" -ne 0 ] \
     || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    tail -n 60 "$log"
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $dir/artifacts/)"
  exit 1
fi
echo "fuzzing: no findings"
