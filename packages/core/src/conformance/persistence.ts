/**
 * Reopen and verify. Persistent engines: what was written before close is there after reopen
 * (same values, same count, same order), removes and overwrites too, through the reopen config
 * and through a config without create flags; two databases open on the same path share one
 * pool. Engines that are not persistent start empty on every open.
 */
import { describe, expect } from '@jest/globals';
import { expectSameContents, fillRandom } from './fill';
import { SortedModel } from './model';
import { type Suite, withoutCreateFlags } from './suite';

export function persistence(s: Suite): void {
  const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
  const { shape } = s;

  if (!s.caps.persistent) {
    describe('volatility', () => {
      s.usePool();
      s.test('a database that is not persistent starts empty when opened again', () => {
        const db = s.pool.fresh();
        db.put(shape.key('gone'), shape.value('soon'));
        expect(db.countAll()).toBe(s.behaviour === 'store' ? 1 : 0);
        db.close();
        const again = s.pool.reopen();
        expect(again.countAll()).toBe(0);
        expect(again.get(shape.key('gone'))).toBeUndefined();
      });
    });
    return;
  }

  describe('persistence', () => {
    s.usePool();

    s.test('entries survive close and reopen with the same values, count and order', (rng) => {
      const db = s.pool.fresh(buffers);
      const model = fillRandom(s, db, rng, s.n(300), 200);
      db.close();
      const again = s.pool.reopen(buffers);
      expectSameContents(s, again, model);
    });

    s.test('removes and overwrites survive reopen, and the reopened database keeps working', (rng) => {
      let db = s.pool.fresh(buffers);
      const model = fillRandom(s, db, rng, s.n(200), 100);
      db.close();
      db = s.pool.reopen(buffers);
      const keys = model.keys();
      keys.forEach((k, i) => {
        if (i % 3 === 0) {
          expect(db.remove(k)).toBe(true);
          model.remove(k);
        } else if (i % 3 === 1) {
          const v = shape.randomValue(rng, 300);
          db.put(k, v);
          model.put(k, v);
        }
      });
      for (let i = 0; i < 50; i++) {
        const k = shape.randomKey(rng);
        const v = shape.randomValue(rng, 50);
        db.put(k, v);
        model.put(k, v);
      }
      expectSameContents(s, db, model);
      db.close();
      db = s.pool.reopen(buffers);
      expectSameContents(s, db, model);
      db.close();
      db = s.pool.reopen(buffers);
      expectSameContents(s, db, model);
    });

    s.test('an existing pool opens with a config without create flags', () => {
      const db = s.pool.fresh();
      db.put(shape.key('k'), shape.value('v'));
      db.close();
      const again = s.pool.open(withoutCreateFlags(s.pool.reopenConfig()));
      expect(again.get(shape.key('k'))).toBe(shape.value('v'));
      again.put(shape.key('k2'), shape.value('v2'));
      again.close();
      const third = s.pool.open({ ...withoutCreateFlags(s.pool.config()), create_if_missing: 1 });
      expect(third.countAll()).toBe(2);
    });

    s.test('every byte value, embedded zeros and empty keys and values survive reopen', () => {
      const db = s.pool.fresh(buffers);
      const model = new SortedModel();
      const put = (k: Buffer, v: Buffer) => {
        db.put(k, v);
        model.put(k, v);
      };
      for (let b = 0; b < 256; b++) put(shape.keyBytes(Buffer.from([b, 0, b])), shape.valueBytes(Buffer.from([0, b, 0])));
      if (shape.fixed === undefined) {
        put(Buffer.alloc(0), Buffer.from('empty key'));
        put(Buffer.from('empty value'), Buffer.alloc(0));
      }
      db.close();
      expectSameContents(s, s.pool.reopen(buffers), model);
    });

    s.test('two databases open on the same path share one pool', () => {
      const one = s.pool.fresh();
      const two = s.pool.reopen();
      one.put(shape.key('from-one'), shape.value('1'));
      expect(two.get(shape.key('from-one'))).toBe(shape.value('1'));
      two.put(shape.key('from-two'), shape.value('2'));
      expect(one.get(shape.key('from-two'))).toBe(shape.value('2'));
      expect(one.remove(shape.key('from-two'))).toBe(true);
      expect(two.exists(shape.key('from-two'))).toBe(false);
      one.close();
      expect(two.countAll()).toBe(1);
      two.put(shape.key('after'), shape.value('3'));
      two.close();
      const third = s.pool.reopen();
      expect(third.countAll()).toBe(2);
      expect(third.get(shape.key('after'))).toBe(shape.value('3'));
    });
  });
}
