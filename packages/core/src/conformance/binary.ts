/**
 * Binary safety: keys and values are bytes. Every byte value, embedded zero bytes, the empty key
 * and the empty value, large values and long keys, Uint8Array inputs, and the ownership rules
 * (the engine copies what it is given; what it returns belongs to the caller).
 */
import { describe, expect } from '@jest/globals';
import { expectCode } from './assert-error';
import { expectSameContents } from './fill';
import { SortedModel, showKeys } from './model';
import type { Suite } from './suite';

const hex = (b: Buffer | undefined) => b?.toString('hex');

/** `size` bytes starting with `first`, zeros, and a final 1: differs from `[first]` zero-padded only after zeros. */
function lastByte(size: number, first: number): number[] {
  const out = new Array<number>(size).fill(0);
  out[0] = first;
  out[size - 1] = 1;
  return out;
}

export function binary(s: Suite): void {
  const { shape } = s;
  const fixed = shape.fixed;
  const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

  describe('binary safety', () => {
    s.usePool();

    s.test('every byte value 0..255 works in keys and values', () => {
      const db = s.pool.fresh(buffers);
      const model = new SortedModel();
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      if (fixed === undefined) {
        for (let b = 0; b < 256; b++) {
          const key = Buffer.from([b]);
          const value = Buffer.from([b, 255 - b, 0, b]);
          db.put(key, value);
          model.put(key, value);
        }
        if (shape.allowsKey(256)) {
          db.put(all, all);
          model.put(all, all);
        }
      } else {
        // Fixed-size engines: the 256 byte values spread over keys and values of `fixed` bytes.
        for (let at = 0; at < 256; at += fixed) {
          const key = shape.keyBytes(all.subarray(at, at + fixed));
          const value = shape.valueBytes(Buffer.from(all.subarray(at, at + fixed)).reverse());
          db.put(key, value);
          model.put(key, value);
        }
      }
      expectSameContents(s, db, model);
    });

    s.test('embedded zero bytes are part of the key and the value', () => {
      const db = s.pool.fresh(buffers);
      const model = new SortedModel();
      const raw = fixed === undefined
        ? [[0x61], [0x61, 0], [0x61, 0, 0x62], [0], [0, 0], [0, 0x61], [0x61, 0, 0]]
        : [[0x61], [0], ...(fixed > 1 ? [lastByte(fixed, 0x61), lastByte(fixed, 0)] : [])];
      for (const [i, bytes] of raw.entries()) {
        const key = shape.keyBytes(Buffer.from(bytes));
        const value = shape.valueBytes(Buffer.from([0, i, 0, 0, i]));
        db.put(key, value);
        model.put(key, value);
      }
      expect(model.size).toBe(raw.length);
      expectSameContents(s, db, model);
      const gone = shape.keyBytes(Buffer.from(raw[1]!));
      expect(db.remove(gone)).toBe(true);
      model.remove(gone);
      expectSameContents(s, db, model);
    });

    if (fixed === undefined) {
      s.test('the empty key and the empty value are legal', () => {
        const db = s.pool.fresh(buffers);
        const empty = Buffer.alloc(0);
        db.put(empty, Buffer.from('for the empty key'));
        expect(db.exists(empty)).toBe(true);
        expect(db.get(empty)?.toString()).toBe('for the empty key');
        db.put(Buffer.from('k'), empty);
        const got = db.get(Buffer.from('k'));
        expect(got).toBeInstanceOf(Buffer);
        expect(got?.length).toBe(0);
        expect(db.exists(Buffer.from('k'))).toBe(true);
        db.put(empty, empty);
        expect(db.get(empty)?.length).toBe(0);
        expect(db.countAll()).toBe(2);
        const seen: string[] = [];
        db.getAll((key, value) => void seen.push(`${key.toString()}=${value.length}`));
        expect(seen.sort()).toEqual(['=0', 'k=0']);
        expect(db.remove(empty)).toBe(true);
        expect(db.exists(empty)).toBe(false);
        expect(db.countAll()).toBe(1);
      });

      s.test('the empty string value reads back as an empty string, not undefined', () => {
        const db = s.pool.fresh();
        db.put('k', '');
        expect(db.get('k')).toBe('');
        db.put('', 'v');
        expect(db.get('')).toBe('v');
      });

      s.test('values around and above 64 KiB round trip exactly', (rng) => {
        const db = s.pool.fresh(buffers);
        const model = new SortedModel();
        for (const length of [65535, 65536, 65537, 200_000]) {
          const key = Buffer.from(`large-${length}`);
          const value = rng.bytes(length);
          db.put(key, value);
          model.put(key, value);
          expect(hex(db.get(key))).toBe(hex(value));
        }
        expectSameContents(s, db, model);
      });

      s.test('long keys round trip and stay distinct from their prefixes', (rng) => {
        const db = s.pool.fresh(buffers);
        const model = new SortedModel();
        for (const length of [100, 255, 256, 1024, 4096].filter((n) => shape.allowsKey(n))) {
          const key = rng.bytes(length);
          db.put(key, Buffer.from(`long ${length}`));
          model.put(key, Buffer.from(`long ${length}`));
          const prefix = key.subarray(0, length - 1);
          db.put(prefix, Buffer.from(`prefix ${length}`));
          model.put(prefix, Buffer.from(`prefix ${length}`));
        }
        expectSameContents(s, db, model);
      });
    }

    if (fixed === undefined && Number.isFinite(shape.maxKey)) {
      s.test(`a key of maxKeySize (${shape.maxKey}) bytes works and one byte more is INVALID_ARGUMENT`, () => {
        const db = s.pool.fresh(buffers);
        const longest = Buffer.alloc(shape.maxKey, 0x6b);
        db.put(longest, Buffer.from('v'));
        expect(db.get(longest)?.toString()).toBe('v');
        const tooLong = Buffer.alloc(shape.maxKey + 1, 0x6b);
        expectCode('put with a key over maxKeySize', () => db.put(tooLong, Buffer.from('v')), 'INVALID_ARGUMENT');
        expect(db.countAll()).toBe(1);
      });
    }

    if (fixed !== undefined) {
      s.test(`keys and values of other sizes than fixedSize (${fixed}) are INVALID_ARGUMENT`, () => {
        const db = s.pool.fresh(buffers);
        const good = Buffer.alloc(fixed, 0x61);
        for (const n of [0, fixed - 1, fixed + 1]) {
          expectCode(`put with a ${n}-byte key`, () => db.put(Buffer.alloc(n, 0x61), good), 'INVALID_ARGUMENT');
          expectCode(`put with a ${n}-byte value`, () => db.put(good, Buffer.alloc(n, 0x61)), 'INVALID_ARGUMENT');
          expectCode(`get with a ${n}-byte key`, () => db.get(Buffer.alloc(n, 0x61)), 'INVALID_ARGUMENT');
        }
        expect(db.countAll()).toBe(0);
      });
    }

    s.test('Uint8Array keys and values are the same as Buffers of the same bytes', () => {
      const db = s.pool.fresh(buffers);
      const keyBytes = shape.keyBytes(Buffer.from([1, 2, 3, 0, 250]));
      const valueBytes = shape.valueBytes(Buffer.from([9, 0, 8]));
      // A view into a larger buffer at an offset: only the viewed bytes count.
      const backing = new Uint8Array(keyBytes.length + 6).fill(0xee);
      backing.set(keyBytes, 3);
      const keyView = backing.subarray(3, 3 + keyBytes.length);
      db.put(keyView, new Uint8Array(valueBytes));
      expect(hex(db.get(Buffer.from(keyBytes)))).toBe(hex(valueBytes));
      expect(db.exists(new Uint8Array(keyBytes))).toBe(true);
      const keys: Buffer[] = [];
      db.getAll((key) => void keys.push(key));
      expect(showKeys(keys)).toEqual(showKeys([keyBytes]));
      expect(db.remove(new Uint8Array(keyBytes))).toBe(true);
      expect(db.countAll()).toBe(0);
    });

    s.test('the engine copies its inputs: buffers may be reused once put returns', () => {
      const db = s.pool.fresh(buffers);
      const key = shape.keyBytes(Buffer.from('reused-key'));
      const value = shape.valueBytes(Buffer.from('reused-value'));
      const keyCopy = Buffer.from(key);
      const valueCopy = Buffer.from(value);
      db.put(key, value);
      key.fill(0x5a);
      value.fill(0x5a);
      expect(hex(db.get(keyCopy))).toBe(hex(valueCopy));
      expect(db.exists(key)).toBe(false);
    });

    s.test('returned buffers belong to the caller: later writes do not change them, changing them does not change the store', () => {
      const db = s.pool.fresh(buffers);
      const key = shape.keyBytes(Buffer.from('owned'));
      const first = shape.valueBytes(Buffer.from('first value'));
      const second = shape.valueBytes(Buffer.from('other bytes'));
      db.put(key, first);
      const got = db.get(key)!;
      const walked: Buffer[] = [];
      db.getAll((k, v) => void walked.push(k, v));
      db.put(key, second);
      expect(hex(got)).toBe(hex(first));
      expect(hex(walked[1])).toBe(hex(first));
      got.fill(0);
      walked[0]!.fill(0);
      walked[1]!.fill(0);
      expect(hex(db.get(key))).toBe(hex(second));
      expect(db.exists(key)).toBe(true);
    });
  });
}
