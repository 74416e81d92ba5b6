/**
 * JS iteration (`entries`, `keys`, `values` with `{ gt, gte, lt, lte, reverse, limit }`).
 *
 * Sorted engines: every option and combination against the reference model, across the chunk
 * boundaries of core's paging (16, 64, 256 entries). Unsorted engines: a full iteration yields
 * exactly the stored entries, each once, in some order; `limit` yields that many distinct
 * stored entries; bounds and `reverse` are NOT_SUPPORTED.
 */
import { describe, expect } from '@jest/globals';
import type { Database, IterateOptions } from '../index';
import { expectCode } from './assert-error';
import { fillRandom } from './fill';
import { showEntries, showKeys, type ModelRange, type SortedModel } from './model';
import type { Random } from './random';
import type { Suite } from './suite';

type BinaryDb = Database<Buffer, Buffer>;

/** Model range of iterate options (only one of gt/gte and one of lt/lte is ever set). */
function modelRange(o: IterateOptions<Buffer>): ModelRange | undefined {
  const r: { -readonly [P in keyof ModelRange]: ModelRange[P] } = {};
  if (o.gt !== undefined) (r.lower = o.gt), (r.lowerInclusive = false);
  if (o.gte !== undefined) (r.lower = o.gte), (r.lowerInclusive = true);
  if (o.lt !== undefined) (r.upper = o.lt), (r.upperInclusive = false);
  if (o.lte !== undefined) (r.upper = o.lte), (r.upperInclusive = true);
  return Object.keys(r).length > 0 ? r : undefined;
}

function expectIteration(db: BinaryDb, model: SortedModel, options: IterateOptions<Buffer>): void {
  const limit = options.limit === undefined || options.limit < 0 ? Infinity : options.limit;
  const expected = model.entries(modelRange(options), options.reverse === true, limit);
  const got = [...db.entries(options)];
  const label = JSON.stringify(options, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? showKeys([Buffer.from((v as { data: number[] }).data)])[0] : v));
  if (showEntries(got).join('\n') !== showEntries(expected).join('\n')) {
    expect({ options: label, entries: showEntries(got) }).toEqual({ options: label, entries: showEntries(expected) });
  }
  const keys = [...db.keys(options)];
  expect(showKeys(keys)).toEqual(showKeys(expected.map(([k]) => k)));
  const values = [...db.values(options)];
  expect(values.map((v) => v.toString('hex'))).toEqual(expected.map(([, v]) => v.toString('hex')));
}

function randomOptions(rng: Random, probes: readonly Buffer[], reverse: boolean): IterateOptions<Buffer> {
  const o: IterateOptions<Buffer> = {};
  const lower = rng.int(3);
  if (lower === 1) o.gt = rng.pick(probes);
  if (lower === 2) o.gte = rng.pick(probes);
  const upper = rng.int(3);
  if (upper === 1) o.lt = rng.pick(probes);
  if (upper === 2) o.lte = rng.pick(probes);
  if (reverse && rng.chance(0.5)) o.reverse = true;
  if (rng.chance(0.5)) o.limit = rng.pick([0, 1, 2, 15, 16, 17, 79, 80, 81, 200, -1, Infinity]);
  return o;
}

