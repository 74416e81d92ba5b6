// Pools are tied to their engine by the libpmemobj layout name ("pmemkv_robinhood"): a pool of
// another engine is refused with INVALID_ARGUMENT and left untouched, and a robinhood pool
// carries its layout. Other engines' pools are made with PMDK's own `pmempool create`.
import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { poolInfo } from '@pmemkv/native-pmemobj';
import { errorOf, openRobinhood, usePoolDir, word } from './helpers';

function pmempoolCreate(poolPath: string, layout: string): void {
  execFileSync('pmempool', ['create', 'obj', '--layout', layout, '--size', '16M', poolPath], { stdio: 'pipe' });
}

describe('layout', () => {
  const pools = usePoolDir();

  test('a pool of another engine (pmemkv_cmap) is INVALID_ARGUMENT naming it, and stays untouched', () => {
    const poolPath = pools.pool();
    pmempoolCreate(poolPath, 'pmemkv_cmap');
    const before = fs.readFileSync(poolPath);
    const err = errorOf(() => openRobinhood(poolPath));
    expect(err?.code).toBe('INVALID_ARGUMENT');
    expect(err?.message).toMatch(/cmap/);
    expect(err?.message).toMatch(/robinhood/);
    expect(fs.readFileSync(poolPath).equals(before)).toBe(true);
  });

  test('a robinhood pool carries layout pmemkv_robinhood; an empty one made by pmempool opens as an empty map', () => {
    const poolPath = pools.pool();
    pmempoolCreate(poolPath, 'pmemkv_robinhood');
    const db = openRobinhood(poolPath, { shards_number: 3 });
    expect(db.countAll()).toBe(0);
    db.put(word(7), word(8));
    db.close();
    expect(poolInfo(poolPath).layout).toBe('pmemkv_robinhood');
    const again = openRobinhood(poolPath);
    expect(again.get(word(7))).toEqual(word(8));
    again.close();
  });
});
