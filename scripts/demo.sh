#!/usr/bin/env bash
# Sets everything up, then runs the demo (examples/src/demo.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PMEM_IS_PMEM_FORCE="${PMEM_IS_PMEM_FORCE:-1}"
# Native test fixtures build against the local Node headers (no header download).
if [[ -f /usr/include/node/node.h ]]; then export npm_config_nodedir=/usr; fi
pnpm run --silent demo
