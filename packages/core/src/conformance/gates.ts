/**
 * Capability gates: what an engine does not claim in `capabilities` is NOT_SUPPORTED (sync
 * methods throw, promise methods reject), and the refused call changes nothing.
 * - not `sorted`: every count/get range variant, and iteration with bounds;
 * - not `iterators`: entries, keys and values;
 * - sorted iterators without `reverse`: iteration in reverse;
 * - not `defrag`: defrag.
 */
import { describe, expect } from '@jest/globals';
import type { Database } from '../index';
import { expectCode, expectRejection } from './assert-error';
import type { Suite } from './suite';

type Db = Database<string, string>;

export function hasGates(s: Suite): boolean {
  const c = s.caps;
  return !c.sorted || !c.iterators || !c.defrag || (c.sorted && c.iterators && !c.reverse);
}

export function gates(s: Suite): void {
  const k = s.shape.key('gate');
  const v = s.shape.value('kept');
  const cb = () => {};
  const expectUnchanged = (db: Db) => {
    if (s.behaviour === 'store') {
      expect(db.countAll()).toBe(1);
      expect(db.get(k)).toBe(v);
    }
  };

  describe('capability gates', () => {
    s.usePool();

    if (!s.caps.sorted) {
      s.test('every count and get range variant is NOT_SUPPORTED on an unsorted engine', async () => {
        const db = s.pool.fresh();
        db.put(k, v);
        const sync: [string, () => unknown][] = [
          ['countAbove', () => db.countAbove(k)],
          ['countEqualAbove', () => db.countEqualAbove(k)],
          ['countBelow', () => db.countBelow(k)],
          ['countEqualBelow', () => db.countEqualBelow(k)],
          ['countBetween', () => db.countBetween(k, k)],
          ['getAbove', () => db.getAbove(k, cb)],
          ['getEqualAbove', () => db.getEqualAbove(k, cb)],
          ['getBelow', () => db.getBelow(k, cb)],
          ['getEqualBelow', () => db.getEqualBelow(k, cb)],
          ['getBetween', () => db.getBetween(k, k, cb)],
        ];
        for (const [name, run] of sync) expectCode(name, run, 'NOT_SUPPORTED', name);
        const async: [string, () => unknown][] = [
          ['promises.countAbove', () => db.promises.countAbove(k)],
          ['promises.countEqualAbove', () => db.promises.countEqualAbove(k)],
          ['promises.countBelow', () => db.promises.countBelow(k)],
          ['promises.countEqualBelow', () => db.promises.countEqualBelow(k)],
          ['promises.countBetween', () => db.promises.countBetween(k, k)],
          ['promises.getAbove', () => db.promises.getAbove(k, cb)],
          ['promises.getEqualAbove', () => db.promises.getEqualAbove(k, cb)],
          ['promises.getBelow', () => db.promises.getBelow(k, cb)],
          ['promises.getEqualBelow', () => db.promises.getEqualBelow(k, cb)],
          ['promises.getBetween', () => db.promises.getBetween(k, k, cb)],
        ];
        for (const [name, run] of async) await expectRejection(name, run, 'NOT_SUPPORTED');
        expectUnchanged(db);
      });
    }

    if (!s.caps.iterators) {
      s.test('entries, keys and values are NOT_SUPPORTED on an engine without iterators', async () => {
        const db = s.pool.fresh();
        db.put(k, v);
        expectCode('entries()', () => db.entries(), 'NOT_SUPPORTED');
        expectCode('keys()', () => db.keys(), 'NOT_SUPPORTED');
        expectCode('values()', () => db.values({ limit: 1 }), 'NOT_SUPPORTED');
        expectCode('[Symbol.iterator]()', () => db[Symbol.iterator](), 'NOT_SUPPORTED');
        await expectRejection('promises.entries()', () => db.promises.entries(), 'NOT_SUPPORTED');
        await expectRejection('promises.keys()', () => db.promises.keys(), 'NOT_SUPPORTED');
        await expectRejection('promises.values()', () => db.promises.values(), 'NOT_SUPPORTED');
        expectUnchanged(db);
      });
    }

    if (s.caps.iterators && !s.caps.sorted) {
      s.test('iteration with bounds or in reverse is NOT_SUPPORTED on an unsorted engine; limit works', async () => {
        const db = s.pool.fresh();
        db.put(k, v);
        for (const options of [{ gt: k }, { gte: k }, { lt: k }, { lte: k }, { reverse: true }]) {
          const name = Object.keys(options)[0]!;
          expectCode(`entries({ ${name} })`, () => db.entries(options), 'NOT_SUPPORTED');
          await expectRejection(`promises.entries({ ${name} })`, () => db.promises.entries(options), 'NOT_SUPPORTED');
        }
        expect([...db.entries({ limit: 1 })].length).toBe(s.behaviour === 'store' ? 1 : 0);
        expectUnchanged(db);
      });
    }

    if (s.caps.sorted && s.caps.iterators && !s.caps.reverse) {
      s.test('iteration in reverse is NOT_SUPPORTED on an engine without reverse', async () => {
        const db = s.pool.fresh();
        db.put(k, v);
        expectCode('entries({ reverse: true })', () => db.entries({ reverse: true }), 'NOT_SUPPORTED');
        expectCode('keys({ reverse: true, gt })', () => db.keys({ reverse: true, gt: k }), 'NOT_SUPPORTED');
        await expectRejection('promises.entries({ reverse: true })', () => db.promises.entries({ reverse: true }), 'NOT_SUPPORTED');
        expectUnchanged(db);
      });
    }

    if (!s.caps.defrag) {
      s.test('defrag is NOT_SUPPORTED on an engine without defrag', async () => {
        const db = s.pool.fresh();
        db.put(k, v);
        expectCode('defrag()', () => db.defrag(), 'NOT_SUPPORTED');
        expectCode('defrag(0, 100)', () => db.defrag(0, 100), 'NOT_SUPPORTED');
        await expectRejection('promises.defrag()', () => db.promises.defrag(), 'NOT_SUPPORTED');
        expectUnchanged(db);
      });
    }
  });
}
