/**
 * What `get` hands back, whichever read path serves it (native engines copy values into pools
 * that returned Buffers view): every returned Buffer stays the caller's across thousands of
 * later gets, values larger than a pool's room read the same as small ones, keys of every
 * length up to and past 4 KiB (Buffers, Uint8Arrays, strings of 1- to 4-byte characters) read
 * their own values, and utf8, json and custom values decode (a custom encoding by its own
 * decode, even when it is named 'buffer').
 */
import { describe, expect } from '@jest/globals';
import type { Suite } from './suite';

export function getResults(s: Suite): void {
  const { shape } = s;
  const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

  describe('get results', () => {
    s.usePool();

    s.test('every Buffer get returns stays intact across thousands of later gets', (rng) => {
      const db = s.pool.fresh(buffers);
      const lengths: number[] = [];
      for (let i = 0; i < 1200; i++) lengths.push(shape.fixed ?? (rng.chance(0.02) ? 3000 + rng.int(3000) : rng.int(300)));
      if (shape.fixed === undefined) lengths.push(0, 4095, 4096, 4097, 40_000, 65_535, 65_536, 70_000, 200_000);
      const keys = lengths.map((_, i) => shape.keyBytes(Buffer.from(`r${i}`)));
      const values = lengths.map((n) => rng.bytes(n));
      keys.forEach((k, i) => db.put(k, values[i]!));
      const kept: Buffer[] = [];
      const which: number[] = [];
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < keys.length; i++) {
          const j = rng.int(keys.length);
          kept.push(db.get(keys[j]!)!);
          which.push(j);
        }
      }
      for (let i = 0; i < kept.length; i++) {
        expect(Buffer.isBuffer(kept[i])).toBe(true);
        if (!kept[i]!.equals(values[which[i]!]!)) {
          throw new Error(`get #${i} (key ${which[i]}, ${values[which[i]!]!.length} bytes) no longer holds its value`);
        }
      }
      // A result is the caller's alone: changing it changes neither the store nor a later result.
      const first = kept.findIndex((b) => b.length > 0);
      kept[first]!.fill(0xa5);
      expect(db.get(keys[which[first]!]!)!.equals(values[which[first]!]!)).toBe(true);
      for (let i = first + 1; i < kept.length; i++) {
        if (kept[i]!.length > 0 && which[i] !== which[first]) {
          expect(kept[i]!.equals(values[which[i]!]!)).toBe(true);
        }
      }
    });

    s.test('a long synchronous loop of gets does not hold on to the memory of dropped values', () => {
      const db = s.pool.fresh(buffers);
      const n = shape.fixed ?? 4096;
      const keys = Array.from({ length: 64 }, (_, i) => shape.keyBytes(Buffer.from(`loop-${i}`)));
      keys.forEach((k, i) => db.put(k, Buffer.alloc(n, i)));
      // 300,000 gets of 4 KiB: 1.2 GB of values, all dropped at once. Without yielding to the
      // event loop (where deferred finalizers would run) the process must stay far below that.
      const before = process.memoryUsage().rss;
      let total = 0;
      for (let i = 0; i < 300_000; i++) total += db.get(keys[i & 63]!)!.length;
      const grown = process.memoryUsage().rss - before;
      expect(total).toBe(300_000 * n);
      expect(grown).toBeLessThan(400 * 1024 * 1024);
    });

    s.test('keys of 0 bytes to past 4 KiB, as Buffers, Uint8Arrays and strings, read their own values', () => {
      const db = s.pool.fresh();
      const lengths = [0, 1, 15, 16, 17, 1365, 1366, 4095, 4096, 4097, 10_000, ...(shape.fixed !== undefined ? [shape.fixed] : [])].filter((n) => shape.allowsKey(n));
      for (const n of lengths) {
        const key = Buffer.alloc(n, 0x6b);
        if (n > 0) key[n - 1] = 0x30 + (n % 10);
        db.put(key, shape.value(`bytes-${n}`));
      }
      for (const n of lengths) {
        const key = Buffer.alloc(n, 0x6b);
        if (n > 0) key[n - 1] = 0x30 + (n % 10);
        expect(db.get(key)).toBe(shape.value(`bytes-${n}`));
        expect(db.get(new Uint8Array(key))).toBe(shape.value(`bytes-${n}`));
        expect(db.get(key.toString('latin1'))).toBe(shape.value(`bytes-${n}`));
      }
      if (shape.fixed !== undefined) return;
      // UTF-8 keys of 2-, 3- and 4-byte characters, short and past 4 KiB.
      const texts = [
        'é'.repeat(1365), 'é'.repeat(2048), 'é'.repeat(2049),
        '€'.repeat(1365), '€'.repeat(1366), '€'.repeat(3000),
        '😀'.repeat(682), '😀'.repeat(1024), '😀'.repeat(1025),
      ].filter((t) => shape.allowsKey(Buffer.byteLength(t)));
      texts.forEach((t, i) => db.put(t, `text-${i}`));
      texts.forEach((t, i) => {
        expect(db.get(t)).toBe(`text-${i}`);
        expect(db.get(Buffer.from(t))).toBe(`text-${i}`);
      });
      expect(db.get('é'.repeat(1364))).toBeUndefined();
    });

    s.test('utf8, json and custom values decode the same after many reads', () => {
      const text = s.pool.fresh({ valueEncoding: 'utf8' }, 'text');
      const json = s.pool.fresh({ valueEncoding: 'json' }, 'json');
      const n = 300;
      for (let i = 0; i < n; i++) {
        const key = shape.key(`d${i}`);
        if (shape.fixed !== undefined) {
          text.put(key, shape.value(`v${i}`));
        } else {
          text.put(key, `välue ${i} ${'x'.repeat(i)}`);
          json.put(key, { i, s: 'ü'.repeat(i % 7), a: [i, i + 1] });
        }
      }
      const strings: unknown[] = [];
      for (let round = 0; round < 3; round++) for (let i = 0; i < n; i++) strings.push(text.get(shape.key(`d${i}`)));
      for (let i = 0; i < strings.length; i++) {
        const j = i % n;
        expect(strings[i]).toBe(shape.fixed !== undefined ? shape.value(`v${j}`) : `välue ${j} ${'x'.repeat(j)}`);
      }
      if (shape.fixed !== undefined) return;
      for (let i = 0; i < n; i++) {
        expect(json.get(shape.key(`d${i}`))).toEqual({ i, s: 'ü'.repeat(i % 7), a: [i, i + 1] });
      }
      // A custom encoding is decoded by its own decode, whatever it is named.
      const named = { name: 'buffer', encode: (v: string) => Buffer.from(v), decode: (b: Buffer) => ({ text: b.toString() }) };
      const custom = s.pool.fresh({ valueEncoding: named } as never, 'custom');
      custom.put(shape.key('c'), 'payload' as never);
      expect(custom.get(shape.key('c'))).toEqual({ text: 'payload' });
    });
  });
}
