/**
 * Argument checking: keys that are not strings, Buffers or Uint8Arrays, missing or non-bytes
 * values, callbacks that are not functions, iteration options of the wrong shape and malformed
 * batches are INVALID_ARGUMENT (promise methods reject with it), and they change nothing.
 */
import { describe, expect } from '@jest/globals';
import type { Database } from '../index';
import { expectCode, expectRejection } from './assert-error';
import type { Suite } from './suite';

type Db = Database<string, string>;

const BAD_KEYS: readonly unknown[] = [42, null, undefined, true, { key: 'k' }, ['k'], Symbol('k'), 10n];
const show = (x: unknown) => (typeof x === 'symbol' || typeof x === 'bigint' ? String(x) : JSON.stringify(x) ?? String(x));

export function argumentChecks(s: Suite): void {
  const k = s.shape.key('valid');
  const v = s.shape.value('valid');

  describe('argument checking', () => {
    s.usePool();

    s.test('keys that are not strings, Buffers or Uint8Arrays are INVALID_ARGUMENT', () => {
      const db = s.pool.fresh() as unknown as Db & Record<string, (...args: unknown[]) => unknown>;
      db.put(k, v);
      for (const bad of BAD_KEYS) {
        expectCode(`put(${show(bad)}, value)`, () => db.put(bad as string, v), 'INVALID_ARGUMENT');
        expectCode(`get(${show(bad)})`, () => db.get(bad as string), 'INVALID_ARGUMENT');
        expectCode(`exists(${show(bad)})`, () => db.exists(bad as string), 'INVALID_ARGUMENT');
        expectCode(`remove(${show(bad)})`, () => db.remove(bad as string), 'INVALID_ARGUMENT');
        if (s.caps.sorted) {
          for (const m of ['countAbove', 'countEqualAbove', 'countBelow', 'countEqualBelow']) {
            expectCode(`${m}(${show(bad)})`, () => db[m]!(bad), 'INVALID_ARGUMENT');
          }
          expectCode(`countBetween(k, ${show(bad)})`, () => db.countBetween(k, bad as string), 'INVALID_ARGUMENT');
          expectCode(`getAbove(${show(bad)}, cb)`, () => db.getAbove(bad as string, () => {}), 'INVALID_ARGUMENT');
          expectCode(`getBetween(${show(bad)}, k, cb)`, () => db.getBetween(bad as string, k, () => {}), 'INVALID_ARGUMENT');
        }
      }
      if (s.behaviour === 'store') {
        expect(db.countAll()).toBe(1);
        expect(db.get(k)).toBe(v);
      }
    });

    s.test('a missing or non-bytes value is INVALID_ARGUMENT (utf8 and buffer encodings)', () => {
      const db = s.pool.fresh();
      const bytes = s.pool.fresh({ valueEncoding: 'buffer' }, 'bytes');
      for (const bad of [undefined, 42, null, { v: 1 }, [1], true] as unknown[]) {
        expectCode(`put(k, ${show(bad)})`, () => db.put(k, bad as string), 'INVALID_ARGUMENT');
        expectCode(`put(k, ${show(bad)}) with valueEncoding buffer`, () => bytes.put(k, bad as Buffer), 'INVALID_ARGUMENT');
      }
      expect(db.exists(k)).toBe(false);
      expect(bytes.exists(k)).toBe(false);
    });

    s.test('a callback that is not a function is INVALID_ARGUMENT', () => {
      const db = s.pool.fresh();
      for (const bad of [undefined, null, 'cb', {}]) {
        expectCode(`getAll(${show(bad)})`, () => db.getAll(bad as () => void), 'INVALID_ARGUMENT');
        if (s.caps.sorted) {
          expectCode(`getAbove(k, ${show(bad)})`, () => db.getAbove(k, bad as () => void), 'INVALID_ARGUMENT');
          expectCode(`getBetween(k, k, ${show(bad)})`, () => db.getBetween(k, k, bad as () => void), 'INVALID_ARGUMENT');
        }
      }
    });

    if (s.caps.iterators) {
      s.test('iteration options of the wrong shape are INVALID_ARGUMENT', () => {
        const db = s.pool.fresh();
        const bad: unknown[] = ['all', 5, { limit: 1.5 }, { limit: '3' }, { reverse: 'yes' }, { start: k }, { lmit: 3 }];
        if (s.caps.sorted) bad.push({ gt: 5 }, { lte: null }, { gt: k, gte: k }, { lt: k, lte: k });
        for (const options of bad) {
          expectCode(`entries(${show(options)})`, () => db.entries(options as object), 'INVALID_ARGUMENT');
          expectCode(`keys(${show(options)})`, () => db.keys(options as object), 'INVALID_ARGUMENT');
        }
      });
    }

    s.test('a malformed batch is INVALID_ARGUMENT and applies nothing', () => {
      const db = s.pool.fresh();
      db.put(k, v);
      const other = s.shape.key('other');
      const bad: unknown[] = [
        'not an array',
        { type: 'put', key: other, value: v },
        [{ type: 'put', key: other, value: v }, { type: 'delete', key: k }],
        [{ type: 'put', key: other, value: v }, { type: 'put', key: 5, value: v }],
        [{ type: 'del', key: k }, { type: 'put', key: other }],
        [{ type: 'del', key: k }, null],
      ];
      for (const ops of bad) expectCode(`batch(${show(ops)})`, () => db.batch(ops as []), 'INVALID_ARGUMENT');
      if (s.behaviour === 'store') {
        expect(db.get(k)).toBe(v);
        expect(db.exists(other)).toBe(false);
        expect(db.countAll()).toBe(1);
      }
    });

    s.test('promise methods reject on bad arguments instead of throwing', async () => {
      const db = s.pool.fresh();
      await expectRejection('promises.put(42, v)', () => db.promises.put(42 as unknown as string, v), 'INVALID_ARGUMENT');
      await expectRejection('promises.put(k, undefined)', () => db.promises.put(k, undefined as unknown as string), 'INVALID_ARGUMENT');
      await expectRejection('promises.get(null)', () => db.promises.get(null as unknown as string), 'INVALID_ARGUMENT');
      await expectRejection('promises.exists({})', () => db.promises.exists({} as string), 'INVALID_ARGUMENT');
      await expectRejection('promises.remove(undefined)', () => db.promises.remove(undefined as unknown as string), 'INVALID_ARGUMENT');
      await expectRejection('promises.getAll("cb")', () => db.promises.getAll('cb' as unknown as () => void), 'INVALID_ARGUMENT');
      await expectRejection('promises.batch("x")', () => db.promises.batch('x' as unknown as []), 'INVALID_ARGUMENT');
      if (s.caps.sorted) await expectRejection('promises.countAbove(1)', () => db.promises.countAbove(1 as unknown as string), 'INVALID_ARGUMENT');
      if (s.caps.iterators) await expectRejection('promises.entries({ limit: 0.5 })', () => db.promises.entries({ limit: 0.5 }), 'INVALID_ARGUMENT');
      expect(db.countAll()).toBe(0);
    });
  });
}
