/**
 * Range queries of sorted engines: every count and get variant (above `>`, equalAbove `>=`,
 * below `<`, equalBelow `<=`, between the open interval) against the reference model over a
 * few hundred random binary keys, probed at every stored key, its successor and its prefix,
 * the empty key and past the largest key; plus the edge cases by name (the empty key is the
 * minimum, prefixes sort first, empty and inverted ranges are empty).
 */
import { describe, expect } from '@jest/globals';
import type { Database } from '../index';
import { fillRandom } from './fill';
import { SortedModel, showBytes, showEntries, showKeys } from './model';
import type { Random } from './random';
import type { Suite } from './suite';
import { collect, RANGE_METHODS, type RangeMethod } from './walk';

type BinaryDb = Database<Buffer, Buffer>;

/** Argument lists for `method`: every probe, or (between) random pairs plus adjacent and inverted ones. */
export function rangeArgs(method: RangeMethod, probes: readonly Buffer[], rng: Random, pairs: number): Buffer[][] {
  if (method.arity === 1) return probes.map((p) => [p]);
  const sorted = [...probes].sort(Buffer.compare);
  const out: Buffer[][] = [];
  for (let i = 0; i < pairs; i++) out.push([rng.pick(sorted), rng.pick(sorted)]);
  for (let i = 0; i + 1 < sorted.length; i += 3) {
    out.push([sorted[i]!, sorted[i + 1]!]); // adjacent: often empty
    out.push([sorted[i + 1]!, sorted[i]!]); // inverted: always empty
    out.push([sorted[i]!, sorted[i]!]); // equal: always empty
  }
  return out;
}

function argText(args: readonly Buffer[]): string {
  return args.map((a) => showBytes(a)).join(', ');
}

export function ranges(s: Suite): void {
  const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
  const load = (rng: Random): { db: BinaryDb; model: SortedModel; probes: Buffer[] } => {
    const db = s.pool.fresh(buffers);
    const model = fillRandom(s, db, rng, s.n(300));
    return { db, model, probes: s.shape.probes(rng, model.keys(), 40) };
  };

  describe('sorted ranges', () => {
    s.usePool();

    for (const method of RANGE_METHODS) {
      s.test(`count${method.name} (${method.bound}) agrees with the model at every probe key`, (rng) => {
        const { db, model, probes } = load(rng);
        const mismatches: string[] = [];
        for (const args of rangeArgs(method, probes, rng, 400)) {
          const expected = model.count(method.range(args[0]!, args[1]));
          const got = method.count(db, args[0]!, args[1]);
          if (got !== expected) mismatches.push(`count${method.name}(${argText(args)}) = ${got}, expected ${expected}`);
        }
        expect(mismatches.slice(0, 10)).toEqual([]);
      });

      s.test(`get${method.name} (${method.bound}) visits exactly the model's entries in key order`, (rng) => {
        const { db, model, probes } = load(rng);
        const args = rangeArgs(method, probes, rng, 60);
        // Every probe would be slow on large models: a random sample plus the extremes.
        const sample = args.length > 80 ? [...args.slice(0, 4), ...Array.from({ length: 76 }, () => rng.pick(args))] : args;
        for (const a of sample) {
          const expected = model.entries(method.range(a[0]!, a[1]));
          const walked = collect<Buffer, Buffer>((cb) => method.get(db, cb, a[0]!, a[1]));
          if (showEntries(walked.entries).join('\n') !== showEntries(expected).join('\n')) {
            expect({ call: `get${method.name}(${argText(a)})`, entries: showEntries(walked.entries) }).toEqual({
              call: `get${method.name}(${argText(a)})`,
              entries: showEntries(expected),
            });
          }
          expect(walked.stopped).toBe(false);
        }
      });
    }

    if (s.shape.fixed === undefined) {
      s.test('the empty key is the smallest key', () => {
        const db = s.pool.fresh(buffers);
        const empty = Buffer.alloc(0);
        for (const k of [[0x61], [], [0], [0xff]]) db.put(Buffer.from(k), Buffer.from('v'));
        expect(db.countBelow(empty)).toBe(0);
        expect(db.countEqualBelow(empty)).toBe(1);
        expect(db.countAbove(empty)).toBe(3);
        expect(db.countEqualAbove(empty)).toBe(4);
        expect(db.countBetween(empty, Buffer.from([0xff]))).toBe(2);
        const below = collect<Buffer, Buffer>((cb) => db.getBelow(empty, cb));
        expect(below.entries).toEqual([]);
        const all = collect<Buffer, Buffer>((cb) => db.getEqualAbove(empty, cb));
        expect(showKeys(all.entries.map(([k]) => k))).toEqual(showKeys([[], [0], [0x61], [0xff]].map((k) => Buffer.from(k))));
      });

      s.test('keys that are prefixes of each other sort shorter first (bytewise order)', () => {
        const db = s.pool.fresh(buffers);
        const order = [[0x61], [0x61, 0], [0x61, 0, 0], [0x61, 1], [0x61, 0x62], [0x61, 0x62, 0x63], [0x61, 0xff], [0x62]].map((k) => Buffer.from(k));
        for (const k of [...order].reverse()) db.put(k, k);
        const all = collect<Buffer, Buffer>((cb) => db.getAll(cb));
        expect(showKeys(all.entries.map(([k]) => k))).toEqual(showKeys(order));
        expect(db.countBelow(Buffer.from([0x61, 0]))).toBe(1);
        expect(db.countEqualBelow(Buffer.from([0x61, 0]))).toBe(2);
        expect(db.countAbove(Buffer.from([0x61, 0x62]))).toBe(3);
        expect(db.countBetween(Buffer.from([0x61]), Buffer.from([0x61, 0x62]))).toBe(3);
        expect(db.countBetween(Buffer.from([0x61, 0]), Buffer.from([0x61, 0, 0]))).toBe(0);
        const between = collect<Buffer, Buffer>((cb) => db.getBetween(Buffer.from([0x61, 0]), Buffer.from([0x61, 0xff]), cb));
        expect(showKeys(between.entries.map(([k]) => k))).toEqual(showKeys(order.slice(2, 6)));
      });
    }

    s.test('empty and inverted ranges are empty, never an error', (rng) => {
      const { db, model } = load(rng);
      const keys = model.keys();
      const lo = keys[0]!;
      const hi = keys[keys.length - 1]!;
      const mid = keys[keys.length >> 1]!;
      for (const [a, b] of [[mid, mid], [hi, lo], [mid, lo], [hi, mid], [lo, lo]] as const) {
        expect(db.countBetween(a, b)).toBe(0);
        let calls = 0;
        expect(db.getBetween(a, b, () => void calls++)).toBe(false);
        expect(calls).toBe(0);
      }
      expect(db.countAbove(hi)).toBe(0);
      expect(db.countBelow(lo)).toBe(0);
      expect(collect<Buffer, Buffer>((cb) => db.getAbove(hi, cb)).entries).toEqual([]);
      expect(collect<Buffer, Buffer>((cb) => db.getBelow(lo, cb)).entries).toEqual([]);
    });

    s.test('every range method on an empty database counts 0 and visits nothing', (rng) => {
      const db = s.pool.fresh(buffers);
      const a = s.shape.randomKey(rng);
      const b = s.shape.keyBytes(Buffer.alloc(8, 0xff));
      for (const method of RANGE_METHODS) {
        expect(method.count(db, a, b)).toBe(0);
        const walked = collect<Buffer, Buffer>((cb) => method.get(db, cb, a, b));
        expect(walked).toEqual({ entries: [], stopped: false });
      }
    });
  });
}
