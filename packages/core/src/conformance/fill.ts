/**
 * Loading a database and the reference model with the same random data.
 */
import { expect } from '@jest/globals';
import type { Database } from '../index';
import { SortedModel, showEntries } from './model';
import type { Random } from './random';
import type { Suite } from './suite';
import * as via from './via';

/**
 * Puts `count` random entries (random keys, so some are overwritten) into `db` and a new model.
 * Keys and values follow the suite's key shape.
 */
export function fillRandom(s: Suite, db: Database<Buffer, Buffer>, rng: Random, count: number, maxValue = 48): SortedModel {
  const model = new SortedModel();
  for (let i = 0; i < count; i++) {
    const k = s.shape.randomKey(rng);
    const v = s.shape.randomValue(rng, maxValue);
    db.put(k, v);
    model.put(k, v);
  }
  return model;
}

/** `fillRandom` through the promises twins on async-only engines (the sync puts otherwise). */
export async function fillRandomVia(s: Suite, db: Database<Buffer, Buffer>, rng: Random, count: number, maxValue = 48): Promise<SortedModel> {
  if (s.caps.sync) return fillRandom(s, db, rng, count, maxValue);
  const model = new SortedModel();
  for (let i = 0; i < count; i++) {
    const k = s.shape.randomKey(rng);
    const v = s.shape.randomValue(rng, maxValue);
    await db.promises.put(k, v);
    model.put(k, v);
  }
  return model;
}

/** Every entry of `db` (through getAll), as printable strings. */
export function dump(db: Database<Buffer, Buffer>): string[] {
  const out: [Buffer, Buffer][] = [];
  db.getAll((k, v) => void out.push([k, v]));
  return showEntries(out);
}

/**
 * Checks that `db` holds exactly the model: the same count, every model key with its exact
 * value, and a full walk that sees the model's entries (in key order on sorted engines, as a
 * set otherwise).
 */
export function expectSameContents(s: Suite, db: Database<Buffer, Buffer>, model: SortedModel): void {
  expect(db.countAll()).toBe(model.size);
  for (const [k, v] of model.entries()) {
    const got = db.get(k);
    if (got === undefined || !got.equals(v)) {
      expect(showEntries([[k, got ?? Buffer.from('<missing>')]])).toEqual(showEntries([[k, v]]));
    }
  }
  const walked = dump(db);
  const expected = showEntries(model.entries());
  if (s.caps.sorted) expect(walked).toEqual(expected);
  else expect([...walked].sort()).toEqual([...expected].sort());
}

/** `expectSameContents` through the promises twins on async-only engines (the sync methods otherwise). */
export async function expectSameContentsVia(s: Suite, db: Database<Buffer, Buffer>, model: SortedModel): Promise<void> {
  if (s.caps.sync) return expectSameContents(s, db, model);
  expect(await db.promises.countAll()).toBe(model.size);
  for (const [k, v] of model.entries()) {
    const got = await db.promises.get(k);
    if (got === undefined || !got.equals(v)) {
      expect(showEntries([[k, got ?? Buffer.from('<missing>')]])).toEqual(showEntries([[k, v]]));
    }
  }
  const walked = showEntries(await via.getAll(s, db));
  const expected = showEntries(model.entries());
  if (s.caps.sorted) expect(walked).toEqual(expected);
  else expect([...walked].sort()).toEqual([...expected].sort());
}

/** `count` distinct random keys in the suite's key shape. */
export function uniqueKeys(s: Suite, rng: Random, count: number): Buffer[] {
  const seen = new Set<string>();
  const out: Buffer[] = [];
  for (let tries = 0; out.length < count && tries < count * 100; tries++) {
    const k = s.shape.randomKey(rng);
    const id = k.toString('latin1');
    if (!seen.has(id)) {
      seen.add(id);
      out.push(k);
    }
  }
  if (out.length < count) throw new Error(`could not make ${count} distinct keys of this engine's key shape`);
  return out;
}
