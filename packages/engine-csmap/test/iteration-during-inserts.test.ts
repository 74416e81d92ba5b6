// Walks while worker threads insert: three workers put thousands of new keys in scrambled
// order while the main thread walks the database over and over, forward and in reverse, with
// chunked iterators (keys/entries) and with one-call walks (getAll, getBetween). Every walk
// is strictly ordered (so never yields a key twice) and contains every key that was present
// for its whole duration; at least one walk saw the inserts half done.
import { describe, expect, test } from '@jest/globals';
import type { Database } from '@pmemkv/core';
import { key, openCsmap, runWorkers, usePoolDir } from './helpers';

const BASE = 3000;
const WORKERS = 3;
const PER_WORKER = 8000;

function checkWalk(name: string, keys: Buffer[], reverse: boolean, problems: string[]): number {
  let base = 0;
  let inserted = 0;
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) {
      const c = Buffer.compare(keys[i - 1]!, keys[i]!);
      if (reverse ? c <= 0 : c >= 0) {
        problems.push(`${name}: ${keys[i - 1]!.toString('latin1')} then ${keys[i]!.toString('latin1')}`);
        break;
      }
    }
    if (keys[i]![0] === 0x62 /* 'b' */) base++;
    else inserted++;
  }
  if (base !== BASE) problems.push(`${name}: saw ${base} of the ${BASE} keys present throughout`);
  return inserted;
}

function walks(db: Database<Buffer, Buffer>, problems: string[]): number[] {
  const seen: number[] = [];
  seen.push(checkWalk('keys()', [...db.keys()], false, problems));
  seen.push(checkWalk('keys({ reverse })', [...db.keys({ reverse: true })], true, problems));
  const all: Buffer[] = [];
  db.getAll((k) => {
    all.push(k);
  });
  seen.push(checkWalk('getAll', all, false, problems));
  const between: Buffer[] = [];
  db.getBetween(Buffer.from('a'), Buffer.from('z'), (k) => {
    between.push(k);
  });
  seen.push(checkWalk('getBetween', between, false, problems));
  const limited = [...db.entries({ reverse: true, limit: 500 })].map(([k]) => k);
  for (let i = 1; i < limited.length; i++) {
    if (Buffer.compare(limited[i - 1]!, limited[i]!) <= 0) problems.push('entries({ reverse, limit }) out of order');
  }
  return seen;
}

describe('iteration during concurrent inserts', () => {
  const pools = usePoolDir();

  test('forward and reverse walks stay strictly ordered and complete while 3 workers insert', async () => {
    const poolPath = pools.pool();
    const db = openCsmap(poolPath);
    for (let n = 0; n < BASE; n++) db.put(key('base-', n * 11), Buffer.from(`base ${n}`));
    let finished = false;
    const running = runWorkers(
      poolPath,
      Array.from({ length: WORKERS }, (_, w) => ({ mode: 'insert' as const, worker: w, count: PER_WORKER })),
    ).then(() => {
      finished = true;
    });
    const problems: string[] = [];
    let rounds = 0;
    let partial = 0;
    while (!finished) {
      for (const inserted of walks(db, problems)) if (inserted > 0 && inserted < WORKERS * PER_WORKER) partial++;
      rounds++;
      await new Promise((r) => setImmediate(r));
    }
    await running;
    expect(problems.slice(0, 10)).toEqual([]);
    expect(rounds).toBeGreaterThan(0);
    expect(partial).toBeGreaterThan(0);
    // Afterwards: everything is there, in order.
    const after: string[] = [];
    walks(db, problems);
    expect(problems.slice(0, 10)).toEqual([]);
    for (const k of db.keys()) after.push(k.toString('latin1'));
    expect(after.length).toBe(BASE + WORKERS * PER_WORKER);
    expect(db.countAll()).toBe(BASE + WORKERS * PER_WORKER);
    db.close();
  });
});
