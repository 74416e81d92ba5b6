/**
 * The conformance suite tests itself: it must fail engines that are wrong in ways a single
 * well-behaved run would not show. Jest runs, in a child process, the suite on three
 * deliberately faulty engines (test/fixtures/*.conformance.ts, outside the normal testMatch):
 * - misordered: scans return the right entries in insertion order, counts are right;
 * - off-by-one: countEqualAbove counts like countAbove (an inclusive bound taken as exclusive);
 * - lossy: a persistent engine that acknowledges writes before writing them.
 * The checks below read the child's JSON report: each fault fails exactly the tests aimed at it,
 * and the groups that do not depend on it pass.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '../src/conformance';

interface AssertionResult {
  ancestorTitles: string[];
  title: string;
  status: string;
}
interface FileResult {
  name: string;
  status: string;
  assertionResults: AssertionResult[];
}

const PACKAGE_ROOT = join(__dirname, '..');
const RANGE_NAMES = ['Above', 'EqualAbove', 'Below', 'EqualBelow', 'Between'];

let outDir: string;
let results: FileResult[];

function runFixtures(outputFile: string): Promise<{ code: number | null; stderr: string }> {
  const env = { ...process.env };
  delete env.JEST_WORKER_ID;
  const args = [
    require.resolve('jest/bin/jest'),
    '--config', join(PACKAGE_ROOT, 'test', 'fixtures', 'jest.config.js'),
    '--rootDir', PACKAGE_ROOT,
    '--testPathPatterns', 'test/fixtures/(misordered|off-by-one|lossy-journal)\\.conformance\\.ts$',
    '--json', '--outputFile', outputFile,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: PACKAGE_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

function fileResult(fixture: string): FileResult {
  const found = results.find((r) => r.name.endsWith(`${fixture}.conformance.ts`));
  if (found === undefined) throw new Error(`no results for ${fixture}: ${results.map((r) => r.name).join(', ')}`);
  return found;
}

/** "group > title" of every test of `file` with `status`. */
function names(file: FileResult, status: 'passed' | 'failed'): string[] {
  return file.assertionResults.filter((a) => a.status === status).map((a) => `${a.ancestorTitles.slice(1).join(' > ')} > ${a.title}`);
}

function group(file: FileResult, name: string): AssertionResult[] {
  return file.assertionResults.filter((a) => a.ancestorTitles.includes(name));
}

beforeAll(async () => {
  outDir = makeTempDir('self-test');
  const outputFile = join(outDir, 'results.json');
  const run = await runFixtures(outputFile);
  // Jest exits 1 when tests fail, which is the point here; anything else is a broken run.
  if (run.code !== 1) throw new Error(`the fixture run exited with ${String(run.code)}:\n${run.stderr.slice(-4000)}`);
  results = (JSON.parse(readFileSync(outputFile, 'utf8')) as { testResults: FileResult[] }).testResults;
}, 180_000);

afterAll(() => removeTempDir(outDir));

describe('the conformance suite fails faulty engines', () => {
  test('every fixture ran and failed', () => {
    expect(results.map((r) => r.name.split('/').pop()).sort()).toEqual([
      'lossy-journal.conformance.ts',
      'misordered.conformance.ts',
      'off-by-one.conformance.ts',
    ]);
    for (const r of results) {
      expect(r.status).toBe('failed');
      expect(r.assertionResults.length).toBeGreaterThan(20);
    }
  });

  test('an engine that scans in insertion order fails every ordering test and passes the count tests', () => {
    const file = fileResult('misordered');
    const failed = names(file, 'failed');
    const passed = names(file, 'passed');
    for (const m of RANGE_NAMES) {
      expect(failed.some((n) => n.startsWith('sorted ranges > ') && n.includes(`get${m} (`))).toBe(true);
      expect(passed.some((n) => n.startsWith('sorted ranges > ') && n.includes(`count${m} (`))).toBe(true);
    }
    for (const title of [
      'sorted iteration > entries() yields every entry in ascending key order',
      'sorted iteration > gt, gte, lt and lte bounds agree with the model',
      'sorted iteration > reverse yields descending key order',
      'sorted iteration > random combinations of bounds, reverse and limit',
      'sorted ranges > keys that are prefixes of each other sort shorter first',
      'walk callbacks > getAll stops right after the entry whose callback returned true',
      'encodings > utf8 keys are ordered by their UTF-8 bytes',
    ]) {
      expect(failed.filter((n) => n.startsWith(title))).toHaveLength(1);
    }
    for (const g of ['lifecycle', 'argument checking', 'config errors', 'volatility']) {
      const tests = group(file, g);
      expect(tests.length).toBeGreaterThan(0);
      expect(tests.filter((t) => t.status !== 'passed').map((t) => t.title)).toEqual([]);
    }
  });

  test('an engine whose countEqualAbove excludes the bound fails exactly the tests of countEqualAbove', () => {
    const file = fileResult('off-by-one');
    expect(names(file, 'failed').sort()).toEqual([
      'sorted ranges > countEqualAbove (key >= k) agrees with the model at every probe key',
      'sorted ranges > the empty key is the smallest key',
    ]);
    const passed = names(file, 'passed');
    for (const m of RANGE_NAMES) {
      expect(passed.some((n) => n.includes(`get${m} (`))).toBe(true);
      if (m !== 'EqualAbove') expect(passed.some((n) => n.includes(`count${m} (`))).toBe(true);
    }
  });

  test('an engine that acknowledges writes before they are written fails the crash test and nothing else', () => {
    const file = fileResult('lossy-journal');
    const failed = names(file, 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/^crash consistency > acknowledged writes survive SIGKILL/);
    const persistence = group(file, 'persistence');
    expect(persistence.length).toBeGreaterThanOrEqual(4);
    expect(persistence.every((t) => t.status === 'passed')).toBe(true);
  });
});
