// Large fills of tree3 in ascending, descending and random key order, checked against a sorted
// model: full walks both ways, range counts and range walks of every shape, point reads; then
// the same again after a reopen (the DRAM inner nodes rebuilt from the persistent leaves).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import path from 'node:path';
import { makeDir, openTree3, removeDir, Rng, SortedKeys, type BufferDb } from './helpers';

const N = 200_000;

let dir: string;
beforeAll(() => {
  dir = makeDir();
});
afterAll(() => removeDir(dir));

/**
 * N distinct binary keys of 2 to 21 bytes: half begin with one shared 8-byte prefix (so the
 * cached key prefixes tie and full keys decide), some contain zero bytes, and values are 0 to
 * 39 bytes derived from the key.
 */
function makeKeys(rng: Rng): SortedKeys {
  const shared = Buffer.from('prefix\0\xff', 'latin1');
  const seen = new Set<string>();
  const entries: [Buffer, Buffer][] = [];
  while (entries.length < N) {
    const tail = rng.bytes(1 + rng.int(13));
    const key = rng.int(2) === 0 ? Buffer.concat([shared, tail]) : Buffer.concat([rng.bytes(1), tail]);
    const hex = key.toString('hex');
    if (seen.has(hex)) continue;
    seen.add(hex);
    entries.push([key, valueOf(key)]);
  }
  return new SortedKeys(entries);
}

function valueOf(key: Buffer): Buffer {
  const len = key[key.length - 1]! % 40;
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i++) out[i] = (key[i % key.length]! + i) & 0xff;
  return out;
}

/** A bound for the sample ranges: a stored key, or one just above it (key + 0x00). */
function boundAt(model: SortedKeys, i: number, between: boolean): Buffer {
  const k = model.keys[Math.min(i, model.size - 1)]!;
  return between ? Buffer.concat([k, Buffer.alloc(1)]) : k;
}

function expectEntriesAt(got: [Buffer, Buffer][], model: SortedKeys, from: number, step: 1 | -1): void {
  for (let j = 0; j < got.length; j++) {
    const i = from + j * step;
    if (!got[j]![0].equals(model.keys[i]!) || !got[j]![1].equals(model.values[i]!)) {
      const want = model.keys[i]?.toString('hex');
      throw new Error(`entry ${j}: got ${got[j]![0].toString('hex')}, expected ${want} (model index ${i})`);
    }
  }
}

function verify(db: BufferDb, model: SortedKeys, rng: Rng): void {
  expect(db.countAll()).toBe(N);

  let i = 0;
  for (const [k, v] of db.entries()) {
    if (!k.equals(model.keys[i]!) || !v.equals(model.values[i]!)) {
      throw new Error(`forward walk differs at ${i}: ${k.toString('hex')}`);
    }
    i++;
  }
  expect(i).toBe(N);
  i = N - 1;
  for (const [k, v] of db.entries({ reverse: true })) {
    if (!k.equals(model.keys[i]!) || !v.equals(model.values[i]!)) {
      throw new Error(`reverse walk differs at ${i}: ${k.toString('hex')}`);
    }
    i--;
  }
  expect(i).toBe(-1);

  for (let s = 0; s < 150; s++) {
    const a = rng.int(N);
    const b = a + rng.int(5000);
    const lo = boundAt(model, a, rng.int(3) === 0);
    const hi = boundAt(model, b, rng.int(3) === 0);
    const lowerFrom = (inclusive: boolean) => model.lowerIndex(lo, inclusive);
    const upperTo = (inclusive: boolean) => model.lowerIndex(hi, !inclusive);
    const span = (from: number, to: number) => Math.max(0, to - from);

    expect(db.countAbove(lo)).toBe(span(lowerFrom(false), N));
    expect(db.countEqualAbove(lo)).toBe(span(lowerFrom(true), N));
    expect(db.countBelow(hi)).toBe(span(0, upperTo(false)));
    expect(db.countEqualBelow(hi)).toBe(span(0, upperTo(true)));
    expect(db.countBetween(lo, hi)).toBe(span(lowerFrom(false), upperTo(false)));
    expect(db.countBetween(hi, lo)).toBe(0);

    const li = rng.int(2) === 0;
    const ui = rng.int(2) === 0;
    const from = lowerFrom(li);
    const to = upperTo(ui);
    const limit = 1 + rng.int(600);
    const range = { ...(li ? { gte: lo } : { gt: lo }), ...(ui ? { lte: hi } : { lt: hi }) };
    const fwd = [...db.entries({ ...range, limit })];
    expect(fwd.length).toBe(Math.min(limit, span(from, to)));
    expectEntriesAt(fwd, model, from, 1);
    const rev = [...db.entries({ ...range, limit, reverse: true })];
    expect(rev.length).toBe(Math.min(limit, span(from, to)));
    expectEntriesAt(rev, model, to - 1, -1);

    const walked: [Buffer, Buffer][] = [];
    const stopped = db.getBetween(lo, hi, (k, v) => {
      walked.push([k, v]);
      return walked.length === 50;
    });
    const between = span(lowerFrom(false), upperTo(false));
    expect(stopped).toBe(between >= 50);
    expect(walked.length).toBe(Math.min(50, between));
    expectEntriesAt(walked, model, lowerFrom(false), 1);
  }

  for (let s = 0; s < 3000; s++) {
    const j = rng.int(N);
    const got = db.get(model.keys[j]!);
    if (got === undefined || !got.equals(model.values[j]!)) throw new Error(`get of key ${j} failed`);
    const missing = Buffer.concat([model.keys[j]!, Buffer.from([0])]);
    if (j + 1 < N && model.keys[j + 1]!.equals(missing)) continue;
    expect(db.get(missing)).toBeUndefined();
    expect(db.exists(missing)).toBe(false);
  }
}

describe.each([
  ['ascending', 1],
  ['descending', -1],
  ['random', 0],
] as const)('%s fill of 200 000 keys', (name, order) => {
  test('matches a sorted model, before and after reopen', () => {
    const rng = new Rng(0x7e3 + order);
    const model = makeKeys(rng);
    const ids = Array.from({ length: N }, (_, i) => i);
    if (order < 0) ids.reverse();
    if (order === 0) rng.shuffle(ids);
    const poolPath = path.join(dir, `${name}.pool`);
    let db = openTree3(poolPath);
    for (const i of ids) db.put(model.keys[i]!, model.values[i]!);
    verify(db, model, rng);
    db.close();
    db = openTree3(poolPath);
    verify(db, model, rng);
    db.close();
  });
});
