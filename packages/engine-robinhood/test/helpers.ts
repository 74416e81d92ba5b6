// Shared fixtures of the robinhood tests: a fresh pool directory per test (under /dev/shm when
// it exists), removed afterwards; `open` for robinhood through @pmemkv/core; 8-byte keys and
// values; the layout offsets tests use to damage a pool file on purpose.
import { afterEach, beforeEach } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open, registerEngine, type Database } from '@pmemkv/core';
import plugin from '../src/index';

if (process.env.PMEM_IS_PMEM_FORCE === undefined) process.env.PMEM_IS_PMEM_FORCE = '1';
registerEngine(plugin);

export const MiB = 1024 * 1024;
export const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

/** Registers hooks giving each test a fresh directory, removed after the test. */
export function usePoolDir(): { dir(): string; pool(name?: string): string } {
  let current: string | undefined;
  beforeEach(() => {
    current = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'pmemkv-robinhood-'));
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

/** Opens (creating when missing) the robinhood database at `poolPath` with Buffer keys and values. */
export function openRobinhood(poolPath: string, extra: Record<string, unknown> = {}, size = 64 * MiB): Database<Buffer, Buffer> {
  return open('robinhood', { path: poolPath, size, create_if_missing: 1, ...extra }, buffers);
}

/** An 8-byte little-endian word. */
export function word(n: number | bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
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

/** The error a call throws (undefined when it does not throw). */
export function errorOf(fn: () => unknown): { code?: string; message: string } | undefined {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string };
  }
  return undefined;
}

// Persistent format (src/layout.h): offsets inside a pool file are libpmemobj offsets.
export const layout = {
  magic: Buffer.from('PMKVRBHD', 'latin1'),   // Root.magic, little-endian bytes
  tableTag: Buffer.from('RBHTABLE', 'latin1'),
  rootShards: 16,
  rootDirectory: 24,
  recordSize: 32,
  tableHeader: 16,
  slotSize: 16,
  maxDisplacement: 64,
};

/** The pool file's root offset and its shard directory, found by the root's magic number. */
export function locateRoot(file: Buffer): { root: number; shards: number; directory: number } {
  const root = file.indexOf(layout.magic);
  if (root < 0) throw new Error('no robinhood root in the file');
  return {
    root,
    shards: Number(file.readBigUInt64LE(root + layout.rootShards)),
    directory: Number(file.readBigUInt64LE(root + layout.rootDirectory)),
  };
}
