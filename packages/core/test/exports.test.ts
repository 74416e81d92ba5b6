/**
 * The package boundary: the ES module entry re-exports every value of the CommonJS build, and
 * the published declarations show no internals of Database and DatabasePromises.
 */
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

describe('exports', () => {
  test('esm/index.mjs re-exports every value src/index.ts exports', () => {
    const script = `
      const cjs = require(${JSON.stringify(join(ROOT, 'dist', 'index.js'))});
      import(${JSON.stringify(join(ROOT, 'esm', 'index.mjs'))}).then((esm) => {
        console.log(JSON.stringify({ cjs: Object.keys(cjs).sort(), esm: Object.keys(esm).filter((k) => k !== 'default').sort(), same: esm.PmemkvError === cjs.PmemkvError }));
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const { cjs, esm, same } = JSON.parse(r.stdout) as { cjs: string[]; esm: string[]; same: boolean };
    expect(esm).toEqual(cjs);
    expect(same).toBe(true);
    expect(cjs).toEqual(expect.arrayContaining(['open', 'Database', 'DatabasePromises', 'PmemkvError', 'Status', 'CONTRACT_VERSION', 'blackhole']));
  });

  test('the published declarations of the public classes hold no internals', () => {
    const dts = readFileSync(join(ROOT, 'dist', 'database.d.ts'), 'utf8');
    for (const internal of ['_key', '_value', '_walk', '_bounds', '_plan', '_handle', '_require', '_visit', '_count', '_decode', '_batchOps', '_defragArgs', '_nextRange', 'Codec', 'EngineHandle', 'EnginePlugin', "from './internal", 'constructor(', 'WalkPlan', 'Access']) {
      expect({ internal, found: dts.includes(internal) }).toEqual({ internal, found: false });
    }
    expect(dts).toContain('declare class Database');
    expect(dts).toContain('declare class DatabasePromises');
    const index = readFileSync(join(ROOT, 'dist', 'index.d.ts'), 'utf8');
    expect(index).not.toContain("from './internal");
    expect(index).toContain('ThreadModel');
    expect(index).toContain('UnorderedChunk');
  });
});
