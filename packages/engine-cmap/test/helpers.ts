// Shared fixtures of the cmap tests: a fresh pool directory per test (under /dev/shm when it
// exists), removed afterwards, and `open` for cmap through @pmemkv/core.
import { afterEach, beforeEach } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, registerEngine, type Database, type EngineHandle } from '@pmemkv/core';
import plugin from '../src/index';

if (process.env.PMEM_IS_PMEM_FORCE === undefined) process.env.PMEM_IS_PMEM_FORCE = '1';
registerEngine(plugin);

export const MiB = 1024 * 1024;
export const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

/** Registers hooks giving each test a fresh directory (`dir()`), removed after the test. */
export function usePoolDir(): { dir(): string; pool(name?: string): string } {
  let current: string | undefined;
  beforeEach(() => {
    current = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'pmemkv-cmap-'));
  });
  afterEach(() => {
    if (current !== undefined) fs.rmSync(current, { recursive: true, force: true });
    current = undefined;
  });
  const dir = (): string => {
    if (current === undefined) throw new Error('usePoolDir: no test is running');
    return current;
  };
  return { dir, pool: (name = 'pool') => path.join(dir(), name) };
}

/** Opens (creating when missing) the cmap database at `poolPath` with Buffer keys and values. */
export function openCmap(poolPath: string, size = 64 * MiB): Database<Buffer, Buffer> {
  return open('cmap', { path: poolPath, size, create_if_missing: 1 }, buffers);
}

/** Every entry of `db` as a Map from the key's hex to the value's hex (order-free comparison). */
export function contents(db: Database<Buffer, Buffer>): Map<string, string> {
  const out = new Map<string, string>();
  db.getAll((k, v) => {
    if (out.has(k.toString('hex'))) throw new Error(`key ${k.toString('hex')} walked twice`);
    out.set(k.toString('hex'), v.toString('hex'));
  });
  return out;
}

/** `n` as a fixed-width key: `prefix` + 10 decimal digits. */
export function key(prefix: string, n: number): Buffer {
  return Buffer.from(`${prefix}${String(n).padStart(10, '0')}`);
}

/** The engine handle (no core in between) on `poolPath`, creating the pool when `size` is given. */
export function openHandle(poolPath: string, size?: number): EngineHandle {
  return plugin.open({
    path: poolPath,
    ...(size !== undefined ? { size } : {}),
    create_if_missing: size !== undefined,
    create_or_error_if_exists: false,
  });
}

/** The status code a call throws (undefined when it does not throw). */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${String(err)}`;
  }
  return undefined;
}
