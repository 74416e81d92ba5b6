/**
 * The `check_on_open` config key of every persistent native engine: before an existing pool is
 * opened, libpmemobj's own consistency check (pmemobj_check, which reads the pool through a
 * private copy-on-write mapping and so never writes it) runs on it in a child process.
 *
 * Why a child: on some damage (bytes flipped in the transaction lanes, say) libpmemobj itself
 * dies of a signal inside the check or the open, before any engine code runs. In a child that
 * death is an answer ("damaged") instead of the end of the application. A pool the check
 * passes is then opened as usual; one it fails, crashes on or does not finish within the time
 * limit is refused with the damaged-pool error (UNKNOWN_ERROR), and the file is left as it was.
 *
 * Cost: one process start (about 50 ms) plus a read of the whole pool, on every open that sets
 * the key; creation of a new pool is not checked.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PmemkvError, type ConfigKeySchema } from '@pmemkv/core';

export const CHECK_ON_OPEN_KEY = 'check_on_open';

export const CHECK_ON_OPEN_SCHEMA: ConfigKeySchema = {
  type: 'boolean',
  default: false,
  description:
    "Before opening an existing pool, run libpmemobj's consistency check on it in a child process and refuse a pool it finds damaged (or crashes on) with UNKNOWN_ERROR, leaving the file as it was. Costs a process start and a read of the pool. Default false.",
};

/** Longest a check may take before the pool is reported as not checkable. */
const CHECK_TIMEOUT_MS = 10 * 60 * 1000;

function damaged(path: string, what: string): PmemkvError {
  return new PmemkvError(
    'UNKNOWN_ERROR',
    `the pool at ${path} is damaged (${what}): check it with \`pmempool check\`, or restore it from a copy`,
  );
}

/**
 * Runs the check on the pool at `path` (when a file is there) and throws the damaged-pool
 * error unless it passes. What is not about damage (a file that is not a pool, another
 * engine's layout: the layout is not checked here, a pool held open elsewhere) is left for
 * the open to report as it always does.
 */
export function checkBeforeOpen(path: string): void {
  if (!existsSync(path)) return;
  const child = join(__dirname, 'check-child.js');
  const r = spawnSync(process.execPath, [child, path], {
    encoding: 'utf8',
    timeout: CHECK_TIMEOUT_MS,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    throw damaged(path, `libpmemobj's consistency check did not finish within ${CHECK_TIMEOUT_MS / 60000} minutes`);
  }
  if (r.error !== undefined) {
    throw new PmemkvError('UNKNOWN_ERROR', `cannot run the pool check for ${path} (${r.error.message}): open it without check_on_open, or check it with \`pmempool check\``, { cause: r.error });
  }
  if (r.signal !== null) throw damaged(path, `libpmemobj's consistency check died of ${r.signal} reading it`);
  const verdict = r.stdout.trim();
  if (verdict === 'consistent' || verdict === 'not-a-pool' || verdict === 'locked') return;
  if (verdict === 'inconsistent') throw damaged(path, "libpmemobj's consistency check failed");
  throw damaged(path, `libpmemobj's consistency check ended with status ${r.status}${r.stderr ? `: ${r.stderr.trim().slice(0, 300)}` : ''}`);
}
