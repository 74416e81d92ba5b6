/**
 * Point operations: put, get, exists, remove and countAll, against the reference model.
 */
import { describe, expect } from '@jest/globals';
import { expectSameContents } from './fill';
import { SortedModel } from './model';
import type { Suite } from './suite';

export function pointOps(s: Suite): void {
  const { shape } = s;
  const k = (text: string) => shape.key(text);
  const v = (text: string) => shape.value(text);

  describe('point operations', () => {
    s.usePool();

    s.test('a fresh database is empty', () => {
      const db = s.pool.fresh();
      expect(db.countAll()).toBe(0);
      expect(db.get(k('anything'))).toBeUndefined();
      expect(db.exists(k('anything'))).toBe(false);
      let calls = 0;
      expect(db.getAll(() => void calls++)).toBe(false);
      expect(calls).toBe(0);
    });

    s.test('put then get returns the value, exists is true and countAll counts it', () => {
      const db = s.pool.fresh();
      db.put(k('key1'), v('value1'));
      expect(db.get(k('key1'))).toBe(v('value1'));
      expect(db.exists(k('key1'))).toBe(true);
      expect(db.countAll()).toBe(1);
      db.put(k('key2'), v('value2'));
      expect(db.get(k('key2'))).toBe(v('value2'));
      expect(db.get(k('key1'))).toBe(v('value1'));
      expect(db.countAll()).toBe(2);
    });

    s.test('get of a missing key is undefined and exists is false', () => {
      const db = s.pool.fresh();
      db.put(k('present'), v('x'));
      expect(db.get(k('absent'))).toBeUndefined();
      expect(db.exists(k('absent'))).toBe(false);
      expect(db.get(k('presen'))).toBeUndefined();
      expect(db.get(k('present!'))).toBeUndefined();
    });

    s.test('remove returns true for a present key and false for a missing one', () => {
      const db = s.pool.fresh();
      db.put(k('a'), v('1'));
      db.put(k('b'), v('2'));
      expect(db.remove(k('a'))).toBe(true);
      expect(db.get(k('a'))).toBeUndefined();
      expect(db.exists(k('a'))).toBe(false);
      expect(db.countAll()).toBe(1);
      expect(db.remove(k('a'))).toBe(false);
      expect(db.remove(k('never'))).toBe(false);
      expect(db.countAll()).toBe(1);
      expect(db.get(k('b'))).toBe(v('2'));
      db.put(k('a'), v('3'));
      expect(db.get(k('a'))).toBe(v('3'));
      expect(db.countAll()).toBe(2);
    });

    s.test('put overwrites: the last value wins and countAll is unchanged', () => {
      const db = s.pool.fresh();
      db.put(k('key'), v('first'));
      db.put(k('other'), v('other'));
      db.put(k('key'), v('second'));
      expect(db.get(k('key'))).toBe(v('second'));
      expect(db.countAll()).toBe(2);
      db.put(k('key'), v('second'));
      expect(db.get(k('key'))).toBe(v('second'));
      expect(db.countAll()).toBe(2);
      expect(db.get(k('other'))).toBe(v('other'));
    });

    s.test('overwriting with shorter and longer values keeps exactly the new bytes', (rng) => {
      const db = s.pool.fresh({ keyEncoding: 'buffer', valueEncoding: 'buffer' });
      const key = shape.keyBytes(Buffer.from('resized'));
      const neighbour = shape.keyBytes(Buffer.from('resizee'));
      const neighbourValue = shape.valueBytes(Buffer.from('neighbour'));
      db.put(neighbour, neighbourValue);
      const lengths = shape.fixed !== undefined ? [shape.fixed, shape.fixed, shape.fixed] : [10, 1, 1000, 0, 5000, 3, 70000, 2, 64, 63, 65];
      for (const length of lengths) {
        const value = rng.bytes(length);
        db.put(key, value);
        expect(db.get(key)?.toString('hex')).toBe(value.toString('hex'));
        expect(db.countAll()).toBe(2);
        expect(db.get(neighbour)?.toString('hex')).toBe(neighbourValue.toString('hex'));
      }
    });

    s.test('random puts, overwrites and removes agree with the model key by key', (rng) => {
      const db = s.pool.fresh({ keyEncoding: 'buffer', valueEncoding: 'buffer' });
      const model = new SortedModel();
      const keys = Array.from({ length: s.n(150) }, () => shape.randomKey(rng));
      for (let i = 0; i < s.n(600); i++) {
        const key = rng.pick(keys);
        if (rng.chance(0.3)) {
          expect(db.remove(key)).toBe(model.remove(key));
        } else {
          const value = shape.randomValue(rng, 200);
          db.put(key, value);
          model.put(key, value);
        }
      }
      for (const key of keys) {
        expect(db.exists(key)).toBe(model.has(key));
        expect(db.get(key)?.toString('hex')).toBe(model.get(key)?.toString('hex'));
      }
      expectSameContents(s, db, model);
    });
  });
}
