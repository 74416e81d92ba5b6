// Opening: pmemkv's create flags behind abstract-level's createIfMissing / errorIfExists, the
// errors (LEVEL_DATABASE_NOT_OPEN with the PmemkvError as cause), reopening a pool, and the
// constructor's refusals.
import { describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open, PmemkvError } from '@pmemkv/core';
import { PmemkvLevel } from '../src';
import { POOL_SIZE, rejection, tempDirs } from './helpers';

const dir = tempDirs();
const pool = () => join(dir(), 'db.pool');

describe('create flags', () => {
  test('createIfMissing (the default) creates the pool, and a new PmemkvLevel reads it back', async () => {
    const db = new PmemkvLevel(pool(), { size: POOL_SIZE });
    await db.put('b', '2');
    await db.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'c', value: '3' }]);
    await db.close();
    expect(existsSync(pool())).toBe(true);

    const again = new PmemkvLevel(pool(), { createIfMissing: false });
    expect(await again.iterator().all()).toEqual([['a', '1'], ['b', '2'], ['c', '3']]);
    expect(again.getSync('b')).toBe('2');
    await again.close();
  });

  test('createIfMissing: false on a missing pool: LEVEL_DATABASE_NOT_OPEN, cause says it does not exist', async () => {
    const db = new PmemkvLevel(pool(), { size: POOL_SIZE, createIfMissing: false });
    const err = await rejection(db.open());
    expect(err.code).toBe('LEVEL_DATABASE_NOT_OPEN');
    expect(err.cause).toBeInstanceOf(PmemkvError);
    expect(err.cause.code).toBe('INVALID_ARGUMENT');
    expect(err.cause.message).toMatch(/does not exist/);
    expect(db.status).toBe('closed');
    expect(existsSync(pool())).toBe(false);
  });

  test.each([true, false])('errorIfExists on an existing pool (createIfMissing %s): refused, the pool left as it was', async (createIfMissing) => {
    const db = new PmemkvLevel(pool(), { size: POOL_SIZE });
    await db.put('kept', 'yes');
    await db.close();
    const err = await rejection(db.open({ createIfMissing, errorIfExists: true }));
    expect(err.code).toBe('LEVEL_DATABASE_NOT_OPEN');
    expect(err.cause).toBeInstanceOf(PmemkvError);
    expect(err.cause.message).toMatch(/already exists/);
    await db.open({ createIfMissing: false });
    expect(await db.get('kept')).toBe('yes');
    await db.close();
  });

  test('errorIfExists with createIfMissing creates a new pool', async () => {
    const db = new PmemkvLevel(pool(), { size: POOL_SIZE, errorIfExists: true });
    await db.put('k', 'v');
    expect(await db.get('k')).toBe('v');
    await db.close();
  });

  test('errorIfExists without createIfMissing on a missing pool: it does not exist, nothing is created', async () => {
    const db = new PmemkvLevel(pool(), { size: POOL_SIZE });
    const err = await rejection(db.open({ createIfMissing: false, errorIfExists: true }));
    expect(err.cause.message).toMatch(/does not exist/);
    expect(existsSync(pool())).toBe(false);
  });

  test('creating without size: the cause names the size key', async () => {
    const err = await rejection(new PmemkvLevel(pool()).open());
    expect(err.code).toBe('LEVEL_DATABASE_NOT_OPEN');
    expect(err.cause.code).toBe('INVALID_ARGUMENT');
    expect(err.cause.message).toMatch(/'size' is required/);
  });

  test('a file that is not a pool is refused and left untouched', async () => {
    writeFileSync(pool(), 'not a pool');
    const err = await rejection(new PmemkvLevel(pool(), { size: POOL_SIZE }).open());
    expect(err.code).toBe('LEVEL_DATABASE_NOT_OPEN');
    expect(err.cause.code).toBe('INVALID_ARGUMENT');
    expect(readFileSync(pool(), 'utf8')).toBe('not a pool');
  });

  test('a location in a missing directory is refused', async () => {
    const err = await rejection(new PmemkvLevel(join(dir(), 'missing-dir', 'x.pool'), { size: POOL_SIZE }).open());
    expect(err.code).toBe('LEVEL_DATABASE_NOT_OPEN');
    expect(err.cause).toBeInstanceOf(PmemkvError);
  });
});

