/**
 * Walks read the engine in bounded chunks, one at a time, and stop fetching as soon as the
 * consumer stops: unsorted engines through `scanUnordered` (resumable token), sorted ones
 * through `scan` with range resumption. The engines here record what they were asked.
 */
import { describe, expect, test } from '@jest/globals';
import { open, registerEngine, unregisterEngine, type EngineHandle } from '../src';
import { createHashPlugin, HashStore, newScanStats, type ScanStats } from './support/hash-engine';
import { createMemoryPlugin } from './support/memory-engine';

const N = 10_000;
const key = (i: number) => `key-${String(i).padStart(5, '0')}`;

/** A hash engine named `name` holding N entries, and the stats of its walks. */
function loadedHash(name: string): ScanStats {
  const stats = newScanStats();
  const store = new HashStore();
  for (let i = 0; i < N; i++) store.put(key(i), `value-${i}`);
  registerEngine(createHashPlugin({ name, stats, store }));
  return stats;
}

describe('unsorted walks read in chunks through scanUnordered', () => {
  test('a full iteration of 10 000 entries never asks for more than 1024 at once and sees each entry once', () => {
    const stats = loadedHash('chunks-full');
    const db = open('chunks-full');
    const seen = new Set<string>();
    for (const [k, v] of db.entries()) {
      expect(seen.has(k)).toBe(false);
      seen.add(k);
      expect(v).toBe(`value-${Number(k.slice(4))}`);
    }
    expect(seen.size).toBe(N);
    expect(stats.maxLimit).toBe(1024);
    expect(stats.handedOut).toBe(N);
    // 16 + 64 + 256 + 1024 + ...: a handful of calls, not one per entry nor one for all.
    expect(stats.calls).toBeGreaterThan(5);
    expect(stats.calls).toBeLessThan(20);
    expect([...db.keys()].length).toBe(N);
    expect([...db.values()].length).toBe(N);
  });

  test('limit: 5 asks for one small chunk and yields exactly 5 entries', async () => {
    const stats = loadedHash('chunks-limit');
    const db = open('chunks-limit');
    expect([...db.entries({ limit: 5 })]).toHaveLength(5);
    expect(stats).toMatchObject({ calls: 1, maxLimit: 5 });
    // The engine may end its chunk a little after the limit; core hands out no more than asked.
    expect(stats.handedOut).toBeLessThan(16);
    Object.assign(stats, newScanStats());
    const viaPromise: string[] = [];
    for await (const k of db.promises.keys({ limit: 5 })) viaPromise.push(k);
    expect(viaPromise).toHaveLength(5);
    expect(stats).toMatchObject({ calls: 1, maxLimit: 5 });
  });

  test('getAll stopped by its callback fetches no further chunk', async () => {
    const stats = loadedHash('chunks-stop');
    const db = open('chunks-stop');
    let calls = 0;
    expect(db.getAll(() => ++calls === 3)).toBe(true);
    expect(calls).toBe(3);
    expect(stats.calls).toBe(1);
    expect(stats.maxLimit).toBe(16);
    expect(stats.handedOut).toBeLessThanOrEqual(16 + 3);

    Object.assign(stats, newScanStats());
    calls = 0;
    expect(await db.promises.getAll(() => ++calls === 100)).toBe(true);
    expect(calls).toBe(100);
    // 16, then 64, then 256: the walk stopped in the third chunk.
    expect(stats.calls).toBe(3);
    expect(stats.maxLimit).toBe(256);
    expect(stats.handedOut).toBeLessThan(16 + 64 + 256 + 3 * 3 + 1);
  });

  test('an abandoned iterator fetches no further chunk', () => {
    const stats = loadedHash('chunks-abandon');
    const db = open('chunks-abandon');
    for (const _ of db.entries()) break;
    expect(stats.calls).toBe(1);
    expect(stats.handedOut).toBeLessThanOrEqual(16 + 3);
  });

  test('for await over 10 000 entries asks for at most 1024 at once, through the async twin', async () => {
    const stats = loadedHash('chunks-async');
    const db = open('chunks-async');
    let n = 0;
    for await (const _ of db.promises.entries()) n++;
    expect(n).toBe(N);
    expect(stats.maxLimit).toBe(1024);
    expect(stats.handedOut).toBe(N);
    let walked = 0;
    expect(await db.promises.getAll(() => void walked++)).toBe(false);
    expect(walked).toBe(N);
  });

  test('entries present for the whole walk are seen exactly once while others come and go', () => {
    loadedHash('chunks-churn');
    const db = open('chunks-churn');
    const seen = new Map<string, number>();
    let i = 0;
    for (const [k] of db.entries()) {
      seen.set(k, (seen.get(k) ?? 0) + 1);
      // Remove entries far ahead and put new ones: neither may disturb the walk of the rest.
      if (i % 10 === 0) db.put(`new-${i}`, 'x');
      if (i % 7 === 0) db.remove(key((i * 13 + 5) % N));
      i++;
    }
    for (let j = 0; j < N; j++) {
      if (db.exists(key(j))) expect(seen.get(key(j))).toBe(1);
    }
    expect([...seen.values()].every((c) => c === 1)).toBe(true);
  });
});

describe('sorted walks page through scan with range resumption', () => {
  function recordingSorted(name: string): ScanStats {
    const stats = newScanStats();
    registerEngine(
      createMemoryPlugin({
        name,
        wrap: (handle: EngineHandle) => {
          const { scan } = handle;
          handle.scan = (range, reverse, limit) => {
            const flat = scan!(range, reverse, limit);
            stats.calls++;
            stats.maxLimit = Math.max(stats.maxLimit, limit);
            stats.handedOut += flat.length / 2;
            return flat;
          };
          return handle;
        },
      }),
    );
    return stats;
  }

  test('10 000 entries in order, never more than 1024 per scan; limit 5 is one scan of 5', () => {
    const stats = recordingSorted('paged');
    const db = open('paged');
    for (let i = N - 1; i >= 0; i--) db.put(key(i), 'v');
    const keys = [...db.keys()];
    expect(keys).toEqual(Array.from({ length: N }, (_, i) => key(i)));
    expect(stats.maxLimit).toBe(1024);
    Object.assign(stats, newScanStats());
    expect([...db.keys({ reverse: true, limit: 5 })]).toEqual([key(N - 1), key(N - 2), key(N - 3), key(N - 4), key(N - 5)]);
    expect(stats).toEqual({ calls: 1, maxLimit: 5, handedOut: 5 });
    unregisterEngine('paged');
  });
});
