// Damaged tree3 pools are refused at open with the "damaged pool" error (UNKNOWN_ERROR naming
// what was found and `pmempool check`), never served with wrong keys, never followed into a
// wild read or an endless walk. Each damage rewrites one persistent field of a real pool
// (layout.h); each open runs in a child process, so a crash is seen as a signal.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeDir, openTree3, removeDir } from './helpers';

const MAGIC = Buffer.from('TREE3KV\0', 'latin1');  // Root.magic, little-endian
const SLOTS = 48;
const HASHES_AT = 8;
const SLOTS_AT = 56;

let dir: string;
let n = 0;
beforeAll(() => {
  dir = makeDir();
});
afterAll(() => removeDir(dir));

interface Pool {
  file: Buffer;
  head: number;  // offset of the first leaf of the list
  live: (leaf: number) => number[];  // live slot indexes of a leaf
  slot: (leaf: number, i: number) => number;  // offset of the slot's reference
}

function makePool(keys: number): { path: string; pool: Pool } {
  const poolPath = path.join(dir, `p${n++}.pool`);
  const db = openTree3(poolPath, 16 * 1024 * 1024);
  for (let i = 0; i < keys; i++) db.put(Buffer.from(`key-${String(i).padStart(5, '0')}`), Buffer.from(`value-${i}`));
  db.close();
  const file = fs.readFileSync(poolPath);
  const root = file.indexOf(MAGIC);
  expect(root).toBeGreaterThan(0);
  const head = Number(file.readBigUInt64LE(root + 16));
  const live = (leaf: number) => [...Array(SLOTS).keys()].filter((i) => file[leaf + HASHES_AT + i] !== 0);
  return { path: poolPath, pool: { file, head, live, slot: (leaf, i) => leaf + SLOTS_AT + 8 * i } };
}

function openInChild(poolPath: string): { signal: string | null; code?: string; message?: string } {
  const script = `const core = require('@pmemkv/core'); core.registerEngine(require(${JSON.stringify(require.resolve('../dist/index.js'))}).default);
    try { const db = core.open('tree3', { path: ${JSON.stringify(poolPath)} }); db.countAll(); for (const _ of db.keys()); db.close(); console.log(JSON.stringify({})); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PMEM_IS_PMEM_FORCE: '1' } });
  if (r.signal !== null || r.status !== 0) return { signal: r.signal ?? `exit ${r.status}` };
  return { signal: null, ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as { code?: string; message?: string }) };
}

describe('a damaged tree3 pool is refused at open', () => {
  const cases: [string, (p: Pool) => void, RegExp][] = [
    ['a slot pointing into the pool header', (p) => {
      p.file.writeBigUInt64LE(4096n, p.slot(p.head, p.live(p.head)[0]));
    }, /refers outside the pool's pairs/],
    ['a slot pointing past the end of the pool', (p) => {
      p.file.writeBigUInt64LE(BigInt(p.file.length + 64), p.slot(p.head, p.live(p.head)[0]));
    }, /refers outside the pool's pairs/],
    ['two slots sharing one pair', (p) => {
      const [a, b] = p.live(p.head);
      p.file.writeBigUInt64LE(p.file.readBigUInt64LE(p.slot(p.head, a)), p.slot(p.head, b));
      p.file[p.head + HASHES_AT + b] = p.file[p.head + HASHES_AT + a];
    }, /two slots refer to one pair/],
    ["a slot whose fingerprint is not its key's", (p) => {
      const i = p.live(p.head)[0];
      p.file[p.head + HASHES_AT + i] = p.file[p.head + HASHES_AT + i] === 200 ? 201 : 200;
    }, /fingerprint does not match/],
    ["a pair's key size running past the end of the pool", (p) => {
      const kv = Number(p.file.readBigUInt64LE(p.slot(p.head, p.live(p.head)[0])));
      p.file.writeUInt32LE(0xfffffff0, kv);
    }, /runs past the end of the pool/],
    ["a slab record's key size running past the end of its slab", (p) => {
      const kv = Number(p.file.readBigUInt64LE(p.slot(p.head, p.live(p.head)[0])));
      p.file.writeUInt32LE(2 * 1024 * 1024, kv);  // inside the 16 MiB pool, beyond any 256 KiB slab
    }, /runs past the end of its slab/],
    ['a leaf list that loops', (p) => {
      p.file.writeBigUInt64LE(BigInt(p.head), p.head);  // the first leaf's next is itself
    }, /loops/],
    ['a leaf pointing past the end of the pool', (p) => {
      p.file.writeBigUInt64LE(BigInt(p.file.length - 100), p.head);
    }, /leaves the pool/],
    ['a leaf pointing into the transaction lanes', (p) => {
      p.file.writeBigUInt64LE(8192n + 64n, p.head);
    }, /leaves the pool/],
  ];
  for (const [name, damage, what] of cases) {
    test(name, () => {
      const { path: poolPath, pool } = makePool(300);
      damage(pool);
      fs.writeFileSync(poolPath, pool.file);
      const r = openInChild(poolPath);
      expect(r.signal).toBeNull();
      expect(r.code).toBe('UNKNOWN_ERROR');
      expect(r.message).toMatch(/is damaged/);
      expect(r.message).toMatch(/pmempool check/);
      expect(r.message).toMatch(what);
    });
  }

  test('an undamaged pool opens with every key', () => {
    const { path: poolPath } = makePool(300);
    const db = openTree3(poolPath);
    expect(db.countAll()).toBe(300);
    db.close();
  });
});
