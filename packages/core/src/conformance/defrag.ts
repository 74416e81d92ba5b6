/**
 * `defrag(startPercent, amountPercent)` on engines with the `defrag` capability: it keeps every
 * entry, accepts pmemkv's argument range (each 0..100, sum at most 100) and refuses the rest
 * with INVALID_ARGUMENT.
 */
import { describe } from '@jest/globals';
import { expectCode, expectRejection } from './assert-error';
import { expectSameContents, fillRandom } from './fill';
import type { Suite } from './suite';

export function defrag(s: Suite): void {
  describe('defrag', () => {
    s.usePool();

    s.test('defrag keeps every entry (default arguments, parts of the pool, and async)', async (rng) => {
      const db = s.pool.fresh({ keyEncoding: 'buffer', valueEncoding: 'buffer' });
      const model = fillRandom(s, db, rng, s.n(300), 300);
      // Holes for defrag to close: remove every other key.
      model.keys().forEach((k, i) => {
        if (i % 2 === 0) {
          db.remove(k);
          model.remove(k);
        }
      });
      db.defrag();
      expectSameContents(s, db, model);
      db.defrag(0, 100);
      db.defrag(10, 20);
      db.defrag(100, 0);
      expectSameContents(s, db, model);
      await db.promises.defrag();
      await db.promises.defrag(50, 50);
      expectSameContents(s, db, model);
    });

    s.test('defrag arguments outside 0..100 or summing above 100 are INVALID_ARGUMENT', async () => {
      const db = s.pool.fresh();
      for (const [start, amount] of [[50, 100], [0, 101], [101, 0], [-1, 10], [10, -5], [Number.NaN, 10], [60, 41]] as const) {
        expectCode(`defrag(${start}, ${amount})`, () => db.defrag(start, amount), 'INVALID_ARGUMENT');
        await expectRejection(`promises.defrag(${start}, ${amount})`, () => db.promises.defrag(start, amount), 'INVALID_ARGUMENT');
      }
    });
  });
}
