// glue.h sync methods through the fixture engine: bytes in and out, ranges, batches, errors.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import * as path from 'node:path';

import { EngineAddon, Handle, MiB, loadFixture, makeTempDir, removeTempDir, strings, thrown } from './helpers';

let dir: string;
let fixture: EngineAddon;
let db: Handle;
let n = 0;

beforeAll(() => {
  dir = makeTempDir();
  fixture = loadFixture();
});
beforeEach(() => {
  db = fixture.open({ path: path.join(dir, `h${n++}.pool`), size: 8 * MiB, create_if_missing: true });
});
afterEach(() => db.close());
afterAll(() => removeTempDir(dir));

describe('keys and values', () => {
  test('strings, Buffers and Uint8Arrays name the same bytes', () => {
    db.put('key', 'value');
    expect(db.get(Buffer.from('key'))?.toString()).toBe('value');
    expect(db.get(new Uint8Array([0x6b, 0x65, 0x79]))?.toString()).toBe('value');
    db.put(new Uint8Array([1, 2]), Buffer.from([3, 4]));
    expect(db.get(Buffer.from([1, 2]))).toEqual(Buffer.from([3, 4]));
  });

  test('any ArrayBufferView stands for its bytes', () => {
    db.put(new Uint16Array([0x6261]), new DataView(new Uint8Array([0x7a, 0x79]).buffer, 1, 1));
    expect(db.get('ab')?.toString()).toBe('y');
  });

  test('a Uint8Array view uses only its own bytes', () => {
    const backing = new Uint8Array([9, 9, 0x61, 0x62, 9]);
    db.put(backing.subarray(2, 4), backing.subarray(3, 4));
    expect(db.get('ab')?.toString()).toBe('b');
  });

  test('empty keys and values and embedded NULs are kept exactly', () => {
    db.put('', '');
    db.put('a\0b', Buffer.from([0, 0, 1]));
    expect(db.get('')).toEqual(Buffer.alloc(0));
    expect(db.exists('')).toBe(true);
    expect(db.get('a\0b')).toEqual(Buffer.from([0, 0, 1]));
    expect(db.get('a')).toBeUndefined();
  });

  test('strings are UTF-8 at every length around the inline buffer', () => {
    // Lengths straddle the 256-byte inline decode buffer with 1-, 2-, 3- and 4-byte characters.
    for (const ch of ['a', 'é', '€', '😀']) {
      for (let bytes = 240; bytes <= 272; bytes++) {
        const s = ch.repeat(Math.ceil(bytes / Buffer.byteLength(ch)));
        db.put(s, s);
        expect(db.get(Buffer.from(s))).toEqual(Buffer.from(s));
      }
    }
  });

  test('long strings fall back to the heap', () => {
    const long = 'ł'.repeat(100_000);
    db.put(long, long);
    expect(db.get(long)?.toString()).toBe(long);
    expect(db.get(Buffer.from(long))?.length).toBe(200_000);
  });

  test('lone surrogates encode as U+FFFD, like Buffer.from', () => {
    db.put('x\ud800', 'y');
    expect(db.get(Buffer.from('x\ud800'))?.toString()).toBe('y');
  });

  test('returned Buffers are copies owned by the caller', () => {
    db.put('k', 'abc');
    const got = db.get('k')!;
    got[0] = 0x7a;
    expect(db.get('k')?.toString()).toBe('abc');
    const scan = db.scan(undefined, false, Infinity);
    scan[1][0] = 0x7a;
    expect(db.get('k')?.toString()).toBe('abc');
  });

  test('put overwrites; remove reports whether the key was there', () => {
    db.put('k', 'one');
    db.put('k', 'two');
    expect(db.get('k')?.toString()).toBe('two');
    expect(db.count(undefined)).toBe(1);
    expect(db.remove('k')).toBe(true);
    expect(db.remove('k')).toBe(false);
    expect(db.exists('k')).toBe(false);
    expect(db.get('k')).toBeUndefined();
  });
});

