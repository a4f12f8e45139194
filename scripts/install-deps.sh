#!/usr/bin/env bash
# Installs the Debian packages eventide needs to build, run and test.
# Skips apt entirely when everything is already installed.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libcaf-dev libboost1.81-dev libboost-json1.81-dev
  libspdlog-dev libcli11-dev doctest-dev libjemalloc-dev
  libedit-dev
  clang-14 libclang-rt-14-dev  # libFuzzer targets (scripts/fuzz.sh)
  python3 curl netcat-openbsd tmux
  prometheus  # promtool checks the /metrics output in the tests
  dpkg-dev    # dpkg-shlibdeps: cpack derives the .deb's Depends with it
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
  --no-install-recommends "${missing[@]}" >/dev/null
