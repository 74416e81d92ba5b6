/**
 * Sink behaviour (blackhole): every write is accepted and nothing is kept. Puts, batches and
 * removes succeed (remove reports true, as pmemkv's blackhole does), reads find nothing,
 * counts are 0, walks never call back and return false, iteration is empty — through the sync
 * methods, their promises twins and every encoding.
 */
import { describe, expect } from '@jest/globals';
import type { Suite } from './suite';
import { collect, collectAsync, drain } from './walk';

export function sink(s: Suite): void {
  const { shape } = s;
  const k = shape.key('sunk');
  const v = shape.value('value');

  describe('sink behaviour', () => {
    s.usePool();

    s.test('put, batch and remove are accepted; get finds nothing, exists is false, remove reports true', () => {
      const db = s.pool.fresh();
      db.put(k, v);
      expect(db.get(k)).toBeUndefined();
      expect(db.exists(k)).toBe(false);
      expect(db.remove(k)).toBe(true);
      expect(db.remove(shape.key('never-put'))).toBe(true);
      db.batch([{ type: 'put', key: k, value: v }, { type: 'del', key: shape.key('other') }]);
      expect(db.get(k)).toBeUndefined();
      if (shape.fixed === undefined) {
        db.put('', '');
        db.put(Buffer.from([0, 255, 0]), new Uint8Array([1, 2, 3]));
        expect(db.get('')).toBeUndefined();
        expect(db.exists(Buffer.from([0, 255, 0]))).toBe(false);
      }
    });

    s.test('counts are 0 and walks visit nothing', () => {
      const db = s.pool.fresh();
      for (let i = 0; i < 50; i++) db.put(shape.key(`k${i}`), v);
      expect(db.countAll()).toBe(0);
      expect(collect<string, string>((cb) => db.getAll(cb))).toEqual({ entries: [], stopped: false });
      if (s.caps.sorted) {
        expect(db.countAbove(k)).toBe(0);
        expect(db.countEqualAbove(k)).toBe(0);
        expect(db.countBelow(k)).toBe(0);
        expect(db.countEqualBelow(k)).toBe(0);
        expect(db.countBetween(shape.key(''), k)).toBe(0);
        expect(collect<string, string>((cb) => db.getBetween(shape.key(''), k, cb)).entries).toEqual([]);
      }
    });

    if (s.caps.iterators) {
      s.test('iteration is empty, with or without limit', () => {
        const db = s.pool.fresh();
        for (let i = 0; i < 20; i++) db.put(shape.key(`k${i}`), v);
        expect([...db.entries()]).toEqual([]);
        expect([...db.keys({ limit: 5 })]).toEqual([]);
        expect([...db.values({ limit: 0 })]).toEqual([]);
        expect([...db]).toEqual([]);
      });
    }

    s.test('the promises twins accept writes and find nothing', async () => {
      const db = s.pool.fresh();
      await expect(db.promises.put(k, v)).resolves.toBeUndefined();
      expect(await db.promises.get(k)).toBeUndefined();
      expect(await db.promises.exists(k)).toBe(false);
      expect(await db.promises.remove(k)).toBe(true);
      expect(await db.promises.countAll()).toBe(0);
      await expect(db.promises.batch([{ type: 'put', key: k, value: v }])).resolves.toBeUndefined();
      expect(await collectAsync<string, string>((cb) => db.promises.getAll(cb))).toEqual({ entries: [], stopped: false });
      if (s.caps.iterators) expect(await drain(db.promises.entries())).toEqual([]);
      if (s.caps.sorted) expect(await db.promises.countBetween(shape.key(''), k)).toBe(0);
    });

    s.test('every encoding accepts writes and reads nothing back', () => {
      const json = s.pool.fresh({ valueEncoding: 'json' }, 'json');
      if (shape.fixed === undefined) json.put('doc', { a: [1, 2] });
      expect(json.get('doc')).toBeUndefined();
      const bytes = s.pool.fresh({ keyEncoding: 'buffer', valueEncoding: 'buffer' }, 'bytes');
      bytes.put(shape.keyBytes(Buffer.from('k')), shape.valueBytes(Buffer.from('v')));
      expect(bytes.get(shape.keyBytes(Buffer.from('k')))).toBeUndefined();
      expect(bytes.countAll()).toBe(0);
    });
  });
}