describe('getInto', () => {
  test('copies a value that fits and returns its length', () => {
    db.put('k', 'hello');
    const scratch = Buffer.alloc(16, 0xff);
    expect(db.getInto('k', scratch)).toBe(5);
    expect(scratch.subarray(0, 5).toString()).toBe('hello');
    expect(scratch[5]).toBe(0xff);
  });

  test('returns the full length and copies nothing when the value is longer', () => {
    db.put('k', 'x'.repeat(100));
    const scratch = Buffer.alloc(10, 0xff);
    expect(db.getInto('k', scratch)).toBe(100);
    expect(scratch).toEqual(Buffer.alloc(10, 0xff));
  });

  test('-1 for a missing key; 0 for an empty value', () => {
    db.put('empty', '');
    expect(db.getInto('missing', Buffer.alloc(4))).toBe(-1);
    expect(db.getInto('empty', Buffer.alloc(0))).toBe(0);
  });
});

describe('getPooled', () => {
  test('copies the value into the pool at the offset and returns its length; -1 when missing', () => {
    db.put('alpha', 'one');
    db.put('beta', '');
    const pool = new ArrayBuffer(64);
    const view = Buffer.from(pool).fill(0xee);
    expect(db.getPooled('alpha', pool, 8)).toBe(3);
    expect(view.subarray(8, 11).toString()).toBe('one');
    expect([view[7], view[11]]).toEqual([0xee, 0xee]);
    expect(db.getPooled(Buffer.from('alpha'), pool, 61)).toBe(3);
    expect(view.subarray(61, 64).toString()).toBe('one');
    expect(db.getPooled('beta', pool, 64)).toBe(0);
    expect(db.getPooled('gamma', pool, 0)).toBe(-1);
  });

  test('a value longer than the rest of the pool is not copied; its length is returned', () => {
    db.put('long', 'x'.repeat(40));
    const pool = new ArrayBuffer(64);
    const view = Buffer.from(pool).fill(0xee);
    expect(db.getPooled('long', pool, 30)).toBe(40);
    expect(db.getPooled('long', pool, 64)).toBe(40);
    expect(view.every((b) => b === 0xee)).toBe(true);
    expect(db.getPooled('long', pool, 24)).toBe(40);
    expect(view.subarray(24, 64).toString()).toBe('x'.repeat(40));
  });

  test('a detached pool has no room: nothing is written, the length is still returned', () => {
    db.put('k', 'value');
    const pool = new ArrayBuffer(64);
    structuredClone(pool, { transfer: [pool] });
    expect(pool.byteLength).toBe(0);
    expect(db.getPooled('k', pool, 0)).toBe(5);
    expect(thrown(() => db.getPooled('k', pool, 1)).code).toBe('INVALID_ARGUMENT');
  });

  test('what is not an ArrayBuffer or an offset within it is INVALID_ARGUMENT', () => {
    db.put('k', 'v');
    const pool = new ArrayBuffer(16);
    const calls: Array<() => unknown> = [
      () => db.getPooled('k', Buffer.alloc(16) as unknown as ArrayBuffer, 0),
      () => db.getPooled('k', new SharedArrayBuffer(16) as unknown as ArrayBuffer, 0),
      () => db.getPooled('k', 'pool' as unknown as ArrayBuffer, 0),
      () => db.getPooled('k', pool, 17),
      () => db.getPooled('k', pool, -1),
      () => db.getPooled('k', pool, '1' as unknown as number),
      () => db.getPooled(42 as unknown as string, pool, 0),
      () => (db.getPooled as (k: string, p: ArrayBuffer) => number)('k', pool),
    ];
    for (const call of calls) {
      const e = thrown(call);
      expect([e.code, e.status]).toEqual(['INVALID_ARGUMENT', 4]);
    }
    expect(db.getPooled('k', pool, 16)).toBe(1);
  });
});

