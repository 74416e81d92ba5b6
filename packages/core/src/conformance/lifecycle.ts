/**
 * Lifecycle: `db.engine`, `db.capabilities`, `isOpen`, `close` (idempotent), `Symbol.dispose`,
 * and use after close: every supported method of a closed database throws (promise methods
 * reject with) PmemkvError INVALID_ARGUMENT; work started before close settles; an iterator
 * outliving its database ends in INVALID_ARGUMENT or yields only real entries. On async-only
 * engines the same checks run through `db.promises` (their sync methods are the gates' business).
 */
import { describe, expect } from '@jest/globals';
import { PmemkvError, type Database } from '../index';
import { expectCode, expectRejection } from './assert-error';
import { showEntries } from './model';
import type { Suite } from './suite';
import * as via from './via';

type Db = Database<string, string>;
type Call = readonly [name: string, run: (db: Db) => unknown];

/** Every method of the public API the engine supports, called with valid arguments. */
function supportedCalls(s: Suite, k: string, v: string): { sync: Call[]; async: Call[] } {
  const cb = () => {};
  const sync: Call[] = [
    ['put', (db) => db.put(k, v)],
    ['get', (db) => db.get(k)],
    ['exists', (db) => db.exists(k)],
    ['remove', (db) => db.remove(k)],
    ['countAll', (db) => db.countAll()],
    ['getAll', (db) => db.getAll(cb)],
    ['batch', (db) => db.batch([{ type: 'put', key: k, value: v }])],
  ];
  const async: Call[] = [
    ['promises.put', (db) => db.promises.put(k, v)],
    ['promises.get', (db) => db.promises.get(k)],
    ['promises.exists', (db) => db.promises.exists(k)],
    ['promises.remove', (db) => db.promises.remove(k)],
    ['promises.countAll', (db) => db.promises.countAll()],
    ['promises.getAll', (db) => db.promises.getAll(cb)],
    ['promises.batch', (db) => db.promises.batch([{ type: 'del', key: k }])],
  ];
  if (s.caps.sorted) {
    sync.push(
      ['countAbove', (db) => db.countAbove(k)],
      ['countEqualAbove', (db) => db.countEqualAbove(k)],
      ['countBelow', (db) => db.countBelow(k)],
      ['countEqualBelow', (db) => db.countEqualBelow(k)],
      ['countBetween', (db) => db.countBetween(k, k)],
      ['getAbove', (db) => db.getAbove(k, cb)],
      ['getEqualAbove', (db) => db.getEqualAbove(k, cb)],
      ['getBelow', (db) => db.getBelow(k, cb)],
      ['getEqualBelow', (db) => db.getEqualBelow(k, cb)],
      ['getBetween', (db) => db.getBetween(k, k, cb)],
    );
    async.push(
      ['promises.countAbove', (db) => db.promises.countAbove(k)],
      ['promises.countEqualAbove', (db) => db.promises.countEqualAbove(k)],
      ['promises.countBelow', (db) => db.promises.countBelow(k)],
      ['promises.countEqualBelow', (db) => db.promises.countEqualBelow(k)],
      ['promises.countBetween', (db) => db.promises.countBetween(k, k)],
      ['promises.getAbove', (db) => db.promises.getAbove(k, cb)],
      ['promises.getEqualAbove', (db) => db.promises.getEqualAbove(k, cb)],
      ['promises.getBelow', (db) => db.promises.getBelow(k, cb)],
      ['promises.getEqualBelow', (db) => db.promises.getEqualBelow(k, cb)],
      ['promises.getBetween', (db) => db.promises.getBetween(k, k, cb)],
    );
  }
  if (s.caps.iterators) {
    sync.push(['entries', (db) => db.entries()], ['keys', (db) => db.keys({ limit: 3 })], ['values', (db) => db.values()], ['[Symbol.iterator]', (db) => db[Symbol.iterator]()]);
    async.push(['promises.entries', (db) => db.promises.entries()], ['promises.keys', (db) => db.promises.keys()], ['promises.values', (db) => db.promises.values({ limit: 2 })]);
  }
  if (s.caps.defrag) {
    sync.push(['defrag', (db) => db.defrag()]);
    async.push(['promises.defrag', (db) => db.promises.defrag(0, 100)]);
  }
  return { sync, async };
}

