// Damaged cmap pools are refused at open with the "damaged pool" error (UNKNOWN_ERROR naming
// what was found and `pmempool check`), never followed into a wild read or an endless walk.
// Each damage is made by rewriting one persistent field of a real pool (layout.h), and each
// open runs in a child process, so a crash is seen as a signal rather than ending the run.
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { MiB, openCmap, usePoolDir } from './helpers';

const pools = usePoolDir();
const MAGIC = Buffer.from('PMKVCMAP', 'latin1');  // Root.magic, little-endian "PMKVCMAP"

interface Layout {
  file: Buffer;
  root: number;                  // offset of Root
  segment0: number;              // offset of segment 0 (its buckets)
  head: (b: number) => number;   // offset of bucket b's head PMEMoid
}

function makePool(path: string, keys: number): Layout {
  const db = openCmap(path, 16 * MiB);
  for (let i = 0; i < keys; i++) db.put(Buffer.from(`key-${i}`), Buffer.from(`value-${i}`));
  db.close();
  const file = fs.readFileSync(path);
  const root = file.indexOf(MAGIC);
  expect(root).toBeGreaterThan(0);
  const segment0 = Number(file.readBigUInt64LE(root + 64 + 8));
  return { file, root, segment0, head: (b) => segment0 + 16 * b };
}

// The first bucket whose chain is not empty, and its first entry's offset.
function firstChain(l: Layout): { bucket: number; entry: number } {
  for (let b = 0; b < 1024; b++) {
    const off = Number(l.file.readBigUInt64LE(l.head(b) + 8));
    if (off !== 0) return { bucket: b, entry: off };
  }
  throw new Error('no entry in segment 0');
}

function openInChild(path: string, extra: Record<string, unknown> = {}): { signal: string | null; code?: string; message?: string } {
  const script = `const core = require('@pmemkv/core'); core.registerEngine(require(${JSON.stringify(require.resolve('../dist/index.js'))}).default);
    try { const db = core.open('cmap', { path: ${JSON.stringify(path)}, ...${JSON.stringify(extra)} }); db.countAll(); for (const _ of db.keys()); db.close(); console.log(JSON.stringify({})); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PMEM_IS_PMEM_FORCE: '1' } });
  if (r.signal !== null || r.status !== 0) return { signal: r.signal ?? `exit ${r.status}` };
  return { signal: null, ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as { code?: string; message?: string }) };
}

function expectDamaged(path: string, what: RegExp): void {
  const r = openInChild(path);
  expect(r.signal).toBeNull();
  expect(r.code).toBe('UNKNOWN_ERROR');
  expect(r.message).toMatch(/is damaged/);
  expect(r.message).toMatch(/pmempool check/);
  expect(r.message).toMatch(what);
}

describe('a damaged cmap pool is refused at open', () => {
  const cases: [string, (l: Layout) => void, RegExp][] = [
    ['a bucket head pointing past the end of the pool', (l) => {
      const { bucket } = firstChain(l);
      l.file.writeBigUInt64LE(BigInt(l.file.length + 4096), l.head(bucket) + 8);
    }, /outside the pool/],
    ['a bucket head pointing into the pool header', (l) => {
      const { bucket } = firstChain(l);
      l.file.writeBigUInt64LE(64n, l.head(bucket) + 8);
    }, /outside the pool/],
    ['the first bucket segment pointing past the end of the pool', (l) => {
      l.file.writeBigUInt64LE(BigInt(l.file.length - 64), l.root + 64 + 8);
    }, /segment 0 .* outside the pool/],
    ["an entry's key size running past the end of the pool", (l) => {
      const { entry } = firstChain(l);
      l.file.writeUInt32LE(0xffffffff, entry + 24);
    }, /run past the end of the pool/],
    ["an entry's value size running past the end of the pool", (l) => {
      const { entry } = firstChain(l);
      l.file.writeUInt32LE(0xfffffff0, entry + 28);
    }, /run past the end of the pool/],
    ['an entry whose next link points to itself (a looping chain)', (l) => {
      const { entry } = firstChain(l);
      l.file.writeBigUInt64LE(l.file.readBigUInt64LE(l.root + 64), entry);  // uuid of the pool
      l.file.writeBigUInt64LE(BigInt(entry), entry + 8);
    }, /chain loops/],
    ["an entry whose hash is not its key's", (l) => {
      const { entry } = firstChain(l);
      l.file.writeBigUInt64LE(l.file.readBigUInt64LE(entry + 16) ^ 0xff00n, entry + 16);
    }, /hash does not match/],
    ['a bucket count below the minimum', (l) => {
      l.file.writeBigUInt64LE(3n, l.root + 16);
    }, /bucket count 3/],
    ['a bucket count beyond every segment', (l) => {
      l.file.writeBigUInt64LE(1n << 62n, l.root + 16);
    }, /bucket count/],
  ];
  for (const [name, damage, what] of cases) {
    test(name, () => {
      const path = pools.pool();
      const l = makePool(path, 200);
      damage(l);
      fs.writeFileSync(path, l.file);
      expectDamaged(path, what);
    });
  }

  test('a chain that loops through a later entry is refused too (cycle of two)', () => {
    const path = pools.pool();
    const l = makePool(path, 3000);  // > 1024 keys: some chains hold two entries
    let done = false;
    for (let b = 0; b < 1024 && !done; b++) {
      const first = Number(l.file.readBigUInt64LE(l.head(b) + 8));
      if (first === 0) continue;
      const second = Number(l.file.readBigUInt64LE(first + 8));
      if (second === 0) continue;
      l.file.writeBigUInt64LE(l.file.readBigUInt64LE(l.head(b)), second);  // uuid
      l.file.writeBigUInt64LE(BigInt(first), second + 8);
      done = true;
    }
    expect(done).toBe(true);
    fs.writeFileSync(path, l.file);
    expectDamaged(path, /chain loops/);
  });

  test('bytes flipped in the transaction lanes: libpmemobj itself crashes on them, check_on_open refuses the pool', () => {
    const path = pools.pool();
    const l = makePool(path, 200);
    // Lane 0 (at 8 KiB, pmempool info's "lanes offset") with its second word set to all ones:
    // libpmemobj dies of SIGSEGV checking or recovering it.
    l.file.fill(0xff, 8200, 8208);
    fs.writeFileSync(path, l.file);
    const plain = openInChild(path);
    expect(plain.signal).toBe('SIGSEGV');  // what check_on_open exists for
    const before = fs.readFileSync(path);
    const r = openInChild(path, { check_on_open: 1 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe('UNKNOWN_ERROR');
    expect(r.message).toMatch(/is damaged \(libpmemobj's consistency check died of SIGSEGV/);
    expect(r.message).toMatch(/pmempool check/);
    expect(fs.readFileSync(path).equals(before)).toBe(true);
  });

  test('check_on_open opens an undamaged pool as usual, and refuses a flag that is not 0/1/false/true', () => {
    const path = pools.pool();
    makePool(path, 50);
    expect(openInChild(path, { check_on_open: true })).toEqual({ signal: null });
    const r = openInChild(path, { check_on_open: 2 });
    expect(r.code).toBe('CONFIG_TYPE_ERROR');
  });

  test('an undamaged pool still opens with every key', () => {
    const path = pools.pool();
    makePool(path, 500);
    const db = openCmap(path);
    expect(db.countAll()).toBe(500);
    expect(db.get(Buffer.from('key-499'))?.toString()).toBe('value-499');
    db.close();
  });
});