describe('getManyInto', () => {
  const SLOTS = 256;
  const slot = (scratch: Buffer, j: number) => scratch.readInt32LE(4 * j);

  test('lengths in the slots (-1 for a missing key), values packed after them, in key order', () => {
    db.put('a', 'one');
    db.put('b', '');
    db.put('c', 'three');
    const scratch = Buffer.alloc(4 * SLOTS + 64);
    expect(db.getManyInto(['a', 'missing', 'b', 'c', 'a'], scratch, 0)).toBe(5);
    expect([0, 1, 2, 3, 4].map((j) => slot(scratch, j))).toEqual([3, -1, 0, 5, 3]);
    expect(scratch.subarray(4 * SLOTS, 4 * SLOTS + 11).toString()).toBe('onethreeone');
  });

  test('starts at `start`, stops when the next value does not fit, and marks a value too long for any call', () => {
    db.put('a', 'x'.repeat(40));
    db.put('b', 'y'.repeat(40));
    db.put('huge', 'z'.repeat(100));
    const scratch = Buffer.alloc(4 * SLOTS + 64);
    expect(db.getManyInto(['a', 'b'], scratch, 0)).toBe(1);  // b does not fit after a
    expect(db.getManyInto(['a', 'b'], scratch, 1)).toBe(1);
    expect(slot(scratch, 0)).toBe(40);
    expect(scratch.subarray(4 * SLOTS, 4 * SLOTS + 40).toString()).toBe('y'.repeat(40));
    expect(db.getManyInto(['huge', 'a'], scratch, 0)).toBe(2);
    expect([slot(scratch, 0), slot(scratch, 1)]).toEqual([-2, 40]);
    expect(db.getManyInto(['a'], scratch, 1)).toBe(0);
  });

  test('reads at most 256 keys per call', () => {
    const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
    const scratch = Buffer.alloc(4 * SLOTS + 16);
    expect(db.getManyInto(keys, scratch, 0)).toBe(SLOTS);
    expect(db.getManyInto(keys, scratch, SLOTS)).toBe(300 - SLOTS);
  });

  test('refuses a non-array, a bad key (naming it), a small scratch and a start past the end', () => {
    const scratch = Buffer.alloc(4 * SLOTS + 16);
    expect(() => db.getManyInto('k' as unknown as string[], scratch, 0)).toThrow(/keys must be an array/);
    expect(() => db.getManyInto(['k', 7 as unknown as string], scratch, 0)).toThrow(/keys\[1\] must be a string, Buffer or Uint8Array/);
    expect(() => db.getManyInto(['k'], Buffer.alloc(4 * SLOTS), 0)).toThrow(/scratch must be a Buffer of more than 1024 bytes/);
    expect(() => db.getManyInto(['k'], scratch, 2)).toThrow(/start must be an index/);
  });
});

describe('count and scan', () => {
  beforeEach(() => {
    for (const k of ['a', 'b', 'c', 'd', 'e']) db.put(k, k.toUpperCase());
    db.put(Buffer.from([0xff]), 'high');
  });

  test('scan walks in bytewise order, flat [key, value, ...]', () => {
    const all = db.scan(undefined, false, Infinity);
    expect(strings(all.filter((_, i) => i % 2 === 0).slice(0, 5))).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(all[10]).toEqual(Buffer.from([0xff]));
    expect(strings(all.filter((_, i) => i % 2 === 1))).toEqual(['A', 'B', 'C', 'D', 'E', 'high']);
  });

  test('bounds are inclusive or exclusive as asked', () => {
    const keys = (r: Parameters<Handle['scan']>[0]) =>
      strings(db.scan(r, false, Infinity).filter((_, i) => i % 2 === 0));
    expect(keys({ lower: 'b', lowerInclusive: true, upper: 'd', upperInclusive: false })).toEqual(['b', 'c']);
    expect(keys({ lower: 'b', upper: 'd', upperInclusive: true })).toEqual(['c', 'd']);
    expect(keys({ upper: 'c' })).toEqual(['a', 'b']);
    expect(keys({ lower: Buffer.from('d'), lowerInclusive: true, upper: Buffer.from([0xff]) })).toEqual(['d', 'e']);
    expect(keys({ lower: 'd', upper: 'b' })).toEqual([]);
    expect(db.count({ lower: 'b', lowerInclusive: true, upper: 'd', upperInclusive: true })).toBe(3);
    expect(db.count({ lower: 'c', upper: 'c', upperInclusive: true })).toBe(0);
    expect(db.count(undefined)).toBe(6);
  });

  test('reverse and limit', () => {
    expect(strings(db.scan({ upper: 'e' }, true, 2))).toEqual(['d', 'D', 'c', 'C']);
    expect(db.scan(undefined, false, 0)).toEqual([]);
    expect(db.scan(undefined, true, Infinity)).toHaveLength(12);
    expect(strings(db.scan(undefined, false, 1))).toEqual(['a', 'A']);
  });
});

