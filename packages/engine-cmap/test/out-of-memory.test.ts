// A full pool: the put that cannot allocate reports OUT_OF_MEMORY and changes nothing, every
// earlier entry stays readable (also after a reopen), and puts succeed again after removes.
// Checked on the engine handle, where the status code comes straight from the engine.
import { describe, expect, test } from '@jest/globals';
import { codeOf, key, MiB, openHandle, usePoolDir } from './helpers';

describe('out of memory', () => {
  const pools = usePoolDir();

  test('a full pool keeps every earlier entry and takes puts again after removes', () => {
    const poolPath = pools.pool();
    const h = openHandle(poolPath, 8 * MiB);
    const value = (n: number) => Buffer.from(`${n};`.padEnd(900, String.fromCharCode(97 + (n % 26))));
    let stored = 0;
    let refused: string | undefined;
    for (; stored < 100_000; stored++) {
      refused = codeOf(() => h.put(key('f', stored), value(stored)));
      if (refused !== undefined) break;
    }
    expect(refused).toBe('OUT_OF_MEMORY');
    expect(stored).toBeGreaterThan(1000);
    expect(h.get(key('f', stored))).toBeUndefined();
    expect(h.count(undefined)).toBe(stored);
    for (let n = 0; n < stored; n++) expect(h.get(key('f', n))?.equals(value(n))).toBe(true);

    // A failed overwrite (too large for what is left) keeps the old value.
    expect(codeOf(() => h.put(key('f', 0), Buffer.alloc(4 * MiB, 1)))).toBe('OUT_OF_MEMORY');
    expect(h.get(key('f', 0))?.equals(value(0))).toBe(true);
    expect(h.count(undefined)).toBe(stored);

    // Freed space is reused by entries of the same size class (libpmemobj allocation classes):
    // the new keys have the length of the removed ones.
    for (let n = 0; n < 200; n++) expect(h.remove(key('f', n))).toBe(true);
    for (let n = 0; n < 100; n++) h.put(key('a', n), value(n));
    expect(h.count(undefined)).toBe(stored - 200 + 100);
    h.close();

    const again = openHandle(poolPath);
    expect(again.count(undefined)).toBe(stored - 100);
    for (let n = 200; n < stored; n++) expect(again.get(key('f', n))?.equals(value(n))).toBe(true);
    for (let n = 0; n < 100; n++) expect(again.get(key('a', n))?.equals(value(n))).toBe(true);
    again.close();
  });

  test('a pool too full for the table to grow still takes puts that fit', () => {
    // Small entries fill an 8 MiB pool far past the point where a new bucket segment fits, so
    // growth fails for lack of space while the entries themselves still do fit.
    const h = openHandle(pools.pool(), 8 * MiB);
    let stored = 0;
    for (; stored < 1_000_000; stored++) {
      const code = codeOf(() => h.put(key('s', stored), Buffer.from('v')));
      if (code !== undefined) {
        expect(code).toBe('OUT_OF_MEMORY');
        break;
      }
    }
    expect(stored).toBeGreaterThan(20_000);
    expect(h.count(undefined)).toBe(stored);
    let missing = 0;
    for (let n = 0; n < stored; n++) if (h.get(key('s', n))?.toString() !== 'v') missing++;
    expect(missing).toBe(0);
    for (let n = 0; n < 50; n++) expect(h.remove(key('s', n))).toBe(true);
    for (let n = 0; n < 50; n++) h.put(key('t', n), Buffer.from('w'));
    expect(h.count(undefined)).toBe(stored);
    h.close();
  });
});
