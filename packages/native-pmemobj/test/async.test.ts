// glue.h async twins: results, argument copies, errors as rejections, and close() while work
// is in flight.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals';
import * as path from 'node:path';

import { EngineAddon, Handle, MiB, loadFixture, makeTempDir, rejected, removeTempDir, strings } from './helpers';

let dir: string;
let fixture: EngineAddon;
let db: Handle;
let n = 0;

beforeAll(() => {
  dir = makeTempDir();
  fixture = loadFixture();
});
beforeEach(() => {
  db = fixture.open({ path: path.join(dir, `a${n++}.pool`), size: 8 * MiB, create_if_missing: true });
});
afterEach(() => db.close());
afterAll(() => {
  expect(fixture.livePaths()).toEqual([]);
  removeTempDir(dir);
});

describe('results', () => {
  test('put, get, exists, remove', async () => {
    await expect(db.async.put('k', Buffer.from([0, 1, 2]))).resolves.toBeUndefined();
    expect(await db.async.get('k')).toEqual(Buffer.from([0, 1, 2]));
    expect(await db.async.get('missing')).toBeUndefined();
    expect(await db.async.exists('k')).toBe(true);
    expect(await db.async.exists('missing')).toBe(false);
    expect(await db.async.remove('k')).toBe(true);
    expect(await db.async.remove('k')).toBe(false);
  });

  test('count, scan and batch', async () => {
    await db.async.batch([
      { type: 'put', key: 'a', value: '1' },
      { type: 'put', key: 'b', value: '2' },
      { type: 'put', key: 'c', value: '3' },
      { type: 'del', key: 'b' },
    ]);
    expect(await db.async.count(undefined)).toBe(2);
    expect(await db.async.count({ lower: 'a', upper: 'c', upperInclusive: true })).toBe(1);
    expect(strings(await db.async.scan(undefined, false, Infinity))).toEqual(['a', '1', 'c', '3']);
    expect(strings(await db.async.scan({ lower: 'a', lowerInclusive: true }, true, 1))).toEqual(['c', '3']);
    expect(await db.async.scan(undefined, false, 0)).toEqual([]);
  });

  test('arguments are copied before the call returns', async () => {
    const key = Buffer.from('key');
    const value = Buffer.from('original');
    const pending = db.async.put(key, value);
    key.write('XXX');
    value.write('mutated!');
    await pending;
    expect((await db.async.get('key'))?.toString()).toBe('original');
    expect(db.exists('XXX')).toBe(false);
  });

  test('many operations at once on a serialized engine all land', async () => {
    await Promise.all(Array.from({ length: 400 }, (_, i) => db.async.put(`k${i}`, `v${i}`)));
    const values = await Promise.all(Array.from({ length: 400 }, (_, i) => db.async.get(`k${i}`)));
    expect(values.every((v, i) => v?.toString() === `v${i}`)).toBe(true);
    expect(db.count(undefined)).toBe(400);
  });
});

describe('errors are rejections with code and status', () => {
  test('bad arguments', async () => {
    for (const p of [
      db.async.put(1 as unknown as string, 'v'),
      db.async.get(null as unknown as string),
      db.async.count(7 as never),
      db.async.scan(undefined, false, -5),
      db.async.batch({} as never),
      db.async.defrag(90, 20),
    ]) {
      const e = await rejected(p);
      expect([e.code, e.status]).toEqual(['INVALID_ARGUMENT', 4]);
    }
  });

  test('engine statuses and exceptions', async () => {
    const unsupported = await rejected(db.async.defrag(0, 100));
    expect([unsupported.code, unsupported.status]).toEqual(['NOT_SUPPORTED', 3]);
    const threw = await rejected(db.async.get('throw:get'));
    expect([threw.code, threw.status]).toEqual(['UNKNOWN_ERROR', 1]);
    expect(threw.message).toContain('get failed on purpose');
  });

  test('a closed handle rejects without throwing', async () => {
    const other = fixture.open({ path: path.join(dir, `a${n++}.pool`), size: 8 * MiB, create_if_missing: true });
    other.close();
    const p = other.async.get('k');
    const e = await rejected(p);
    expect([e.code, e.message]).toEqual(['INVALID_ARGUMENT', 'database is closed']);
  });
});

describe('close while work is in flight', () => {
  test('queued operations finish; the pool closes after the last one', async () => {
    const file = path.join(dir, `a${n++}.pool`);
    const other = fixture.open({ path: file, size: 8 * MiB, create_if_missing: true });
    const puts = Array.from({ length: 50 }, (_, i) => other.async.put(`k${i}`, 'v'));
    other.close();
    await expect(Promise.all(puts)).resolves.toHaveLength(50);
    expect(fixture.livePaths()).not.toContain(file);
    const again = fixture.open({ path: file });
    expect(again.count(undefined)).toBe(50);
    again.close();
  });
});
