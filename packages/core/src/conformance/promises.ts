/**
 * The async twins under `db.promises`: each gives the same results as its sync method on the
 * same data (point operations, counts, walks with and without a stop, iteration, batch), and
 * many concurrent calls settle with the right results. The group also stands on its own for
 * async-only engines: there every result is checked against the reference model, and data is
 * loaded and read back through the twins.
 */
import { describe, expect } from '@jest/globals';
import { expectSameContentsVia, fillRandomVia, uniqueKeys } from './fill';
import { SortedModel, showEntries, showKeys, type Entry } from './model';
import type { Suite } from './suite';
import * as via from './via';
import { collect, collectAsync, drain, RANGE_METHODS } from './walk';

export function promises(s: Suite): void {
  const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
  const { shape } = s;

  describe('promises twins', () => {
    s.usePool();

    s.test('promises.put, get, exists and remove behave like the sync methods', async () => {
      const db = s.pool.fresh();
      const k = shape.key('async-key');
      await expect(db.promises.put(k, shape.value('async value'))).resolves.toBeUndefined();
      expect(await via.get(s, db, k)).toBe(shape.value('async value'));
      expect(await db.promises.get(k)).toBe(shape.value('async value'));
      expect(await db.promises.exists(k)).toBe(true);
      expect(await db.promises.get(shape.key('missing'))).toBeUndefined();
      expect(await db.promises.exists(shape.key('missing'))).toBe(false);
      expect(await db.promises.remove(k)).toBe(true);
      expect(await db.promises.remove(k)).toBe(false);
      expect(await via.exists(s, db, k)).toBe(false);
      expect(await db.promises.countAll()).toBe(0);
    });

    s.test('promises.getMany gives each key what promises.get gives, in order', async (rng) => {
      const db = s.pool.fresh(buffers);
      const keys: Buffer[] = [];
      for (let i = 0; i < 40; i++) {
        const k = shape.keyBytes(Buffer.from(`gm-${i}`));
        if (i % 4 !== 0) await db.promises.put(k, shape.valueBytes(rng.bytes(shape.fixed ?? rng.int(100))));
        keys.push(k, k);
      }
      const many = (await db.promises.getMany(keys)).map((v) => v?.toString('hex'));
      const one = await Promise.all(keys.map(async (k) => (await db.promises.get(k))?.toString('hex')));
      expect(many).toEqual(one);
      expect(many.filter((v) => v === undefined).length).toBe(20);
      expect(await db.promises.getMany([])).toEqual([]);
    });

    s.test('promises.get returns large values and Buffers exactly', async (rng) => {
      const db = s.pool.fresh(buffers);
      const model = new SortedModel();
      for (const length of shape.fixed !== undefined ? [shape.fixed] : [0, 1, 65536, 100_000]) {
        const k = shape.keyBytes(Buffer.from(`len-${length}`));
        const v = rng.bytes(length);
        await db.promises.put(k, v);
        model.put(k, v);
        const got = await db.promises.get(k);
        expect(Buffer.isBuffer(got)).toBe(true);
        expect(got?.toString('hex')).toBe(v.toString('hex'));
      }
      await expectSameContentsVia(s, db, model);
    });

    s.test('promises.countAll and promises.getAll equal their sync twins, including a stop', async (rng) => {
      const db = s.pool.fresh(buffers);
      const model = await fillRandomVia(s, db, rng, s.n(150));
      expect(await db.promises.countAll()).toBe(s.caps.sync ? db.countAll() : model.size);
      const viaPromise = await collectAsync<Buffer, Buffer>((cb) => db.promises.getAll(cb));
      expect(viaPromise.stopped).toBe(false);
      const order = (e: string[]) => (s.caps.sorted ? e : [...e].sort());
      if (s.caps.sync) {
        const sync = collect<Buffer, Buffer>((cb) => db.getAll(cb));
        expect(order(showEntries(viaPromise.entries))).toEqual(order(showEntries(sync.entries)));
      }
      expect(order(showEntries(viaPromise.entries))).toEqual(order(showEntries(model.entries())));
      const stopped = await collectAsync<Buffer, Buffer>((cb) => db.promises.getAll(cb), 5);
      expect(stopped.stopped).toBe(true);
      expect(stopped.entries.length).toBe(5);
      if (s.caps.sorted) expect(showEntries(stopped.entries)).toEqual(showEntries(model.entries(undefined, false, 5)));
    });

    if (s.caps.sorted) {
      s.test('every async count and get range variant equals its sync twin', async (rng) => {
        const db = s.pool.fresh(buffers);
        const model = await fillRandomVia(s, db, rng, s.n(150));
        const probes = shape.probes(rng, model.keys().filter((_, i) => i % 10 === 0), 5);
        for (const method of RANGE_METHODS) {
          for (let i = 0; i < 12; i++) {
            const a = rng.pick(probes);
            const b = method.arity === 2 ? rng.pick(probes) : undefined;
            // The sync twin where there is one, else the model (which the sync twins are checked against elsewhere).
            const expected: readonly Entry[] = s.caps.sync ? collect<Buffer, Buffer>((cb) => method.get(db, cb, a, b)).entries : model.entries(method.range(a, b));
            expect(await method.countAsync(db, a, b)).toBe(s.caps.sync ? method.count(db, a, b) : expected.length);
            const viaPromise = await collectAsync<Buffer, Buffer>((cb) => method.getAsync(db, cb, a, b));
            expect(showEntries(viaPromise.entries)).toEqual(showEntries(expected));
            expect(viaPromise.stopped).toBe(false);
            const stopped = await collectAsync<Buffer, Buffer>((cb) => method.getAsync(db, cb, a, b), 1);
            expect(showEntries(stopped.entries)).toEqual(showEntries(expected.slice(0, 1)));
            expect(stopped.stopped).toBe(expected.length > 0);
          }
        }
      });
    }

    if (s.caps.iterators) {
      s.test('promises.entries, keys and values (for await) yield what the sync iterators yield', async (rng) => {
        const db = s.pool.fresh(buffers);
        const model = await fillRandomVia(s, db, rng, s.n(300));
        const keys = model.keys();
        const options: object[] = [{}, { limit: 17 }, { limit: 0 }];
        if (s.caps.sorted) {
          options.push({ gte: keys[10] }, { gt: keys[10], lt: keys[200 % keys.length] }, { lte: keys[50], limit: 20 });
          if (s.caps.reverse) options.push({ reverse: true }, { reverse: true, gt: keys[5], limit: 100 });
        }
        const expectedFor = (o: { gt?: Buffer; gte?: Buffer; lt?: Buffer; lte?: Buffer; reverse?: boolean; limit?: number }): Entry[] => {
          const range = {
            ...(o.gt !== undefined ? { lower: o.gt, lowerInclusive: false } : o.gte !== undefined ? { lower: o.gte, lowerInclusive: true } : {}),
            ...(o.lt !== undefined ? { upper: o.lt, upperInclusive: false } : o.lte !== undefined ? { upper: o.lte, upperInclusive: true } : {}),
          };
          return model.entries(range, o.reverse === true, o.limit ?? Infinity);
        };
        for (const o of options) {
          // The sync twin where there is one, else the model.
          const sync = showEntries(s.caps.sync ? [...db.entries(o)] : expectedFor(o));
          const viaPromise = showEntries(await drain(db.promises.entries(o)));
          if (s.caps.sorted) expect(viaPromise).toEqual(sync);
          else expect(viaPromise.length).toBe(sync.length);
          expect(showKeys(await drain(db.promises.keys(o))).length).toBe(sync.length);
          expect((await drain(db.promises.values(o))).length).toBe(sync.length);
        }
        if (s.caps.sorted) {
          expect(showKeys(await drain(db.promises.keys()))).toEqual(showKeys(keys));
        } else {
          expect([...showEntries(await drain(db.promises.entries()))].sort()).toEqual(showEntries(model.entries()).sort());
        }
      });
    }

    s.test('promises.batch applies like batch', async () => {
      const db = s.pool.fresh();
      const [a, b, c] = [shape.key('a'), shape.key('b'), shape.key('c')];
      await via.put(s, db, c, shape.value('old'));
      await db.promises.batch([
        { type: 'put', key: a, value: shape.value('1') },
        { type: 'put', key: b, value: shape.value('2') },
        { type: 'del', key: a },
        { type: 'del', key: c },
        { type: 'put', key: b, value: shape.value('3') },
      ]);
      expect(await via.get(s, db, a)).toBeUndefined();
      expect(await via.get(s, db, b)).toBe(shape.value('3'));
      expect(await via.get(s, db, c)).toBeUndefined();
      expect(await via.countAll(s, db)).toBe(1);
    });

    s.test('hundreds of concurrent async puts and gets settle with the right results', async (rng) => {
      const db = s.pool.fresh(buffers);
      const model = new SortedModel();
      const entries: [Buffer, Buffer][] = [];
      for (const k of uniqueKeys(s, rng, s.n(300))) {
        const v = shape.valueBytes(rng.bytes(rng.between(0, 100)));
        entries.push([k, v]);
        model.put(k, v);
      }
      await Promise.all(entries.map(([k, v]) => db.promises.put(k, v)));
      const got = await Promise.all(entries.map(([k]) => db.promises.get(k)));
      got.forEach((v, i) => expect(v?.toString('hex')).toBe(entries[i]![1].toString('hex')));
      const removed = await Promise.all(entries.filter((_, i) => i % 3 === 0).map(([k]) => db.promises.remove(k)));
      expect(removed.every((r) => r === true)).toBe(true);
      entries.filter((_, i) => i % 3 === 0).forEach(([k]) => model.remove(k));
      await expectSameContentsVia(s, db, model);
    });
  });
}