describe('batch', () => {
  test('applies puts and deletes in order', () => {
    db.put('gone', '1');
    db.batch([
      { type: 'put', key: 'a', value: '1' },
      { type: 'put', key: Buffer.from('b'), value: new Uint8Array([50]) },
      { type: 'del', key: 'gone' },
      { type: 'del', key: 'never-there' },
      { type: 'put', key: 'a', value: '3' },
    ]);
    expect(strings(db.scan(undefined, false, Infinity))).toEqual(['a', '3', 'b', '2']);
  });

  test('an empty batch changes nothing', () => {
    db.batch([]);
    expect(db.count(undefined)).toBe(0);
  });
});

describe('errors', () => {
  test('arguments of the wrong type are INVALID_ARGUMENT, never a crash', () => {
    const bad: Array<() => unknown> = [
      () => db.put(42 as unknown as string, 'v'),
      () => db.put('k', null as unknown as string),
      () => db.get({} as unknown as string),
      () => (db.get as () => unknown)(),
      () => db.getInto('k', 'not a buffer' as unknown as Buffer),
      () => db.exists(new ArrayBuffer(1) as unknown as Uint8Array),
      () => db.exists(undefined as unknown as string),
      () => db.count('a' as unknown as undefined),
      () => db.count({ lower: 1 } as never),
      () => db.count({ lower: 'a', lowerInclusive: 'yes' } as never),
      () => db.scan(undefined, false, -1),
      () => db.scan(undefined, 'no' as unknown as boolean, 1),
      () => db.batch('x' as never),
      () => db.batch([{ type: 'upsert', key: 'k', value: 'v' }] as never),
      () => db.batch([{ type: 'put', key: 'k' }]),
      () => db.batch([null] as never),
      () => db.defrag(50, 60),
      () => db.defrag(-1, 10),
    ];
    for (const call of bad) {
      const e = thrown(call);
      // Errors come from the addon's realm, not jest's sandbox: check the brand, not instanceof.
      expect(Object.prototype.toString.call(e)).toBe('[object Error]');
      expect([e.code, e.status]).toEqual(['INVALID_ARGUMENT', 4]);
    }
    expect(db.count(undefined)).toBe(0);
  });

  test("an engine's NOT_SUPPORTED arrives with its code and number", () => {
    const e = thrown(() => db.defrag(0, 100));
    expect([e.code, e.status]).toEqual(['NOT_SUPPORTED', 3]);
    expect(e.message).toContain('defragment');
  });

  test('an exception thrown by an engine is UNKNOWN_ERROR carrying its message', () => {
    const e = thrown(() => db.get('throw:get'));
    expect([e.code, e.status]).toEqual(['UNKNOWN_ERROR', 1]);
    expect(e.message).toContain('get failed on purpose');
  });

  test('a closed handle is INVALID_ARGUMENT "database is closed"; close is idempotent', () => {
    const other = fixture.open({ path: path.join(dir, `h${n++}.pool`), size: 8 * MiB, create_if_missing: true });
    other.put('k', 'v');
    other.close();
    other.close();
    for (const call of [() => other.get('k'), () => other.put('k', 'v'), () => other.scan(undefined, false, 1)]) {
      const e = thrown(call);
      expect([e.code, e.message]).toEqual(['INVALID_ARGUMENT', 'database is closed']);
    }
  });

  test('a method called without its handle as data still finds its handle', () => {
    const { put, get } = db;
    put('detached', 'ok');
    expect(get('detached')?.toString()).toBe('ok');
  });
});