export function lifecycle(s: Suite): void {
  const k = s.shape.key('life');
  const v = s.shape.value('cycle');

  describe('lifecycle', () => {
    s.usePool();

    s.test('db.engine names the engine and db.capabilities are the plugin\'s', () => {
      const db = s.pool.fresh();
      expect(db.engine).toBe(s.engine);
      expect(db.capabilities).toEqual(s.caps);
      expect(db.isOpen).toBe(true);
    });

    s.test('close makes isOpen false, and closing twice is fine', async () => {
      const db = s.pool.fresh();
      await via.put(s, db, k, v);
      db.close();
      expect(db.isOpen).toBe(false);
      expect(() => db.close()).not.toThrow();
      expect(db.isOpen).toBe(false);
    });

    s.test('Symbol.dispose closes the database (`using`)', async () => {
      const db = s.pool.fresh();
      db[Symbol.dispose]();
      expect(db.isOpen).toBe(false);
      let escaped: Db | undefined;
      {
        using scoped = s.pool.reopen();
        await via.put(s, scoped, k, v);
        escaped = scoped;
        expect(scoped.isOpen).toBe(true);
      }
      expect(escaped.isOpen).toBe(false);
      expect(() => escaped[Symbol.dispose]()).not.toThrow();
    });

    if (s.caps.sync) {
      s.test('every supported method of a closed database throws INVALID_ARGUMENT', () => {
        const db = s.pool.fresh();
        db.put(k, v);
        db.close();
        for (const [name, run] of supportedCalls(s, k, v).sync) expectCode(`${name} after close`, () => run(db), 'INVALID_ARGUMENT');
      });
    }

    s.test('every supported promises method of a closed database rejects with INVALID_ARGUMENT', async () => {
      const db = s.pool.fresh();
      db.close();
      for (const [name, run] of supportedCalls(s, k, v).async) await expectRejection(`${name} after close`, () => run(db), 'INVALID_ARGUMENT');
    });

    s.test('async work started before close settles with its result or a PmemkvError', async () => {
      const db = s.pool.fresh();
      await via.put(s, db, s.shape.key('before'), v);
      const put = db.promises.put(k, v);
      const get = db.promises.get(s.shape.key('before'));
      const count = db.promises.countAll();
      db.close();
      const settled = await Promise.allSettled([put, get, count]);
      for (const r of settled) {
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PmemkvError);
      }
      if (s.behaviour === 'store') {
        if (settled[1].status === 'fulfilled') expect(settled[1].value).toBe(v);
        if (settled[2].status === 'fulfilled') expect([1, 2]).toContain(settled[2].value);
        if (s.caps.persistent) {
          const again = s.pool.reopen();
          expect(await via.get(s, again, s.shape.key('before'))).toBe(v);
          if (settled[0].status === 'fulfilled') expect(await via.get(s, again, k)).toBe(v);
        }
      }
    });

    if (s.caps.iterators) {
      s.test('an iterator that outlives its database ends with INVALID_ARGUMENT or yields only real entries', async () => {
        const db = s.pool.fresh({ keyEncoding: 'buffer', valueEncoding: 'buffer' });
        const stored = new Map<string, string>();
        for (let i = 0; i < 100; i++) {
          const key = s.shape.keyBytes(Buffer.from(`it-${String(i).padStart(3, '0')}`));
          const value = s.shape.valueBytes(Buffer.from(`value-${i}`));
          await via.put(s, db, key, value);
          stored.set(showEntries([[key, value]])[0]!, key.toString('hex'));
        }
        const expected = s.behaviour === 'store' ? new Set(stored.keys()) : new Set<string>();
        const it: Iterator<[Buffer, Buffer]> | AsyncIterator<[Buffer, Buffer]> = s.caps.sync ? db.entries() : db.promises.entries();
        const first = await it.next();
        db.close();
        const yielded: [Buffer, Buffer][] = first.done ? [] : [first.value];
        let error: unknown;
        try {
          for (let next = await it.next(); !next.done; next = await it.next()) yielded.push(next.value);
        } catch (err) {
          error = err;
        }
        if (error !== undefined) {
          expect(error).toBeInstanceOf(PmemkvError);
          expect((error as PmemkvError).code).toBe('INVALID_ARGUMENT');
        } else {
          expect(yielded.length).toBe(expected.size);
        }
        for (const e of showEntries(yielded)) expect(expected.has(e)).toBe(true);
      });
    }

    if (s.behaviour === 'store') {
      s.test('databases open at once on different pools are independent', async () => {
        const one = s.pool.fresh({}, 'one');
        const two = s.pool.fresh({}, 'two');
        await via.put(s, one, k, s.shape.value('in one'));
        await via.put(s, two, k, s.shape.value('in two'));
        await via.put(s, two, s.shape.key('only-two'), v);
        expect(await via.get(s, one, k)).toBe(s.shape.value('in one'));
        expect(await via.get(s, two, k)).toBe(s.shape.value('in two'));
        expect(await via.exists(s, one, s.shape.key('only-two'))).toBe(false);
        expect(await via.countAll(s, one)).toBe(1);
        expect(await via.countAll(s, two)).toBe(2);
        one.close();
        expect(await via.get(s, two, k)).toBe(s.shape.value('in two'));
        expect(await via.countAll(s, two)).toBe(2);
      });
    }
  });
}
