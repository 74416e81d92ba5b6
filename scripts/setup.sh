#!/usr/bin/env bash
# Idempotent set-up on Debian 12 + Node 20: installs what is missing (PMDK with apt-get, pnpm
# with npm), installs the workspace's dependencies from the lockfile, and builds every package
# (native addons included). Safe to run again: each step is skipped or cached when done.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
cd "$(dirname "$0")/.."

PNPM_VERSION=10.34.9
APT_PACKAGES=(libpmemobj-dev libpmem-dev libpmempool-dev pmdk-tools g++ make python3 pkg-config redis-server memcached)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${missing[*]}" >&2
    echo "setup: run as root: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [[ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  if ! npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null; then
    echo "setup: could not install pnpm; run: npm install -g pnpm@$PNPM_VERSION" >&2
    exit 1
  fi
fi

# Native addons build against the local Node headers (no header download).
if [[ -f /usr/include/node/node.h ]]; then export npm_config_nodedir=/usr; fi

pnpm install --frozen-lockfile --reporter=silent
pnpm run --silent build --output-logs=errors-only
echo "setup: ready"
