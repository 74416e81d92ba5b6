/**
 * The capacity report (src/capacity.ts) on every installed persistent engine, at the smallest
 * pool size: each fill ends in OUT_OF_MEMORY (not another error, not a pool that never fills),
 * a minimum pool holds 100 KiB values, the table has a row per engine, nothing is left behind.
 */
import { expect, test } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatCapacity, runCapacity } from '../src/capacity';

test('fills an 8 MiB pool of every engine to OUT_OF_MEMORY and reports it as a table', () => {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pmemkv-capacity-test-'));
  try {
    const report = runCapacity({ poolSize: 8 * 1024 * 1024, values: [1024, 100 * 1024], dir });
    const persistent = report.rows.filter((r) => r.cells.length > 0);
    expect(persistent.length).toBeGreaterThan(0);
    for (const row of persistent) {
      for (const cell of row.cells) {
        expect({ engine: row.engine, value: cell.valueSize, error: cell.error }).toEqual({ engine: row.engine, value: cell.valueSize, error: undefined });
        expect(cell.pairs).toBeGreaterThan(0);
        expect(cell.bytes).toBe(cell.pairs * (cell.keySize + cell.valueSize));
        expect(cell.percent).toBeGreaterThan(10);
        expect(cell.percent).toBeLessThan(100);
      }
    }
    const table = formatCapacity(report);
    expect(table).toContain('Key + value bytes a 8 MiB pool holds at OUT_OF_MEMORY');
    for (const row of report.rows) expect(table).toMatch(new RegExp(`^${row.engine} `, 'm'));
    expect(readdirSync(dir)).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
