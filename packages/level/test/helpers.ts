// Shared by the jest tests: a fresh temporary directory per test (under PMEMKV_TEST_DIR, else
// /dev/shm, else the OS temp dir), removed after it, and the engines every test runs on.
import { afterEach, beforeEach } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PmemkvLevel, type PmemkvLevelOptions } from '../src';

export const POOL_SIZE = 8 * 1024 * 1024;

/** tree3 (persistent, atomic batches) and vmap (volatile, batches applied one by one). */
export const ENGINES = ['tree3', 'vmap'] as const;

/** A fresh directory for each test of the calling file; `dir()` is the current one. */
export function tempDirs(): () => string {
  let current: string | undefined;
  beforeEach(() => {
    const base = process.env.PMEMKV_TEST_DIR || (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
    current = mkdtempSync(join(base, 'pmemkv-level-jest-'));
  });
  afterEach(() => {
    if (current !== undefined) rmSync(current, { recursive: true, force: true });
    current = undefined;
  });
  return () => current!;
}

/** A database on `engine`: a pool file in `dir` for persistent engines, DRAM for vmap. */
export function openLevel<K = string, V = string>(
  engine: string,
  dir: string,
  options: PmemkvLevelOptions<K, V> = {},
  file = 'db.pool',
): PmemkvLevel<K, V> {
  if (engine === 'vmap') return new PmemkvLevel<K, V>({ engine, ...options });
  return new PmemkvLevel<K, V>(join(dir, file), { engine, size: POOL_SIZE, ...options });
}

/** The rejection of `promise` (fails when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; cause?: any }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string; cause?: any };
  }
  throw new Error('expected a rejection, but the promise resolved');
}
