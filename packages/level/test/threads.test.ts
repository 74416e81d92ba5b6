// Worker threads open their own PmemkvLevel on the same location: persistent engines share one
// pool, so writes of either thread are read by the other.
import { expect, test } from '@jest/globals';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PmemkvLevel } from '../src';
import { POOL_SIZE, tempDirs } from './helpers';

const dir = tempDirs();

const worker = `
const { workerData, parentPort } = require('node:worker_threads');
const { PmemkvLevel } = require(workerData.main);
(async () => {
  const db = new PmemkvLevel(workerData.pool, { createIfMissing: false });
  const seen = await db.get('from-main');
  await db.batch(Array.from({ length: 100 }, (_, i) => ({ type: 'put', key: 'w' + String(i).padStart(3, '0'), value: String(i) })));
  await db.close();
  parentPort.postMessage(seen);
})().catch((err) => parentPort.postMessage('error: ' + err.message));
`;

test('a worker thread and the main thread share a tree3 pool through their own PmemkvLevel', async () => {
  const pool = join(dir(), 'shared.pool');
  const db = new PmemkvLevel(pool, { size: POOL_SIZE });
  await db.put('from-main', 'hello');
  const w = new Worker(worker, { eval: true, workerData: { pool, main: join(__dirname, '..') } });
  // Listened to from the start: a worker's last message and its exit can arrive in one turn.
  const exited = new Promise((resolve) => w.once('exit', resolve));
  const seen = await new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  await exited;
  expect(seen).toBe('hello');
  expect(await db.keys({ gte: 'w', limit: 3 }).all()).toEqual(['w000', 'w001', 'w002']);
  expect(await db.values({ gte: 'w' }).all()).toHaveLength(100);
  await db.close();
});
