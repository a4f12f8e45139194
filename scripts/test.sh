#!/usr/bin/env bash
# Installs dependencies, then builds and runs every test twice: an
# optimised build with warnings as errors, and a build under
# AddressSanitizer + UndefinedBehaviorSanitizer; then runs each libFuzzer
# target for a bounded time (EVENTIDE_FUZZ_SECONDS per target, default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs="$(nproc)"

run_suite() { # name, cmake args...
  local dir="build/$1"; shift
  cmake -S . -B "$dir" -G Ninja -DEVENTIDE_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  (cd "$dir" && ctest --output-on-failure --timeout 600)
}

echo "== release build, all tests"
run_suite test-release -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== ASan + UBSan build, all tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite test-sanitize -DCMAKE_BUILD_TYPE=Debug \
    -DEVENTIDE_SANITIZE=address,undefined
echo "== libFuzzer targets, ${EVENTIDE_FUZZ_SECONDS:-15}s each"
scripts/fuzz.sh "${EVENTIDE_FUZZ_SECONDS:-15}"
