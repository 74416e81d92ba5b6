// Pools are tied to their engine by the libpmemobj layout name ("pmemkv_cmap"): a pool of
// another engine is refused by cmap with INVALID_ARGUMENT, and a cmap pool is refused under
// another layout. Other engines' pools are made with PMDK's own `pmempool create`.
import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { checkPool, poolInfo } from '@pmemkv/native-pmemobj';
import { codeOf, key, MiB, openCmap, openHandle, usePoolDir } from './helpers';

function pmempoolCreate(poolPath: string, layout: string): void {
  execFileSync('pmempool', ['create', 'obj', '--layout', layout, '--size', '16M', poolPath], { stdio: 'pipe' });
}

describe('layout', () => {
  const pools = usePoolDir();

  test('a pool of another engine (pmemkv_tree3) is INVALID_ARGUMENT naming it, and stays untouched', () => {
    const poolPath = pools.pool();
    pmempoolCreate(poolPath, 'pmemkv_tree3');
    const before = fs.readFileSync(poolPath);
    let error: { code?: string; message?: string } | undefined;
    try {
      openHandle(poolPath);
    } catch (err) {
      error = err as { code?: string; message?: string };
    }
    expect(error?.code).toBe('INVALID_ARGUMENT');
    expect(error?.message).toMatch(/tree3/);
    expect(error?.message).toMatch(/cmap/);
    // create_if_missing does not overwrite it either.
    expect(codeOf(() => openHandle(poolPath, 16 * MiB))).toBe('INVALID_ARGUMENT');
    expect(fs.readFileSync(poolPath).equals(before)).toBe(true);
    expect(poolInfo(poolPath).layout).toBe('pmemkv_tree3');
  });

  test('a cmap pool carries layout pmemkv_cmap and is refused under any other layout', () => {
    const poolPath = pools.pool();
    const db = openCmap(poolPath, 16 * MiB);
    db.put(key('l', 1), Buffer.from('one'));
    db.close();
    expect(poolInfo(poolPath).layout).toBe('pmemkv_cmap');
    expect(checkPool(poolPath, 'pmemkv_cmap')).toBe(true);
    expect(() => checkPool(poolPath, 'pmemkv_tree3')).toThrow();
    const again = openCmap(poolPath);
    expect(again.get(key('l', 1))?.toString()).toBe('one');
    again.close();
  });

  test('an empty pool with the cmap layout (never initialized) opens as an empty map', () => {
    const poolPath = pools.pool();
    pmempoolCreate(poolPath, 'pmemkv_cmap');
    const db = openCmap(poolPath);
    expect(db.countAll()).toBe(0);
    db.put(key('e', 1), Buffer.from('x'));
    db.close();
    const again = openCmap(poolPath);
    expect(again.countAll()).toBe(1);
    again.close();
  });
});
