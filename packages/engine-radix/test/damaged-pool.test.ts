// A pool file is input too: damage written into a closed pool (a link outside the pool, a link
// back to the top of the tree, a link to the root object, a top link into the middle of a
// node) gives a PmemkvError UNKNOWN_ERROR naming the damage when the pool is opened (open
// walks the tree), never a crash or a hang. The root object is found by its magic number ("RADIXKV\0"); in a single-file pool a
// pool offset is a file offset.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { PmemkvError } from '@pmemkv/core';
import { makeDir, openRadix, removeDir } from './helpers';

let dir: string;
beforeAll(() => {
  dir = makeDir();
});
afterAll(() => removeDir(dir));

const MAGIC = Buffer.from('RADIXKV\0', 'latin1');
const key = (i: number) => Buffer.from(`key-${String(i).padStart(5, '0')}`);

function damaged(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof PmemkvError && err.code === 'UNKNOWN_ERROR' && /damaged \(radix: /.test(err.message)) return 'damaged';
    throw err;
  }
  return 'no error';
}

/** Rewrites the 8-byte little-endian word at `off` of the file; returns the old value. */
function poke(file: string, off: number, value: bigint): bigint {
  const fd = fs.openSync(file, 'r+');
  try {
    const word = Buffer.alloc(8);
    fs.readSync(fd, word, 0, 8, off);
    const old = word.readBigUInt64LE(0);
    word.writeBigUInt64LE(value, 0);
    fs.writeSync(fd, word, 0, 8, off);
    return old;
  } finally {
    fs.closeSync(fd);
  }
}

test('damaged links are reported as UNKNOWN_ERROR, and the repaired pool reads again', () => {
  const file = path.join(dir, 'damaged.pool');
  let db = openRadix(file, 8 * 1024 * 1024);
  for (let i = 0; i < 300; i++) db.put(key(i), Buffer.from(`v${i}`));
  db.close();

  const bytes = fs.readFileSync(file);
  const rootAt = bytes.indexOf(MAGIC);
  expect(rootAt).toBeGreaterThan(0);
  expect(bytes.indexOf(MAGIC, rootAt + 1)).toBe(-1);
  const topField = rootAt + 16;
  const top = bytes.readBigUInt64LE(topField);
  const kind = bytes[Number(top)]!;
  expect([2, 3, 4]).toContain(kind); // Node4/16/48 over "key-0".."key-2" at depth 5
  const firstChild = Number(top) + { 2: 24, 3: 32, 4: 64 }[kind as 2 | 3 | 4];

  const cases: [string, number, bigint][] = [
    ['a child link outside the pool', firstChild, 1n << 40n],
    ['a child link back to the top (a cycle)', firstChild, top],
    ['a child link to the root object', firstChild, BigInt(rootAt)],
  ];
  // Open walks the whole tree (it claims every record for its slab), so it meets each of them.
  for (const [what, at, value] of cases) {
    const old = poke(file, at, value);
    expect({ what, open: damaged(() => openRadix(file).close()) }).toEqual({ what, open: 'damaged' });
    poke(file, at, old);
  }

  // A top link into the middle of a node is refused at open.
  const old = poke(file, topField, top + 3n);
  expect(damaged(() => openRadix(file))).toBe('damaged');
  poke(file, topField, old);

  db = openRadix(file);
  expect(db.countAll()).toBe(300);
  expect([...db.keys()].length).toBe(300);
  expect(db.get(key(299))?.toString()).toBe('v299');
  db.close();
});
