/**
 * getMany: one call for many keys gives what `get` gives for each, in the keys' order, across
 * the engine's own chunking (native engines read at most 256 keys, and 64 KiB less their
 * slots, per engine call), for missing and repeated keys, every encoding, large values, bad
 * arguments and a closed database; promises.getMany gives the same.
 */
import { describe, expect } from '@jest/globals';
import { expectCode, expectRejection } from './assert-error';
import type { Suite } from './suite';

export function getMany(s: Suite): void {
  const { shape } = s;
  const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

  describe('getMany', () => {
    s.usePool();

    s.test('getMany of no keys is an empty array; of missing keys, undefined for each', () => {
      const db = s.pool.fresh();
      expect(db.getMany([])).toEqual([]);
      db.put(shape.key('here'), shape.value('v'));
      expect(db.getMany([shape.key('gone'), shape.key('here'), shape.key('gone')])).toEqual([
        undefined,
        shape.value('v'),
        undefined,
      ]);
    });

    s.test('getMany equals get for every key, in order, across many engine calls', (rng) => {
      const db = s.pool.fresh(buffers);
      const stored: Buffer[] = [];
      for (let i = 0; i < 700; i++) {
        const k = shape.keyBytes(Buffer.from(`many-${i}`));
        db.put(k, shape.valueBytes(rng.bytes(shape.fixed ?? 1 + rng.int(400))));
        stored.push(k);
      }
      const keys: Buffer[] = [];
      for (let i = 0; i < 1500; i++) {
        if (rng.chance(0.2)) keys.push(shape.keyBytes(Buffer.from(`absent-${i}`)));
        else keys.push(rng.pick(stored));
      }
      const got = db.getMany(keys);
      expect(got.length).toBe(keys.length);
      for (let i = 0; i < keys.length; i++) {
        const want = db.get(keys[i]!);
        expect(got[i] === undefined ? undefined : got[i]!.toString('hex')).toBe(want === undefined ? undefined : want.toString('hex'));
      }
    });

    s.test('getMany returns values larger than its buffer, the empty value, and owned Buffers', (rng) => {
      const db = s.pool.fresh(buffers);
      const lengths = shape.fixed !== undefined ? [shape.fixed, shape.fixed] : [0, 70_000, 10, 100_000, 65_000, 1];
      const keys = lengths.map((n, i) => shape.keyBytes(Buffer.from(`big-${i}-${n}`)));
      const values = lengths.map((n) => rng.bytes(n));
      keys.forEach((k, i) => db.put(k, values[i]!));
      const got = db.getMany([...keys, ...keys]);
      for (let i = 0; i < got.length; i++) {
        expect(Buffer.isBuffer(got[i])).toBe(true);
        expect(got[i]!.toString('hex')).toBe(values[i % keys.length]!.toString('hex'));
      }
      // Each result is the caller's: changing one changes neither the store nor another result.
      if (got[0]!.length > 0) {
        got[0]![0] = got[0]![0]! ^ 0xff;
        expect(db.get(keys[0]!)!.toString('hex')).toBe(values[0]!.toString('hex'));
        expect(got[keys.length]!.toString('hex')).toBe(values[0]!.toString('hex'));
      }
    });

    s.test('getMany decodes with the value encoding and takes keys in the key encoding', () => {
      const db = s.pool.fresh({ valueEncoding: 'utf8' });
      db.put(shape.key('text'), shape.value('hello'));
      expect(db.getMany([shape.key('text'), Buffer.from(shape.key('text'))])).toEqual([
        db.get(shape.key('text')),
        db.get(shape.key('text')),
      ]);
    });

    s.test('getMany refuses what is not an array of keys, and a closed database', () => {
      const db = s.pool.fresh();
      expectCode('getMany(key)', () => db.getMany(shape.key('k') as unknown as string[]), 'INVALID_ARGUMENT', 'array');
      expectCode('getMany([k, 42])', () => db.getMany([shape.key('k'), 42 as unknown as string]), 'INVALID_ARGUMENT', 'keys[1]');
      db.close();
      expectCode('getMany after close', () => db.getMany([shape.key('k')]), 'INVALID_ARGUMENT', 'closed');
    });

    s.test('promises.getMany gives what getMany gives', async (rng) => {
      const db = s.pool.fresh(buffers);
      const keys: Buffer[] = [];
      for (let i = 0; i < 300; i++) {
        const k = shape.keyBytes(Buffer.from(`p-${i}`));
        if (i % 3 !== 0) db.put(k, shape.valueBytes(rng.bytes(shape.fixed ?? rng.int(200))));
        keys.push(k);
      }
      const sync = db.getMany(keys).map((b) => b?.toString('hex'));
      const async = (await db.promises.getMany(keys)).map((b) => b?.toString('hex'));
      expect(async).toEqual(sync);
      await expectRejection('promises.getMany(42)', () => db.promises.getMany(42 as unknown as Buffer[]), 'INVALID_ARGUMENT', 'array');
    });
  });
}
