// tx.h through the fixture engine: a full pool, aborts, exceptions inside transactions, and
// data surviving reopen.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as path from 'node:path';

import { checkPool } from '../src/index';
import { EngineAddon, Handle, MiB, Op, loadFixture, makeTempDir, removeTempDir, thrown } from './helpers';

let dir: string;
let fixture: EngineAddon;
let n = 0;
const open = (): { db: Handle; file: string } => {
  const file = path.join(dir, `t${n++}.pool`);
  return { db: fixture.open({ path: file, size: 8 * MiB, create_if_missing: true }), file };
};
const value = (i: number): Buffer => Buffer.alloc(16 * 1024, i % 251);

beforeAll(() => {
  dir = makeTempDir();
  fixture = loadFixture();
});
afterAll(() => removeTempDir(dir));

/** Puts 16 KiB values until the pool is full; returns how many fit and the error. */
function fill(db: Handle): { stored: number; error: ReturnType<typeof thrown> } {
  for (let i = 0; ; i++) {
    try {
      db.put(`key${i}`, value(i));
    } catch (e) {
      return { stored: i, error: e as ReturnType<typeof thrown> };
    }
  }
}

describe('a full pool', () => {
  test('is OUT_OF_MEMORY saying what to do; earlier entries stay; freeing space makes room', () => {
    const { db, file } = open();
    const { stored, error } = fill(db);
    expect(stored).toBeGreaterThan(10);
    expect([error.code, error.status]).toEqual(['OUT_OF_MEMORY', 8]);
    expect(error.message).toContain('the pool is full: remove entries, or create a larger pool');
    expect(db.count(undefined)).toBe(stored);
    expect(db.exists(`key${stored}`)).toBe(false);
    // Buffer.equals: jest's deep equality walks large Buffers byte by byte.
    let intact = 0;
    for (let i = 0; i < stored; i++) if (db.get(`key${i}`)?.equals(value(i))) intact++;
    expect(intact).toBe(stored);
    expect(db.remove('key0')).toBe(true);
    expect(db.remove('key1')).toBe(true);
    db.put('after', value(7));
    expect(db.get('after')?.equals(value(7))).toBe(true);
    db.close();
    expect(checkPool(file)).toBe(true);
  });

  test('a batch that does not fit applies nothing', () => {
    const { db } = open();
    db.put('before', 'x');
    const ops: Op[] = [{ type: 'del', key: 'before' }];
    for (let i = 0; i < 1000; i++) ops.push({ type: 'put', key: `b${i}`, value: value(i) });
    const e = thrown(() => db.batch(ops));
    expect(e.code).toBe('OUT_OF_MEMORY');
    expect(db.count(undefined)).toBe(1);
    expect(db.get('before')?.toString()).toBe('x');
    expect(db.exists('b0')).toBe(false);
    db.close();
  });
});

describe('RunTx', () => {
  test('an exception inside the transaction rolls it back and is UNKNOWN_ERROR', () => {
    const { db, file } = open();
    db.put('kept', '1');
    const e = thrown(() => db.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'throw:runtime', value: 'x' }]));
    expect([e.code, e.status]).toEqual(['UNKNOWN_ERROR', 1]);
    expect(e.message).toContain('boom');
    expect(db.exists('a')).toBe(false);
    expect(db.count(undefined)).toBe(1);
    db.close();
    // The aborted allocations were freed: after reopen only the committed entry is there.
    const again = fixture.open({ path: file });
    expect(again.count(undefined)).toBe(1);
    again.close();
  });

  test('std::bad_alloc inside the transaction is OUT_OF_MEMORY', () => {
    const { db } = open();
    const e = thrown(() => db.put('throw:bad_alloc', 'x'));
    expect([e.code, e.status]).toEqual(['OUT_OF_MEMORY', 8]);
    expect(db.count(undefined)).toBe(0);
    db.close();
  });

  test("the SDK called inside an application's own libpmemobj transaction is TRANSACTION_SCOPE_ERROR", () => {
    const { db } = open();
    const e = thrown(() => db.put('tx:foreign', 'x'));
    expect([e.code, e.status]).toEqual(['TRANSACTION_SCOPE_ERROR', 10]);
    // The application's transaction was rolled back and the thread is usable again.
    db.put('k', 'v');
    expect(db.get('k')?.toString()).toBe('v');
    db.close();
  });

  test('a scope inside a scope joins it (no error, nothing left open)', () => {
    const { db } = open();
    db.put('tx:nested', 'x');
    db.put('k', 'v');
    expect(db.get('k')?.toString()).toBe('v');
    db.close();
  });
});

describe('persistence', () => {
  test('committed puts, overwrites and removes survive close and reopen', () => {
    const { db, file } = open();
    for (let i = 0; i < 100; i++) db.put(`k${i}`, `v${i}`);
    for (let i = 0; i < 100; i += 2) db.remove(`k${i}`);
    db.put('k1', 'changed');
    db.close();
    const again = fixture.open({ path: file });
    expect(again.count(undefined)).toBe(50);
    expect(again.get('k1')?.toString()).toBe('changed');
    expect(again.get('k3')?.toString()).toBe('v3');
    expect(again.exists('k2')).toBe(false);
    again.close();
  });
});
