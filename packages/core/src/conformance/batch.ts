/**
 * `batch(ops)`: operations apply in order (a later operation on the same key wins), an empty
 * batch changes nothing, and a large random batch agrees with the model. (Atomicity across a
 * crash on engines with `transactions` is checked by the crash test.)
 */
import { describe, expect } from '@jest/globals';
import { expectSameContents, fillRandom } from './fill';
import type { Suite } from './suite';

export function batch(s: Suite): void {
  const { shape } = s;

  describe('batch', () => {
    s.usePool();

    s.test('batch applies puts and dels in order; the last operation on a key wins', () => {
      const db = s.pool.fresh();
      const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => shape.key(x)) as [string, string, string, string];
      db.put(c, shape.value('old c'));
      db.put(d, shape.value('old d'));
      db.batch([
        { type: 'put', key: a, value: shape.value('a1') },
        { type: 'del', key: a },
        { type: 'del', key: b },
        { type: 'put', key: b, value: shape.value('b1') },
        { type: 'put', key: c, value: shape.value('c1') },
        { type: 'put', key: c, value: shape.value('c2') },
        { type: 'del', key: d },
        { type: 'del', key: d },
      ]);
      expect(db.get(a)).toBeUndefined();
      expect(db.get(b)).toBe(shape.value('b1'));
      expect(db.get(c)).toBe(shape.value('c2'));
      expect(db.get(d)).toBeUndefined();
      expect(db.countAll()).toBe(2);
    });

    s.test('an empty batch changes nothing', () => {
      const db = s.pool.fresh();
      db.put(shape.key('k'), shape.value('v'));
      db.batch([]);
      expect(db.countAll()).toBe(1);
      expect(db.get(shape.key('k'))).toBe(shape.value('v'));
    });

    s.test('a large random batch agrees with the model', (rng) => {
      const db = s.pool.fresh({ keyEncoding: 'buffer', valueEncoding: 'buffer' });
      const model = fillRandom(s, db, rng, s.n(100));
      const keys = [...model.keys(), ...Array.from({ length: 50 }, () => shape.randomKey(rng))];
      const ops: ({ type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer })[] = [];
      for (let i = 0; i < s.n(400); i++) {
        const key = rng.pick(keys);
        if (rng.chance(0.35)) {
          ops.push({ type: 'del', key });
          model.remove(key);
        } else {
          const value = shape.randomValue(rng, 100);
          ops.push({ type: 'put', key, value });
          model.put(key, value);
        }
      }
      db.batch(ops);
      expectSameContents(s, db, model);
    });
  });
}
