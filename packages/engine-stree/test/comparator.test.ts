// The `comparator` config key: reverse-bytewise orders every walk, range and count the other
// way, is stored in the pool at creation, and a reopen that asks for another is
// COMPARATOR_MISMATCH (the pool left as it was).
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { PmemkvError } from '@pmemkv/core';
import fs from 'node:fs';
import path from 'node:path';
import { makeDir, openStree, removeDir } from './helpers';

let dir: string;
beforeEach(() => {
  dir = makeDir();
});
afterEach(() => removeDir(dir));

const b = (s: string) => Buffer.from(s, 'latin1');
const text = (keys: Iterable<Buffer>) => [...keys].map((k) => k.toString('latin1'));

test('reverse-bytewise orders walks, ranges and counts in reverse, across splits and reopen', () => {
  const poolPath = path.join(dir, 'rev.pool');
  const keys: string[] = [];
  for (let i = 0; i < 3000; i++) keys.push(`k${String(i * 7919 % 3000).padStart(5, '0')}`);
  keys.push('', 'k', 'k0', 'z', 'k00000\0');
  const db = openStree(poolPath, { comparator: 'reverse-bytewise' });
  for (const k of keys) db.put(b(k), b(`v${k}`));
  // Reverse-bytewise: descending memcmp order, a longer key before its prefix.
  const want = [...keys].sort((x, y) => Buffer.compare(b(y), b(x)));
  expect(text(db.keys())).toEqual(want);
  expect(text(db.keys({ reverse: true }))).toEqual([...want].reverse());
  // Bounds follow the comparator: gt 'k02000' means "after it in reverse order" (smaller bytes).
  const after = want.filter((k) => Buffer.compare(b(k), b('k02000')) < 0);
  expect(text(db.keys({ gt: b('k02000') }))).toEqual(after);
  expect(db.countAbove(b('k02000'))).toBe(after.length);
  const between = want.filter((k) => Buffer.compare(b(k), b('k02500')) < 0 && Buffer.compare(b(k), b('k00100')) > 0);
  expect(db.countBetween(b('k02500'), b('k00100'))).toBe(between.length);
  expect(db.countBetween(b('k00100'), b('k02500'))).toBe(0); // inverted in this order
  db.close();

  const again = openStree(poolPath); // no key: the stored comparator applies
  expect(text(again.keys({ limit: 3 }))).toEqual(want.slice(0, 3));
  for (const k of keys.slice(0, 2000)) again.remove(b(k)); // merges and root shrinking
  expect(text(again.keys())).toEqual(want.filter((k) => !keys.slice(0, 2000).includes(k)));
  again.close();
});

test('reopening with another comparator is COMPARATOR_MISMATCH naming both; the pool stays usable', () => {
  const poolPath = path.join(dir, 'cmp.pool');
  const db = openStree(poolPath);
  db.put(b('a'), b('1'));
  db.put(b('b'), b('2'));
  db.close();
  let caught: unknown;
  try {
    openStree(poolPath, { comparator: 'reverse-bytewise' });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(PmemkvError);
  const err = caught as PmemkvError;
  expect(err.code).toBe('COMPARATOR_MISMATCH');
  expect(err.status).toBe(12);
  expect(err.message).toContain("'bytewise'");
  expect(err.message).toContain("'reverse-bytewise'");
  const same = openStree(poolPath, { comparator: 'bytewise' });
  expect(text(same.keys())).toEqual(['a', 'b']);
  same.close();
});

test('an unknown comparator name is refused before any pool is created', () => {
  const poolPath = path.join(dir, 'none.pool');
  expect(() => openStree(poolPath, { comparator: 'natural' })).toThrow(PmemkvError);
  expect(fs.existsSync(poolPath)).toBe(false);
});
