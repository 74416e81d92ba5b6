// Keys that stress a radix tree's shape, through the public API, each checked against a sorted
// model (walks both ways, gets, and ranges with every kind of bound around every key):
// - keys that are prefixes of each other ("", "a", "ab", "abc"), inserted and removed in every
//   order (24 x 24), so every node gains and loses its `end` and collapses;
// - keys that differ only in their last byte (all 256 values: a node grows 4 -> 16 -> 48 -> 256
//   and shrinks back), runs of 0x00 and 0xff bytes;
// - 64 KiB keys that share all but their last byte, with a prefix of themselves, reopened.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import path from 'node:path';
import { differences, makeDir, openRadix, removeDir, Rng, type BufferDb } from './helpers';

let dir: string;
let db: BufferDb;
beforeAll(() => {
  dir = makeDir();
});
afterAll(() => removeDir(dir));

type Model = Map<string, [Buffer, Buffer]>;
const put = (m: Model, k: Buffer, v: Buffer) => {
  db.put(k, v);
  m.set(k.toString('hex'), [k, v]);
};
const del = (m: Model, k: Buffer) => {
  expect(db.remove(k)).toBe(m.delete(k.toString('hex')));
};

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]));
}

test('"", "a", "ab", "abc" in every order of insert and removal', () => {
  db = openRadix(path.join(dir, 'prefixes.pool'), 16 * 1024 * 1024);
  const keys = ['', 'a', 'ab', 'abc'].map((k) => Buffer.from(k));
  const probes = ['aa', 'abd', 'abcd', 'b', '`'].map((k) => Buffer.from(k));
  const orders = permutations([0, 1, 2, 3]);
  const problems: string[] = [];
  for (const ins of orders) {
    for (const rem of orders) {
      const m: Model = new Map();
      const where = `insert ${ins.join('')} remove ${rem.join('')}`;
      for (const i of ins) {
        put(m, keys[i]!, Buffer.from(`v${i}`));
        problems.push(...differences(db, m, probes).map((p) => `${where}, after put ${i}: ${p}`));
      }
      for (const i of rem) {
        del(m, keys[i]!);
        expect(db.remove(keys[i]!)).toBe(false);
        problems.push(...differences(db, m, probes).map((p) => `${where}, after remove ${i}: ${p}`));
      }
      if (problems.length > 0) break;
    }
  }
  expect(problems.slice(0, 10)).toEqual([]);
  expect(db.countAll()).toBe(0);
  db.close();
});

test('keys differing only in the last byte, 0x00 and 0xff runs: growth to 256 children and back', () => {
  db = openRadix(path.join(dir, 'bytes.pool'), 32 * 1024 * 1024);
  const rng = new Rng(7);
  const m: Model = new Map();
  const last = rng.shuffle(Array.from({ length: 256 }, (_, b) => b));
  for (const b of last) put(m, Buffer.from([0x6b, 0x00, 0xff, b]), Buffer.from([b, b]));
  for (let n = 0; n <= 4; n++) {
    put(m, Buffer.alloc(n, 0x00), Buffer.from(`zeros${n}`));
    put(m, Buffer.alloc(n, 0xff), Buffer.from(`ones${n}`));
  }
  const probes = [Buffer.from([0x6b]), Buffer.from([0x6b, 0x00]), Buffer.from([0x6b, 0x00, 0xff]), Buffer.from([0x6c])];
  expect(differences(db, m, probes).slice(0, 10)).toEqual([]);
  // Remove in random order: the node shrinks 256 -> 48 -> 16 -> 4 and collapses; check on the way.
  const problems: string[] = [];
  for (const [i, b] of rng.shuffle([...last]).entries()) {
    del(m, Buffer.from([0x6b, 0x00, 0xff, b]));
    if (i % 37 === 0 || i > 250) problems.push(...differences(db, m, probes).map((p) => `after ${i + 1} removes: ${p}`));
  }
  expect(problems.slice(0, 10)).toEqual([]);
  expect(db.countAll()).toBe(m.size);
  db.close();
});

test('64 KiB keys sharing all but the last byte, and a prefix of them, survive a reopen', () => {
  const poolPath = path.join(dir, 'long.pool');
  db = openRadix(poolPath, 32 * 1024 * 1024);
  const m: Model = new Map();
  const base = Buffer.alloc(64 * 1024, 0x61);
  for (const b of [0x00, 0x01, 0x7f, 0xfe, 0xff]) put(m, Buffer.concat([base, Buffer.from([b])]), Buffer.from(`long-${b}`));
  put(m, base, Buffer.alloc(100 * 1024, 0x76));
  put(m, base.subarray(0, 1000), Buffer.from('prefix'));
  put(m, Buffer.from('b'), Buffer.from('after'));
  const probes = [Buffer.concat([base, Buffer.from([0x80])]), base.subarray(0, 50_000)];
  expect(differences(db, m, probes).slice(0, 10)).toEqual([]);
  db.close();
  db = openRadix(poolPath);
  expect(differences(db, m, probes).slice(0, 10)).toEqual([]);
  del(m, base);
  del(m, Buffer.concat([base, Buffer.from([0x7f])]));
  expect(differences(db, m, probes).slice(0, 10)).toEqual([]);
  db.close();
});

test('a transaction that splits, grows and collapses nodes is all or nothing', () => {
  db = openRadix(path.join(dir, 'tx.pool'), 16 * 1024 * 1024);
  const m: Model = new Map();
  for (const k of ['a', 'ab', 'b', 'ba', 'bb']) put(m, Buffer.from(k), Buffer.from(k));
  const tx = db.transaction();
  for (let b = 0; b < 60; b++) tx.put(Buffer.from([0x61, b]), Buffer.from('new'));
  tx.remove(Buffer.from('ba'));
  tx.remove(Buffer.from('bb'));
  tx.put(Buffer.from(''), Buffer.from('empty'));
  tx.abort();
  expect(differences(db, m).slice(0, 10)).toEqual([]);
  const tx2 = db.transaction();
  for (let b = 0; b < 60; b++) tx2.put(Buffer.from([0x61, b]), Buffer.from('new'));
  tx2.remove(Buffer.from('ba'));
  tx2.remove(Buffer.from('bb'));
  tx2.put(Buffer.from(''), Buffer.from('empty'));
  tx2.put(Buffer.from([0x61, 5]), Buffer.from('last wins'));
  tx2.commit();
  for (let b = 0; b < 60; b++) m.set(Buffer.from([0x61, b]).toString('hex'), [Buffer.from([0x61, b]), Buffer.from(b === 5 ? 'last wins' : 'new')]);
  m.delete(Buffer.from('ba').toString('hex'));
  m.delete(Buffer.from('bb').toString('hex'));
  m.set('', [Buffer.alloc(0), Buffer.from('empty')]);
  expect(differences(db, m).slice(0, 10)).toEqual([]);
  db.close();
});
