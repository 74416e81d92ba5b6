// Layout versions: a pool whose root says version 1 or 2 opens, keeps every pair, and is marked
// version 3 (with a journal) before anything else is written; a version above 3 is refused
// with INVALID_ARGUMENT naming both versions, and its root is left as it was. (The native
// tests upgrade a real version 1 pool, whose pairs are allocations of their own.)
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeDir, openTree3, removeDir } from './helpers';

const MAGIC = Buffer.from('TREE3KV\0', 'latin1');  // Root.magic, little-endian
const VERSION_AT = 8;  // Root.version
const JOURNAL_AT = 24;  // Root.journal

let dir: string;
beforeAll(() => {
  dir = makeDir();
});
afterAll(() => removeDir(dir));

function rootOf(file: Buffer): number {
  const root = file.indexOf(MAGIC);
  expect(root).toBeGreaterThan(0);
  return root;
}

function makePool(name: string): string {
  const poolPath = path.join(dir, name);
  const db = openTree3(poolPath, 16 * 1024 * 1024);
  for (let i = 0; i < 500; i++) db.put(Buffer.from(`key-${i}`), Buffer.from(`value-${i}`));
  db.close();
  return poolPath;
}

/** A pool of 500 pairs whose root is rewritten to say `version`: its path, root offset and the bytes written. */
function poolOfVersion(name: string, version: bigint): { poolPath: string; root: number; file: Buffer } {
  const poolPath = makePool(name);
  const file = fs.readFileSync(poolPath);
  const root = rootOf(file);
  expect(file.readBigUInt64LE(root + VERSION_AT)).toBe(3n);
  file.writeBigUInt64LE(version, root + VERSION_AT);
  if (version === 1n) file.writeBigUInt64LE(0n, root + JOURNAL_AT);  // version 1 had no journal
  fs.writeFileSync(poolPath, file);
  return { poolPath, root, file };
}

test('a version 1 root is upgraded to version 3 on open, with every pair', () => {
  const { poolPath, root } = poolOfVersion('v1.pool', 1n);
  const db = openTree3(poolPath);
  expect(db.countAll()).toBe(500);
  expect(db.get(Buffer.from('key-7'))?.toString()).toBe('value-7');
  db.put(Buffer.from('key-7'), Buffer.from('after the upgrade'));
  db.close();
  const after = fs.readFileSync(poolPath);
  expect(after.readBigUInt64LE(root + VERSION_AT)).toBe(3n);
  expect(after.readBigUInt64LE(root + JOURNAL_AT)).not.toBe(0n);
  const again = openTree3(poolPath);
  expect(again.get(Buffer.from('key-7'))?.toString()).toBe('after the upgrade');
  again.close();
});

test('a version 2 root is upgraded to version 3 on open, with every pair, and grows on', () => {
  const { poolPath, root } = poolOfVersion('v2.pool', 2n);
  const db = openTree3(poolPath);
  expect(db.countAll()).toBe(500);
  for (let i = 500; i < 3000; i++) db.put(Buffer.from(`key-${i}`), Buffer.from(`value-${i}`));
  db.close();
  expect(fs.readFileSync(poolPath).readBigUInt64LE(root + VERSION_AT)).toBe(3n);
  const again = openTree3(poolPath);
  expect(again.countAll()).toBe(3000);
  expect(again.get(Buffer.from('key-2999'))?.toString()).toBe('value-2999');
  again.close();
});

test('a version above 3 is INVALID_ARGUMENT naming both versions, and the pool is left as it was', () => {
  const { poolPath, root, file } = poolOfVersion('v4.pool', 4n);
  let error: { code?: string; message?: string } | undefined;
  try {
    openTree3(poolPath).close();
  } catch (err) {
    error = err as { code?: string; message?: string };
  }
  expect(error?.code).toBe('INVALID_ARGUMENT');
  expect(error?.message).toMatch(/layout version 4/);
  expect(error?.message).toMatch(/version 3/);
  // The root is as it was (libpmemobj's own open and close may touch its runtime areas), and
  // with version 3 written back the pool opens with every pair.
  const after = fs.readFileSync(poolPath);
  expect(after.subarray(root, root + 64).equals(file.subarray(root, root + 64))).toBe(true);
  after.writeBigUInt64LE(3n, root + VERSION_AT);
  fs.writeFileSync(poolPath, after);
  const db = openTree3(poolPath);
  expect(db.countAll()).toBe(500);
  db.close();
});
