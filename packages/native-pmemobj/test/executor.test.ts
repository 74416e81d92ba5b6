// The thread models' async work: an engine that is not thread-safe (the fixture is serialized)
// runs its async operations on its own executor thread, so they never occupy the libuv pool
// waiting for the engine's lock; and close() waits for the handle's work in flight, so the
// pool is closed when close() returns.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { EngineAddon, FIXTURE_ADDON, MiB, loadFixture, makeTempDir, removeTempDir } from './helpers';

let dir: string;
let fixture: EngineAddon;
beforeAll(() => {
  dir = makeTempDir();
  fixture = loadFixture();
});
afterAll(() => removeTempDir(dir));

test('queued async work of a serialized engine leaves the libuv pool free', () => {
  // One libuv thread. Four large async batches are queued, then a libuv file-system call: it
  // must settle before the batches (the old glue ran each batch on a libuv thread, parked on
  // the engine's mutex, so the stat waited behind all of them).
  const script = `
    const fs = require('node:fs');
    const addon = require(${JSON.stringify(FIXTURE_ADDON)});
    const db = addon.open({ path: ${JSON.stringify(path.join(dir, 'libuv.pool'))}, size: 64 << 20, create_if_missing: true });
    const order = [];
    const ops = Array.from({ length: 4000 }, (_, i) => ({ type: 'put', key: 'k' + i, value: 'v'.repeat(100) }));
    const batches = [0, 1, 2, 3].map((b) => db.async.batch(ops).then(() => order.push('batch' + b)));
    const stat = fs.promises.stat('/').then(() => order.push('stat'));
    Promise.all([...batches, stat]).then(() => { db.close(); console.log(JSON.stringify(order)); });
  `;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, UV_THREADPOOL_SIZE: '1' }, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const order = JSON.parse(r.stdout) as string[];
  expect(order).toHaveLength(5);
  expect(order.indexOf('stat')).toBeLessThan(order.indexOf('batch3'));
  expect(order.filter((x) => x.startsWith('batch'))).toEqual(['batch0', 'batch1', 'batch2', 'batch3']);
});

test('close() waits for the async work of its handle: the pool is closed when it returns', async () => {
  const file = path.join(dir, 'close.pool');
  const db = fixture.open({ path: file, size: 16 * MiB, create_if_missing: true });
  const pending = Array.from({ length: 200 }, (_, i) => db.async.put(`k${i}`, 'v'.repeat(1000)));
  db.close();
  expect(fixture.livePaths()).toEqual([]);
  await Promise.all(pending);  // every operation ran before close() returned, and resolves
  const again = fixture.open({ path: file });
  expect(again.count(undefined)).toBe(200);
  again.close();
});

test('an async operation started after close() rejects, before touching the engine', async () => {
  const db = fixture.open({ path: path.join(dir, 'after.pool'), size: 8 * MiB, create_if_missing: true });
  db.close();
  await expect(db.async.put('k', 'v')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
});
