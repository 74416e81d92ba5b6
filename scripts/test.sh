#!/usr/bin/env bash
# Sets everything up, then type-checks and runs every package's tests (jest), the engine
# conformance suites and the benchmark smoke run included, prints one summary line of the jest
# totals over all packages, then runs the install test (scripts/install-test.sh: the packed
# tarballs installed with npm into a fresh application, without a compiler).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PMEM_IS_PMEM_FORCE="${PMEM_IS_PMEM_FORCE:-1}"
# Native test fixtures build against the local Node headers (no header download).
if [[ -f /usr/include/node/node.h ]]; then export npm_config_nodedir=/usr; fi
pnpm run --silent typecheck --output-logs=errors-only

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
pnpm run --silent test --concurrency=1 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# jest prints "Tests:       3 failed, 1 skipped, 40 passed, 44 total" per package.
grep -E '^\S*\s*Tests:' "$log" | sed 's/.*Tests://' | awk -F, '
  { for (i = 1; i <= NF; i++) { n = $i + 0; if ($i ~ /passed/) p += n; if ($i ~ /failed/) f += n; if ($i ~ /skipped/) s += n } }
  END { printf "jest: %d passed, %d failed", p, f; if (s) printf ", %d skipped", s; printf "\n" }'

set +e
bash scripts/install-test.sh
install_status=$?
set -e
if ((install_status != 0)); then echo "install test: failed" >&2; fi
if ((status != 0)); then exit "$status"; fi
exit "$install_status"
