// Four worker_threads write disjoint key ranges into the same pool at the same time (the
// addon shares one thread-safe engine between them); afterwards every entry is there, seen
// from the main thread and after a reopen.
import { describe, expect, test } from '@jest/globals';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { contents, key, openCmap, usePoolDir } from './helpers';

const WORKERS = 4;
const PER_WORKER = 5000;

function expected(): Map<string, string> {
  const out = new Map<string, string>();
  for (let w = 0; w < WORKERS; w++) {
    for (let n = w * PER_WORKER; n < (w + 1) * PER_WORKER; n++) {
      if ((n - w * PER_WORKER) % 5 === 0) continue;
      out.set(key('w', n).toString('hex'), Buffer.from(`final ${n} `.repeat(1 + (n % 7))).toString('hex'));
    }
  }
  return out;
}

describe('worker threads', () => {
  const pools = usePoolDir();

  test('4 workers writing disjoint ranges concurrently into one pool lose nothing', async () => {
    const poolPath = pools.pool();
    const db = openCmap(poolPath);
    db.put(Buffer.from('main'), Buffer.from('opened before the workers'));

    const barrier = new SharedArrayBuffer(8);
    const gate = new Int32Array(barrier);
    const workers = Array.from({ length: WORKERS }, (_, w) =>
      new Worker(path.join(__dirname, 'fixtures', 'writer-worker.js'), {
        workerData: { path: poolPath, first: w * PER_WORKER, count: PER_WORKER, prefix: 'w', barrier },
      }),
    );
    const results = workers.map(
      (worker) =>
        new Promise<{ mismatches: number }>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
          worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
        }),
    );
    // Start them together once all have opened the pool.
    while (Atomics.load(gate, 0) < WORKERS) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(gate, 1, 1);
    Atomics.notify(gate, 1);
    const reports = await Promise.all(results);
    expect(reports.map((r) => r.mismatches)).toEqual([0, 0, 0, 0]);

    const want = expected();
    want.set(Buffer.from('main').toString('hex'), Buffer.from('opened before the workers').toString('hex'));
    expect(db.countAll()).toBe(want.size);
    expect(contents(db)).toEqual(want);
    for (let n = 0; n < WORKERS * PER_WORKER; n += 97) {
      const v = db.get(key('w', n));
      expect(v?.toString('hex')).toBe(want.get(key('w', n).toString('hex')));
    }
    db.close();

    const again = openCmap(poolPath);
    expect(again.countAll()).toBe(want.size);
    expect(contents(again)).toEqual(want);
    again.close();
  });
});
