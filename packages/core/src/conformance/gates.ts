/**
 * Capability gates: what an engine does not claim in `capabilities` is NOT_SUPPORTED (sync
 * methods throw, promise methods reject), and the refused call changes nothing.
 * - not `sync` (async-only): every sync data method, whose message names its `db.promises` twin;
 * - not `sorted`: every count/get range variant, and iteration with bounds;
 * - not `iterators`: entries, keys and values;
 * - sorted iterators without `reverse`: iteration in reverse;
 * - not `defrag`: defrag.
 * On async-only engines the other gates are checked on the promises twins only.
 */
import { describe, expect } from '@jest/globals';
import type { Database } from '../index';
import { expectCode, expectRejection } from './assert-error';
import type { Suite } from './suite';
import * as via from './via';
import { drain } from './walk';

type Db = Database<string, string>;

export function hasGates(s: Suite): boolean {
  const c = s.caps;
  return !c.sync || !c.sorted || !c.iterators || !c.defrag || (c.sorted && c.iterators && !c.reverse);
}

/** Every sync data method with valid arguments; the name its refusal names (`db.promises.<name>()`). */
function syncCalls(db: Db, k: string, v: string): [name: string, run: () => unknown][] {
  const cb = () => {};
  return [
    ['put', () => db.put(k, v)],
    ['get', () => db.get(k)],
    ['exists', () => db.exists(k)],
    ['remove', () => db.remove(k)],
    ['batch', () => db.batch([{ type: 'put', key: k, value: v }])],
    ['defrag', () => db.defrag()],
    ['countAll', () => db.countAll()],
    ['countAbove', () => db.countAbove(k)],
    ['countEqualAbove', () => db.countEqualAbove(k)],
    ['countBelow', () => db.countBelow(k)],
    ['countEqualBelow', () => db.countEqualBelow(k)],
    ['countBetween', () => db.countBetween(k, k)],
    ['getAll', () => db.getAll(cb)],
    ['getAbove', () => db.getAbove(k, cb)],
    ['getEqualAbove', () => db.getEqualAbove(k, cb)],
    ['getBelow', () => db.getBelow(k, cb)],
    ['getEqualBelow', () => db.getEqualBelow(k, cb)],
    ['getBetween', () => db.getBetween(k, k, cb)],
    ['entries', () => db.entries()],
    ['keys', () => db.keys()],
    ['values', () => db.values({ limit: 1 })],
    ['entries', () => db[Symbol.iterator]()],
  ];
}

export function gates(s: Suite): void {
  const k = s.shape.key('gate');
  const v = s.shape.value('kept');
  const cb = () => {};
  const expectUnchanged = async (db: Db) => {
    if (s.behaviour === 'store') {
      expect(await via.countAll(s, db)).toBe(1);
      expect(await via.get(s, db, k)).toBe(v);
    }
  };

  describe('capability gates', () => {
    s.usePool();

    if (!s.caps.sync) {
      s.test('every sync data method is NOT_SUPPORTED on an async-only engine, naming its db.promises twin', async () => {
        const db = s.pool.fresh();
        expect(db.capabilities.sync).toBe(false);
        await db.promises.put(k, v);
        for (const [name, run] of syncCalls(db, k, v)) expectCode(`${name}()`, run, 'NOT_SUPPORTED', `${name}()`, `db.promises.${name}()`);
        await expectUnchanged(db);
        db.close();
        expect(db.isOpen).toBe(false);
        for (const [name, run] of syncCalls(db, k, v)) expectCode(`${name}() after close`, run, 'NOT_SUPPORTED', `db.promises.${name}()`);
      });
    }

    if (!s.caps.sorted) {
      s.test('every count and get range variant is NOT_SUPPORTED on an unsorted engine', async () => {
        const db = s.pool.fresh();
        await via.put(s, db, k, v);
        if (s.caps.sync) {
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
        }
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
        await expectUnchanged(db);
      });
    }

    if (!s.caps.iterators) {
      s.test('entries, keys and values are NOT_SUPPORTED on an engine without iterators', async () => {
        const db = s.pool.fresh();
        await via.put(s, db, k, v);
        if (s.caps.sync) {
          expectCode('entries()', () => db.entries(), 'NOT_SUPPORTED');
          expectCode('keys()', () => db.keys(), 'NOT_SUPPORTED');
          expectCode('values()', () => db.values({ limit: 1 }), 'NOT_SUPPORTED');
          expectCode('[Symbol.iterator]()', () => db[Symbol.iterator](), 'NOT_SUPPORTED');
        }
        await expectRejection('promises.entries()', () => db.promises.entries(), 'NOT_SUPPORTED');
        await expectRejection('promises.keys()', () => db.promises.keys(), 'NOT_SUPPORTED');
        await expectRejection('promises.values()', () => db.promises.values(), 'NOT_SUPPORTED');
        await expectUnchanged(db);
      });
    }

    if (s.caps.iterators && !s.caps.sorted) {
      s.test('iteration with bounds or in reverse is NOT_SUPPORTED on an unsorted engine; limit works', async () => {
        const db = s.pool.fresh();
        await via.put(s, db, k, v);
        for (const options of [{ gt: k }, { gte: k }, { lt: k }, { lte: k }, { reverse: true }]) {
          const name = Object.keys(options)[0]!;
          if (s.caps.sync) expectCode(`entries({ ${name} })`, () => db.entries(options), 'NOT_SUPPORTED');
          await expectRejection(`promises.entries({ ${name} })`, () => db.promises.entries(options), 'NOT_SUPPORTED');
        }
        const limited = s.caps.sync ? [...db.entries({ limit: 1 })] : await drain(db.promises.entries({ limit: 1 }));
        expect(limited.length).toBe(s.behaviour === 'store' ? 1 : 0);
        await expectUnchanged(db);
      });
    }

    if (s.caps.sorted && s.caps.iterators && !s.caps.reverse) {
      s.test('iteration in reverse is NOT_SUPPORTED on an engine without reverse', async () => {
        const db = s.pool.fresh();
        await via.put(s, db, k, v);
        if (s.caps.sync) {
          expectCode('entries({ reverse: true })', () => db.entries({ reverse: true }), 'NOT_SUPPORTED');
          expectCode('keys({ reverse: true, gt })', () => db.keys({ reverse: true, gt: k }), 'NOT_SUPPORTED');
        }
        await expectRejection('promises.entries({ reverse: true })', () => db.promises.entries({ reverse: true }), 'NOT_SUPPORTED');
        await expectUnchanged(db);
      });
    }

    if (!s.caps.defrag) {
      s.test('defrag is NOT_SUPPORTED on an engine without defrag', async () => {
        const db = s.pool.fresh();
        await via.put(s, db, k, v);
        if (s.caps.sync) {
          expectCode('defrag()', () => db.defrag(), 'NOT_SUPPORTED');
          expectCode('defrag(0, 100)', () => db.defrag(0, 100), 'NOT_SUPPORTED');
        }
        await expectRejection('promises.defrag()', () => db.promises.defrag(), 'NOT_SUPPORTED');
        await expectUnchanged(db);
      });
    }
  });
}
