/**
 * Custom encodings ({ encode, decode } objects) for keys and values, and typed JSON values:
 * what they store, what they return, and the errors for encoders that fail.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { open, PmemkvError, registerEngine, unregisterEngine, type CustomEncoding, type Database } from '../src';
import { createMemoryPlugin } from './support/memory-engine';

registerEngine(createMemoryPlugin({ name: 'memory-enc' }));
afterAll(() => {
  unregisterEngine('memory-enc');
});

interface User {
  name: string;
  age: number;
}

/** A big-endian u32 key: bytewise order is numeric order. */
const u32: CustomEncoding<number> = {
  name: 'u32',
  encode: (n) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  },
  decode: (b) => b.readUInt32BE(0),
};

const isoDate: CustomEncoding<Date> = { encode: (d) => d.toISOString(), decode: (b) => new Date(b.toString('utf8')) };

describe('typed json values', () => {
  test("open<User>(..., { valueEncoding: 'json' }) stores and returns objects", () => {
    const db: Database<string, User> = open<User>('memory-enc', null, { valueEncoding: 'json' });
    db.put('alice', { name: 'Alice', age: 30 });
    const alice: User | undefined = db.get('alice');
    expect(alice).toEqual({ name: 'Alice', age: 30 });
    expect(db.get('bob')).toBeUndefined();
    db.close();
  });
});

describe('custom encodings', () => {
  test('a custom key encoding orders keys by its bytes and decodes them on the way out', () => {
    const db = open('memory-enc', null, { keyEncoding: u32, valueEncoding: 'utf8' });
    for (const n of [300, 2, 70000, 1]) db.put(n, `v${n}`);
    expect([...db.keys()]).toEqual([1, 2, 300, 70000]);
    expect([...db.entries({ gt: 2, lte: 70000 })]).toEqual([[300, 'v300'], [70000, 'v70000']]);
    expect(db.get(300)).toBe('v300');
    expect(db.countBetween(1, 70000)).toBe(2);
    db.close();
  });

  test('a custom value encoding round-trips through get, iteration and batch', async () => {
    const db = open('memory-enc', null, { valueEncoding: isoDate });
    const when = new Date('2026-01-02T03:04:05.000Z');
    db.put('a', when);
    db.batch([{ type: 'put', key: 'b', value: new Date(0) }]);
    const got: Date | undefined = db.get('a');
    expect(got).toEqual(when);
    expect([...db.values()]).toEqual([when, new Date(0)]);
    expect(await db.promises.get('b')).toEqual(new Date(0));
    db.close();
  });

  test('an encoder that throws or returns no bytes is an INVALID_ARGUMENT naming the encoding', () => {
    const failing: CustomEncoding<string> = {
      name: 'failing',
      encode: () => {
        throw new Error('boom');
      },
      decode: (b) => b.toString(),
    };
    const db = open('memory-enc', null, { valueEncoding: failing });
    expect(() => db.put('k', 'v')).toThrow(PmemkvError);
    expect(() => db.put('k', 'v')).toThrow(/valueEncoding 'failing' failed to encode a value: boom/);
    db.close();
    const noBytes = { encode: () => 42 as unknown as string, decode: (b: Buffer) => b.toString() };
    const db2 = open('memory-enc', null, { valueEncoding: noBytes });
    expect(() => db2.put('k', 'v')).toThrow(/must be a string, Buffer or Uint8Array/);
    db2.close();
  });

  test('an object without encode and decode is refused when opening', () => {
    expect(() => open('memory-enc', null, { valueEncoding: { encode: () => 'x' } as never })).toThrow(
      /valueEncoding must be 'utf8', 'buffer', 'json' or an object \{ encode, decode \}/,
    );
  });
});
