// Empty leaves are not leaked: a leaf emptied by removes is unlinked and freed by the remove that
// empties it, so its space serves later leaves and pairs.
//
// Measure: fill/remove cycles in the smallest pool (8 MiB, about 4.3 MB of it heap). Keys
// arrive in ascending order below a sentinel key, so every split leaves a half-full leaf behind
// and a fill of 10 000 keys makes about 400 leaves. Each leaf occupies a 512-byte allocation
// unit and each pair a 128-byte one, so a fill needs about 1.5 MB; if emptied leaves were
// leaked, each cycle would cost another 200 KB and the pool would run out before cycle 15.
// All 25 cycles must pass. The pool is reopened every fifth cycle: the space survives recovery.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import path from 'node:path';
import { makeDir, openTree3, removeDir, type BufferDb } from './helpers';

const MIN_POOL = 8 * 1024 * 1024;
const KEYS = 10_000;
const CYCLES = 25;

let dir: string;
beforeAll(() => {
  dir = makeDir();
});
afterAll(() => removeDir(dir));

const keyOf = (cycle: number, i: number) => Buffer.from(`c${String(cycle % 3)}-${String(i).padStart(8, '0')}`);
const sentinel = Buffer.from('~sentinel');

test(`${CYCLES} fill/remove cycles of ${KEYS} keys fit in an 8 MiB pool`, () => {
  const poolPath = path.join(dir, 'reuse.pool');
  let db: BufferDb = openTree3(poolPath, MIN_POOL);
  db.put(sentinel, Buffer.from('s'));
  const empty = Buffer.alloc(0);
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    for (let i = 0; i < KEYS; i++) db.put(keyOf(cycle, i), empty);
    expect(db.countAll()).toBe(KEYS + 1);
    expect(db.countBelow(sentinel)).toBe(KEYS);
    const first = db.keys({ limit: 1 }).next().value as Buffer;
    expect(first.equals(keyOf(cycle, 0))).toBe(true);
    for (let i = 0; i < KEYS; i++) {
      if (!db.remove(keyOf(cycle, i))) throw new Error(`cycle ${cycle}: key ${i} was not there to remove`);
    }
    expect(db.countAll()).toBe(1);
    expect([...db.keys()].map((k) => k.toString())).toEqual([sentinel.toString()]);
    if (cycle % 5 === 4) {
      db.close();
      db = openTree3(poolPath, MIN_POOL);
      expect(db.get(sentinel)?.toString()).toBe('s');
    }
  }
  db.close();
});
