// Worker threads on one pool (the addon shares one thread-safe engine between them, and
// robinhood writes each shard under its own lock while reads take none):
// - 4 workers on disjoint key ranges: the final state is exactly what every worker acknowledged;
// - 4 workers on one overlapping range: every key holds a value that some worker wrote for it;
// - 4 workers filling a pool with 2 shards from empty: both tables double many times while the
//   others write, and nothing is lost.
// Each state is checked from the main thread and again after a reopen.
import { describe, expect, test } from '@jest/globals';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { contents, openRobinhood, usePoolDir } from './helpers';

const WORKERS = 4;

interface Job {
  mode: 'disjoint' | 'overlapping' | 'grow';
  first: number;
  count: number;
  rounds?: number;
}

/** Runs one worker per job at the same time on `poolPath`; resolves with each one's mismatches. */
async function runWorkers(poolPath: string, jobs: Job[]): Promise<number[]> {
  const barrier = new SharedArrayBuffer(8);
  const gate = new Int32Array(barrier);
  const workers = jobs.map(
    (job, worker) => new Worker(path.join(__dirname, 'fixtures', 'writer-worker.js'), { workerData: { path: poolPath, worker, barrier, ...job } }),
  );
  const results = workers.map(
    (w) =>
      new Promise<number>((resolve, reject) => {
        w.once('message', (m: { mismatches: number }) => resolve(m.mismatches));
        w.once('error', reject);
        w.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
      }),
  );
  while (Atomics.load(gate, 0) < jobs.length) await new Promise((r) => setTimeout(r, 5));
  Atomics.store(gate, 1, 1);
  Atomics.notify(gate, 1);
  return Promise.all(results);
}

const word = (hi: number, lo: number): string => {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(lo >>> 0, 0);
  b.writeUInt32LE(hi >>> 0, 4);
  return b.toString('hex');
};
const key = (n: number): string => word(0x6b657900, n);

describe('worker threads', () => {
  const pools = usePoolDir();

  test('4 workers on disjoint ranges: the final state is exactly what each acknowledged', async () => {
    const poolPath = pools.pool();
    const db = openRobinhood(poolPath);
    const per = 20000;
    const mismatches = await runWorkers(poolPath, Array.from({ length: WORKERS }, (_, w) => ({ mode: 'disjoint' as const, first: w * per, count: per })));
    expect(mismatches).toEqual([0, 0, 0, 0]);
    const want = new Map<string, string>();
    for (let n = 0; n < WORKERS * per; n++) if ((n % per) % 5 !== 0) want.set(key(n), word(2, n));
    expect(db.countAll()).toBe(want.size);
    expect(contents(db)).toEqual(want);
    db.close();
    const again = openRobinhood(poolPath);
    expect(contents(again)).toEqual(want);
    again.close();
  });

  test('4 workers on one overlapping range: every key holds a value some worker wrote for it', async () => {
    const poolPath = pools.pool();
    const db = openRobinhood(poolPath);
    const count = 5003;  // prime: every worker's stride visits every key
    const mismatches = await runWorkers(poolPath, Array.from({ length: WORKERS }, () => ({ mode: 'overlapping' as const, first: 0, count, rounds: 4 })));
    expect(mismatches).toEqual([0, 0, 0, 0]);
    const check = (d: typeof db) => {
      const got = contents(d);
      expect(got.size).toBe(count);
      const wrong: string[] = [];
      for (let n = 0; n < count; n++) {
        const v = got.get(key(n));
        const ok = v !== undefined && Array.from({ length: WORKERS }, (_, w) => word(0x100 + w, n)).includes(v);
        if (!ok) wrong.push(`key ${n}: ${v ?? 'missing'}`);
      }
      expect(wrong.slice(0, 5)).toEqual([]);
    };
    check(db);
    db.close();
    const again = openRobinhood(poolPath);
    check(again);
    again.close();
  });

  test('4 workers growing the tables of a 2-shard pool from empty lose nothing', async () => {
    const poolPath = pools.pool();
    const db = openRobinhood(poolPath, { shards_number: 2 });
    const per = 30000;
    const mismatches = await runWorkers(poolPath, Array.from({ length: WORKERS }, (_, w) => ({ mode: 'grow' as const, first: w * per, count: per })));
    expect(mismatches).toEqual([0, 0, 0, 0]);
    const want = new Map<string, string>();
    for (let n = 0; n < WORKERS * per; n++) want.set(key(n), word(3, n));
    expect(db.countAll()).toBe(want.size);
    expect(contents(db)).toEqual(want);
    db.close();
    const again = openRobinhood(poolPath);
    expect(again.countAll()).toBe(want.size);
    expect(contents(again)).toEqual(want);
    again.close();
  });
});
