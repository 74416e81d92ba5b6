#!/usr/bin/env bash
# Sets everything up, then type-checks and runs every package's tests (jest), the engine
# conformance suites and the benchmark smoke run included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PMEM_IS_PMEM_FORCE="${PMEM_IS_PMEM_FORCE:-1}"
pnpm run --silent typecheck --output-logs=errors-only
pnpm run --silent test --concurrency=1
