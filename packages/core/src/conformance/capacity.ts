/**
 * A full pool (persistent engines): filling the smallest pool (8 MiB) ends in OUT_OF_MEMORY;
 * the refused put changed nothing, every entry written before stays readable (also after a
 * reopen), and the database accepts writes again once space is freed. The smallest pool is
 * usable: it holds large values (100 KiB) from the first put, and most of it holds payload.
 */
import { describe, expect } from '@jest/globals';
import { MIN_POOL_SIZE, PmemkvError } from '../index';
import { expectSameContents } from './fill';
import { SortedModel } from './model';
import type { Suite } from './suite';

export function capacity(s: Suite): void {
  const { shape } = s;
  const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
  const valueSize = shape.fixed ?? 32 * 1024;

  describe('capacity', () => {
    s.usePool();

    if (shape.fixed === undefined) {
      s.test('the smallest pool (8 MiB) takes 100 KiB values from the first put: at least 2 MiB of them', (rng) => {
        const db = s.pool.open({ ...s.pool.config(), size: MIN_POOL_SIZE }, buffers);
        const value = rng.bytes(100 * 1024);
        let stored = 0;
        for (; stored < 80; stored++) {
          try {
            db.put(Buffer.from(`large-${stored}`), value);
          } catch (err) {
            if (!(err instanceof PmemkvError) || err.code !== 'OUT_OF_MEMORY') throw err;
            break;
          }
        }
        expect(stored).toBeGreaterThanOrEqual(20);
        for (let j = 0; j < stored; j++) expect(db.get(Buffer.from(`large-${j}`))?.equals(value)).toBe(true);
        db.close();
      });
    }

    s.test('a full pool reports OUT_OF_MEMORY, keeps what it holds, and takes writes again once space is freed', (rng) => {
      const config = { ...s.pool.config(), size: MIN_POOL_SIZE };
      const db = s.pool.open(config, buffers);
      const model = new SortedModel();
      const keyOf = (i: number) => shape.keyBytes(Buffer.from(`fill-${i.toString(36).padStart(shape.fixed ?? 6, '0')}`.slice(-(shape.fixed ?? 11))));
      const valueOf = (i: number) => shape.valueBytes(Buffer.concat([Buffer.from(`${i}:`), rng.bytes(valueSize)]).subarray(0, valueSize));
      // A pool that never fills within four times its size in payload is a failure, not a hang.
      const maxPuts = Math.ceil((4 * MIN_POOL_SIZE) / Math.max(valueSize, 16));
      let refused: PmemkvError | undefined;
      let i = 0;
      for (; i < maxPuts; i++) {
        const k = keyOf(i);
        const v = valueOf(i);
        try {
          db.put(k, v);
        } catch (err) {
          if (!(err instanceof PmemkvError)) throw err;
          refused = err;
          break;
        }
        model.put(k, v);
      }
      expect({ code: refused?.code, message: refused?.message, afterPuts: i }).toEqual({ code: 'OUT_OF_MEMORY', message: refused?.message, afterPuts: i });
      expect(db.exists(keyOf(i))).toBe(false);
      expectSameContents(s, db, model);

      // Free about half of the entries, then the pool takes new ones again.
      model.keys().forEach((k, j) => {
        if (j % 2 === 0) {
          expect(db.remove(k)).toBe(true);
          model.remove(k);
        }
      });
      for (let j = 0; j < 5; j++) {
        const k = keyOf(maxPuts + j);
        const v = valueOf(maxPuts + j);
        db.put(k, v);
        model.put(k, v);
      }
      expectSameContents(s, db, model);
      db.close();
      expectSameContents(s, s.pool.reopen(buffers), model);
    });
  });
}
