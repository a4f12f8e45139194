#!/usr/bin/env bash
# Installs dependencies, builds eventide (release) and starts it with the
# default config. Extra arguments go to the server, e.g.
#   scripts/run-server.sh --http.listen=127.0.0.1:9090
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
# The benchmark tools come along so that BENCHMARKS.md can be reproduced.
cmake --build build/release -j"$(nproc)" \
  --target eventide eventide-bench eventide-pipeline-bench
exec build/release/eventide --config config/eventide.conf "$@"
