/**
 * Walk callbacks (`getAll` and the get range variants): returning `true` stops the walk right
 * after that entry and the method returns `true` (pmemkv's STOPPED_BY_CB); any other return
 * continues; an exception thrown by the callback reaches the caller and leaves the database
 * usable; keys and values handed to the callback stay valid after the walk.
 */
import { describe, expect } from '@jest/globals';
import type { EntryCallback } from '../index';
import { expectSameContents, fillRandom } from './fill';
import { showEntries } from './model';
import type { Suite } from './suite';
import { collect, RANGE_METHODS } from './walk';

export function callbacks(s: Suite): void {
  const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

  describe('walk callbacks', () => {
    s.usePool();

    s.test('getAll stops right after the entry whose callback returned true, and returns true', (rng) => {
      const db = s.pool.fresh(buffers);
      const model = fillRandom(s, db, rng, s.n(120));
      const all = showEntries(model.entries());
      for (const stopAt of [1, 2, 16, 17, model.size - 1, model.size]) {
        const walked = collect<Buffer, Buffer>((cb) => db.getAll(cb), stopAt);
        expect(walked.stopped).toBe(true);
        expect(walked.entries.length).toBe(stopAt);
        const seen = showEntries(walked.entries);
        if (s.caps.sorted) {
          expect(seen).toEqual(all.slice(0, stopAt));
        } else {
          expect(new Set(seen).size).toBe(stopAt);
          for (const e of seen) expect(all).toContain(e);
        }
      }
    });

    s.test('getAll returns false when the callback never returns true, after visiting every entry once', (rng) => {
      const db = s.pool.fresh(buffers);
      const model = fillRandom(s, db, rng, s.n(120));
      for (const result of [undefined, false, 0, null, '']) {
        const seen: [Buffer, Buffer][] = [];
        const cb = ((k: Buffer, v: Buffer) => {
          seen.push([k, v]);
          return result;
        }) as unknown as EntryCallback<Buffer, Buffer>;
        expect(db.getAll(cb)).toBe(false);
        const got = showEntries(seen);
        expect(s.caps.sorted ? got : [...got].sort()).toEqual(s.caps.sorted ? showEntries(model.entries()) : showEntries(model.entries()).sort());
      }
    });

    if (s.caps.sorted) {
      s.test('every get range variant stops after the first entry when told to, and returns true', (rng) => {
        const db = s.pool.fresh(buffers);
        const model = fillRandom(s, db, rng, s.n(120));
        const keys = model.keys();
        const lo = keys[1]!;
        const hi = keys[keys.length - 2]!;
        for (const method of RANGE_METHODS) {
          const args = method.arity === 2 ? [lo, hi] : [method.name.endsWith('Above') ? lo : hi];
          const expected = model.entries(method.range(args[0]!, args[1]));
          expect(expected.length).toBeGreaterThan(1);
          const walked = collect<Buffer, Buffer>((cb) => method.get(db, cb, args[0]!, args[1]), 1);
          expect({ method: method.name, stopped: walked.stopped, entries: showEntries(walked.entries) }).toEqual({
            method: method.name,
            stopped: true,
            entries: showEntries(expected.slice(0, 1)),
          });
          const twice = collect<Buffer, Buffer>((cb) => method.get(db, cb, args[0]!, args[1]), 2);
          expect(showEntries(twice.entries)).toEqual(showEntries(expected.slice(0, 2)));
        }
      });
    }

    s.test('an exception thrown by the callback reaches the caller unchanged and the database stays usable', (rng) => {
      const db = s.pool.fresh(buffers);
      const model = fillRandom(s, db, rng, s.n(50));
      const mine = new Error('thrown by the callback');
      let calls = 0;
      expect(() =>
        db.getAll(() => {
          calls++;
          if (calls === 3) throw mine;
        }),
      ).toThrow(mine);
      expect(calls).toBe(3);
      const k = s.shape.keyBytes(Buffer.from('after-throw'));
      const v = s.shape.valueBytes(Buffer.from('still works'));
      db.put(k, v);
      model.put(k, v);
      expectSameContents(s, db, model);
    });

    s.test('keys and values handed to the callback stay valid after the walk and later writes', (rng) => {
      const db = s.pool.fresh(buffers);
      const model = fillRandom(s, db, rng, s.n(80));
      const kept: [Buffer, Buffer][] = [];
      db.getAll((k, v) => void kept.push([k, v]));
      const before = showEntries(kept);
      for (const [k, v] of model.entries()) db.put(k, s.shape.valueBytes(Buffer.alloc(v.length, 0xa5)));
      for (const [k] of model.entries().slice(0, 10)) db.remove(k);
      expect(showEntries(kept)).toEqual(before);
    });
  });
}
