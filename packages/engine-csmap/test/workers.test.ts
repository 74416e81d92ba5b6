// Four worker_threads on one pool at once (the addon shares one thread-safe engine between
// them, and csmap runs their calls in parallel):
// - disjoint key ranges: the final state is exactly what every worker acknowledged, seen from
//   the main thread, in key order, and again after a reopen;
// - overlapping keys: every key holds the last value one of the workers wrote for it (the
//   last write of some worker wins; never an older value, a torn one or none).
import { describe, expect, test } from '@jest/globals';
import { entriesOf, key, openCsmap, runWorkers, usePoolDir } from './helpers';

const WORKERS = 4;

interface Report {
  worker: number;
  final: Record<string, string>;
  mismatches: number;
}

describe('worker threads', () => {
  const pools = usePoolDir();

  test('4 workers writing disjoint ranges into one pool: the final state is what each acknowledged', async () => {
    const poolPath = pools.pool();
    const db = openCsmap(poolPath);
    db.put(Buffer.from('main'), Buffer.from('opened before the workers'));
    const PER_WORKER = 4000;
    const reports = await runWorkers<Report>(
      poolPath,
      Array.from({ length: WORKERS }, (_, w) => ({ mode: 'disjoint' as const, worker: w, first: w * PER_WORKER, count: PER_WORKER })),
    );
    expect(reports.map((r) => r.mismatches)).toEqual([0, 0, 0, 0]);

    const want = new Map<string, string>([['main', 'opened before the workers']]);
    for (const r of reports) for (const [k, v] of Object.entries(r.final)) want.set(k, v);
    const sorted = [...want.entries()].sort((a, b) => Buffer.compare(Buffer.from(a[0], 'latin1'), Buffer.from(b[0], 'latin1')));
    expect(db.countAll()).toBe(want.size);
    expect(entriesOf(db)).toEqual(sorted);
    expect([...db.keys({ reverse: true })].map((k) => k.toString('latin1'))).toEqual(sorted.map((e) => e[0]).reverse());
    expect(db.countBetween(key('d1-', 0), key('d2-', 0))).toBe(sorted.filter(([k]) => k.startsWith('d1-')).length);
    db.close();

    const again = openCsmap(poolPath);
    expect(again.countAll()).toBe(want.size);
    expect(entriesOf(again)).toEqual(sorted);
    again.close();
  });

  test('4 workers overwriting the same keys: each key holds the last value some worker wrote', async () => {
    const poolPath = pools.pool();
    const COUNT = 2000;
    const ROUNDS = 3;
    const reports = await runWorkers<Report>(
      poolPath,
      Array.from({ length: WORKERS }, (_, w) => ({ mode: 'overlap' as const, worker: w, count: COUNT, rounds: ROUNDS })),
    );
    const db = openCsmap(poolPath);
    const found = entriesOf(db);
    expect(found.length).toBe(COUNT);
    expect(db.countAll()).toBe(COUNT);
    const problems: string[] = [];
    for (const [k, v] of found) {
      const candidates = reports.map((r) => r.final[k]);
      if (!candidates.includes(v)) problems.push(`${k} = ${v}, not the last write of any worker (${candidates.join(', ')})`);
    }
    expect(problems.slice(0, 10)).toEqual([]);
    db.close();
    const again = openCsmap(poolPath);
    expect(entriesOf(again)).toEqual(found);
    again.close();
  });
});
