// defrag(start, amount) relocates entries of that slice of the table with pmemobj_defrag and
// keeps every entry, whole or in slices, with other work in flight, and across a reopen.
import { describe, expect, test } from '@jest/globals';
import { contents, key, openCmap, usePoolDir } from './helpers';

const N = 30_000;
const value = (n: number) => Buffer.from(`${n}|`.padEnd(20 + ((n * 7) % 200), String.fromCharCode(97 + (n % 26))));

describe('defrag', () => {
  const pools = usePoolDir();

  test('defragmenting in slices and whole keeps every entry, also after a reopen', async () => {
    const db = openCmap(pools.pool());
    for (let n = 0; n < N; n++) db.put(key('d', n), value(n));
    // Leave the pool's runs sparse: remove two of every three entries.
    for (let n = 0; n < N; n++) if (n % 3 !== 0) db.remove(key('d', n));
    const before = contents(db);
    expect(before.size).toBe(N / 3);

    for (let start = 0; start < 100; start += 25) db.defrag(start, 25);
    expect(contents(db)).toEqual(before);
    db.defrag();
    expect(contents(db)).toEqual(before);

    // Async defrag with reads and writes in flight on other buckets and on the same ones.
    const work: Promise<unknown>[] = [db.promises.defrag(0, 100)];
    for (let n = 0; n < N; n += 3) work.push(db.promises.get(key('d', n)).then((v) => expect(v?.equals(value(n))).toBe(true)));
    for (let n = 0; n < 300; n++) work.push(db.promises.put(key('x', n), value(n)));
    await Promise.all(work);
    for (let n = 0; n < 300; n++) before.set(key('x', n).toString('hex'), value(n).toString('hex'));
    expect(contents(db)).toEqual(before);
    db.close();

    const again = openCmap(pools.pool());
    expect(again.countAll()).toBe(before.size);
    expect(contents(again)).toEqual(before);
    again.close();
  });
});