describe('options', () => {
  test('engine config keys go to the engine, other options stay with abstract-level (hooks see them)', async () => {
    const db = new PmemkvLevel(pool(), { size: POOL_SIZE, userland: 123 });
    const seen: unknown[] = [];
    db.hooks.postopen.add(async (options: unknown) => {
      seen.push(options);
    });
    await db.open();
    expect(seen).toEqual([{ createIfMissing: true, errorIfExists: false, userland: 123 }]);
    await db.close();
  });

  test('an unknown engine is WRONG_ENGINE_NAME at construction', () => {
    expect(() => new PmemkvLevel(pool(), { engine: 'no-such-engine' })).toThrow(expect.objectContaining({ code: 'WRONG_ENGINE_NAME' }));
  });

  test('an unsorted engine is NOT_SUPPORTED at construction, naming the sorted ones', () => {
    expect(() => new PmemkvLevel({ engine: 'blackhole' })).toThrow(expect.objectContaining({ code: 'NOT_SUPPORTED', message: expect.stringMatching(/not keep keys in order.*tree3/) }));
  });

  test.each(['path', 'create_if_missing', 'create_or_error_if_exists', 'force_create'])('the config key %s is refused: PmemkvLevel sets it', (key) => {
    expect(() => new PmemkvLevel(pool(), { size: POOL_SIZE, [key]: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(key) }));
  });

  test('a location that is not a string is a TypeError', () => {
    expect(() => new PmemkvLevel(42 as never)).toThrow(TypeError);
  });

  test('engine, location and capabilities are exposed', async () => {
    const db = new PmemkvLevel(pool(), { size: POOL_SIZE });
    expect(db.engine).toBe('tree3');
    expect(db.location).toBe(pool());
    expect(db.capabilities.sorted).toBe(true);
    await db.close();
  });
});

describe('key order (csmap)', () => {
  test('a pool kept in reverse order is refused: COMPARATOR_MISMATCH, saying why', async () => {
    const raw = open('csmap', { path: pool(), size: POOL_SIZE, create_if_missing: 1, comparator: 'reverse-bytewise' });
    raw.put('a', '1');
    raw.close();
    const err = await rejection(new PmemkvLevel(pool(), { engine: 'csmap' }).open());
    expect(err.code).toBe('LEVEL_DATABASE_NOT_OPEN');
    expect(err.cause).toBeInstanceOf(PmemkvError);
    expect(err.cause.code).toBe('COMPARATOR_MISMATCH');
    expect(err.cause.message).toMatch(/PmemkvLevel needs bytewise order/);
    expect(err.cause.cause.code).toBe('COMPARATOR_MISMATCH');
  });

  test('a new csmap pool is created in bytewise order', async () => {
    const db = new PmemkvLevel(pool(), { engine: 'csmap', size: POOL_SIZE });
    await db.batch([{ type: 'put', key: 'b', value: '2' }, { type: 'put', key: 'a', value: '1' }]);
    await db.close();
    const raw = open('csmap', { path: pool(), comparator: 'bytewise' });
    expect([...raw.keys()]).toEqual(['a', 'b']);
    raw.close();
  });
});

describe('locking', () => {
  test('a pool open in another process: LEVEL_DATABASE_NOT_OPEN caused by LEVEL_LOCKED (cause POOL_LOCKED)', async () => {
    const { spawn } = await import('node:child_process');
    const db = new PmemkvLevel(pool(), { size: POOL_SIZE });
    await db.open();
    await db.close();
    const script = `const { open } = require('@pmemkv/core'); const db = open('tree3', { path: ${JSON.stringify(pool())} }); process.stdout.write('open\\n'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
      });
      const err = await rejection(new PmemkvLevel(pool()).open());
      expect(err.code).toBe('LEVEL_DATABASE_NOT_OPEN');
      expect(err.cause.code).toBe('LEVEL_LOCKED');
      expect(err.cause.cause).toBeInstanceOf(PmemkvError);
      expect(err.cause.cause.code).toBe('POOL_LOCKED');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
