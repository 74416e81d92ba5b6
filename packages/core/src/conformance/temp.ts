/**
 * Temporary directories for test pools: one fresh directory per test, removed after it.
 *
 * The base is PMEMKV_TEST_DIR when set, else /dev/shm when it exists (tmpfs: pools cost RAM, not
 * disk, and survive a process crash, which is what the crash test needs), else os.tmpdir().
 * Loading this module sets PMEM_IS_PMEM_FORCE=1 (unless already set), so libpmemobj flushes
 * with CPU cache flushes instead of msync, as PMDK's own tests do; child processes inherit it.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (process.env.PMEM_IS_PMEM_FORCE === undefined) process.env.PMEM_IS_PMEM_FORCE = '1';

/** The directory test pools are created under. */
export function tempBase(): string {
  const fromEnv = process.env.PMEMKV_TEST_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/** Creates a fresh, empty directory whose name starts with `label`. The caller removes it. */
export function makeTempDir(label: string): string {
  const safe = label.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  return mkdtempSync(join(tempBase(), `pmemkv-${safe}-`));
}

/** Removes `dir` and everything in it; a missing directory is fine. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