export function iteration(s: Suite): void {
  const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

  if (s.caps.sorted) {
    describe('sorted iteration', () => {
      s.usePool();
      const load = (rng: Random) => {
        const db = s.pool.fresh(buffers);
        const model = fillRandom(s, db, rng, s.n(400));
        return { db, model, probes: s.shape.probes(rng, model.keys(), 40) };
      };

      s.test('entries() yields every entry in ascending key order; keys() and values() agree', (rng) => {
        const { db, model } = load(rng);
        expectIteration(db, model, {});
        expect(showEntries([...db])).toEqual(showEntries(model.entries()));
      });

      s.test('gt, gte, lt and lte bounds agree with the model', (rng) => {
        const { db, model, probes } = load(rng);
        for (let i = 0; i < 15; i++) {
          const a = rng.pick(probes);
          const b = rng.pick(probes);
          const [lo, hi] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a];
          for (const lower of [{}, { gt: lo }, { gte: lo }]) {
            for (const upper of [{}, { lt: hi }, { lte: hi }]) expectIteration(db, model, { ...lower, ...upper });
          }
        }
        const stored = model.keys();
        const k = stored[stored.length >> 1]!;
        expectIteration(db, model, { gte: k, lte: k });
        expectIteration(db, model, { gt: k, lte: k });
        expectIteration(db, model, { gte: k, lt: k });
      });

      s.test('limit caps the number of entries (0, 1, chunk edges, all, more than all, -1, Infinity)', (rng) => {
        const { db, model } = load(rng);
        for (const limit of [0, 1, 2, 15, 16, 17, 79, 80, 81, 335, 336, 337, model.size - 1, model.size, model.size + 1, -1, Infinity]) {
          expectIteration(db, model, { limit });
        }
      });

      if (s.caps.reverse) {
        s.test('reverse yields descending key order, with bounds and limits', (rng) => {
          const { db, model, probes } = load(rng);
          expectIteration(db, model, { reverse: true });
          expectIteration(db, model, { reverse: false });
          for (let i = 0; i < 30; i++) {
            const o = randomOptions(rng, probes, true);
            expectIteration(db, model, { ...o, reverse: true });
          }
        });
      }

      s.test('random combinations of bounds, reverse and limit agree with the model', (rng) => {
        const { db, model, probes } = load(rng);
        for (let i = 0; i < 150; i++) expectIteration(db, model, randomOptions(rng, probes, s.caps.reverse));
      });

      s.test('iteration of an empty database or an empty range yields nothing', (rng) => {
        const db = s.pool.fresh(buffers);
        expect([...db.entries()]).toEqual([]);
        expect([...db.keys({ limit: 5 })]).toEqual([]);
        const { db: full, model } = load(rng);
        const keys = model.keys();
        const hi = keys[keys.length - 1]!;
        const lo = keys[0]!;
        expect([...full.entries({ gt: hi })]).toEqual([]);
        expect([...full.entries({ lt: lo })]).toEqual([]);
        expect([...full.entries({ gt: hi, lt: lo })]).toEqual([]);
        expect([...full.entries({ gte: hi, lte: lo })]).toEqual(Buffer.compare(hi, lo) === 0 ? [[hi, model.get(hi)]] : []);
      });

      s.test('an iterator that is not run to the end can be abandoned; the database stays usable', (rng) => {
        const { db, model } = load(rng);
        const it = db.entries();
        const first = it.next();
        expect(first.done).toBe(false);
        expect(showEntries([first.value as [Buffer, Buffer]])).toEqual(showEntries(model.entries(undefined, false, 1)));
        it.return?.(undefined);
        const k = s.shape.keyBytes(Buffer.from('after-abandon'));
        db.put(k, s.shape.valueBytes(Buffer.from('v')));
        model.put(k, s.shape.valueBytes(Buffer.from('v')));
        expectIteration(db, model, {});
      });
    });
  } else if (s.caps.iterators) {
    describe('unsorted iteration', () => {
      s.usePool();

      s.test('entries() yields exactly the stored entries, each once, in some order', (rng) => {
        const db = s.pool.fresh(buffers);
        const model = fillRandom(s, db, rng, s.n(300));
        const got = showEntries([...db.entries()]);
        expect(new Set(got).size).toBe(got.length);
        expect([...got].sort()).toEqual(showEntries(model.entries()).sort());
        expect([...db.keys()].length).toBe(model.size);
        expect([...db.values()].length).toBe(model.size);
      });

      s.test('limit yields that many distinct stored entries', (rng) => {
        const db = s.pool.fresh(buffers);
        const model = fillRandom(s, db, rng, s.n(200));
        const stored = new Set(showEntries(model.entries()));
        for (const limit of [0, 1, 7, model.size, model.size + 5, -1, Infinity]) {
          const got = showEntries([...db.entries({ limit })]);
          const want = limit < 0 ? model.size : Math.min(limit, model.size);
          expect(got.length).toBe(want);
          expect(new Set(got).size).toBe(got.length);
          for (const e of got) expect(stored.has(e)).toBe(true);
        }
      });

      s.test('range bounds and reverse are NOT_SUPPORTED on an unsorted engine', () => {
        const db = s.pool.fresh(buffers);
        db.put(s.shape.keyBytes(Buffer.from('k')), s.shape.valueBytes(Buffer.from('v')));
        const k = s.shape.keyBytes(Buffer.from('a'));
        for (const options of [{ gt: k }, { gte: k }, { lt: k }, { lte: k }, { reverse: true }, { gte: k, limit: 1 }]) {
          expectCode(`entries(${Object.keys(options).join(', ')})`, () => db.entries(options), 'NOT_SUPPORTED');
          expectCode(`keys(${Object.keys(options).join(', ')})`, () => db.keys(options), 'NOT_SUPPORTED');
          expectCode(`values(${Object.keys(options).join(', ')})`, () => db.values(options), 'NOT_SUPPORTED');
        }
        expect(db.countAll()).toBe(1);
      });
    });
  }
}
