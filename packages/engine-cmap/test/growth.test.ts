// Table growth (linear hashing, one bucket split at a time) from empty to 200k keys keeps
// every entry, and the grown table reopens with the same contents.
import { describe, expect, test } from '@jest/globals';
import { key, openCmap, usePoolDir } from './helpers';

const N = 200_000;

describe('growth', () => {
  const pools = usePoolDir();

  test('growing from empty to 200k keys keeps every entry', () => {
    const db = openCmap(pools.pool());
    for (let n = 0; n < N; n++) {
      db.put(key('g', n), Buffer.from(String(n)));
      // Spot checks while the table is splitting buckets.
      if (n % 9973 === 0) expect(db.get(key('g', n >> 1))?.toString()).toBe(String(n >> 1));
    }
    expect(db.countAll()).toBe(N);
    let missing = 0;
    for (let n = 0; n < N; n++) if (db.get(key('g', n))?.toString() !== String(n)) missing++;
    expect(missing).toBe(0);
    const seen = new Set<string>();
    db.getAll((k) => {
      seen.add(k.toString());
    });
    expect(seen.size).toBe(N);
    db.close();

    const again = openCmap(pools.pool());
    expect(again.countAll()).toBe(N);
    missing = 0;
    for (let n = 0; n < N; n++) if (again.get(key('g', n))?.toString() !== String(n)) missing++;
    expect(missing).toBe(0);
    again.close();
  });
});
