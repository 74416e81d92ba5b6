// db.promises (the handle's async twins, run in parallel on the libuv pool since cmap is
// thread-safe) from many concurrent promises reach the same final state as the sync API.
import { describe, expect, test } from '@jest/globals';
import { contents, key, openCmap, usePoolDir } from './helpers';

const N = 3000;
const value = (n: number, round: number) => Buffer.from(`${round}:${n}:`.padEnd(8 + (n % 300), 'x'));

describe('promises', () => {
  const pools = usePoolDir();

  test('thousands of concurrent promise operations end in the state the sync API produces', async () => {
    const viaSync = openCmap(pools.pool('sync'));
    const viaAsync = openCmap(pools.pool('async'));

    // Round 1: puts of distinct keys. Round 2: overwrites of every third key with values of
    // other lengths, and removes of every fourth. Within a round no two operations share a key,
    // so their completion order cannot change the outcome.
    for (let n = 0; n < N; n++) viaSync.put(key('p', n), value(n, 1));
    for (let n = 0; n < N; n++) {
      if (n % 4 === 0) viaSync.remove(key('p', n));
      else if (n % 3 === 0) viaSync.put(key('p', n), value(n, 2));
    }

    await Promise.all(Array.from({ length: N }, (_, n) => viaAsync.promises.put(key('p', n), value(n, 1))));
    const round2 = await Promise.all(
      Array.from({ length: N }, (_, n) =>
        n % 4 === 0 ? viaAsync.promises.remove(key('p', n)) : n % 3 === 0 ? viaAsync.promises.put(key('p', n), value(n, 2)) : undefined,
      ),
    );
    expect(round2.filter((r) => r === true)).toHaveLength(N / 4);

    expect(await viaAsync.promises.countAll()).toBe(viaSync.countAll());
    expect(contents(viaAsync)).toEqual(contents(viaSync));

    // Concurrent reads see exactly what the sync API reads.
    const reads = await Promise.all(Array.from({ length: N }, (_, n) => viaAsync.promises.get(key('p', n))));
    const exists = await Promise.all(Array.from({ length: N }, (_, n) => viaAsync.promises.exists(key('p', n))));
    for (let n = 0; n < N; n++) {
      expect(reads[n]?.toString()).toBe(viaSync.get(key('p', n))?.toString());
      expect(exists[n]).toBe(viaSync.exists(key('p', n)));
    }

    // Reads, writes and a defrag in flight together: the writes land, nothing else changes.
    const mixed: Promise<unknown>[] = [viaAsync.promises.defrag()];
    for (let n = 0; n < N; n++) {
      mixed.push(viaAsync.promises.get(key('p', n)));
      if (n % 10 === 1) mixed.push(viaAsync.promises.put(key('q', n), value(n, 3)));
    }
    await Promise.all(mixed);
    for (let n = 1; n < N; n += 10) viaSync.put(key('q', n), value(n, 3));
    expect(contents(viaAsync)).toEqual(contents(viaSync));

    viaSync.close();
    viaAsync.close();
    const reopened = openCmap(pools.pool('async'));
    const reference = openCmap(pools.pool('sync'));
    expect(contents(reopened)).toEqual(contents(reference));
    reopened.close();
    reference.close();
  });
});
