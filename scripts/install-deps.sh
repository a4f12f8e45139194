#!/usr/bin/env bash
# Installs the Debian packages eventide needs to build, run and test.
# Skips apt entirely when everything is already installed.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libcaf-dev libcaf-openssl0.17 libboost1.81-dev libboost-json1.81-dev
  libspdlog-dev libcli11-dev doctest-dev libjemalloc-dev
  libedit-dev
  libssl-dev  # HMAC-SHA-256, constant-time compare for tokens
  clang-14 libclang-rt-14-dev  # libFuzzer targets (scripts/fuzz.sh)
  python3 curl netcat-openbsd tmux
  chromium    # the admin console's browser test (tests/browser/)
  prometheus  # promtool checks the /metrics output in the tests
  dpkg-dev    # dpkg-shlibdeps: cpack derives the .deb's Depends with it
)

# The browser test's npm packages (tests/browser/package-lock.json), pinned
# and installed from the lock file whenever they are missing or stale.
install_npm_packages() {
  local dir="$(dirname "$0")/../tests/browser"
  [ -d "$dir/node_modules/playwright-core" ] \
    && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] \
    && return 0
  echo "installing npm packages in tests/browser"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
    || missing+=("$p")
done
# node and npm may come from another packaging than Debian's (which would
# conflict with it): ask apt for them only when the commands are missing.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  install_npm_packages
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
  --no-install-recommends "${missing[@]}" >/dev/null
install_npm_packages
