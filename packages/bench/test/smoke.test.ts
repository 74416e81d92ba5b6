/**
 * Runs the built command (`node dist/cli.js --quick --json ...`) as a child process on a fresh
 * directory under /dev/shm with PMEM_IS_PMEM_FORCE=1, and checks that every installed engine
 * and both peers ran every workload with real measured figures, that reads found what the
 * fills wrote, and that nothing is left behind.
 */
import { describe, expect, test, beforeAll, afterAll } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PKG = join(__dirname, '..');
const CLI = join(PKG, 'dist', 'cli.js');
const WORKLOADS = ['fillseq', 'fillrandom', 'fillbatch', 'fillasync', 'overwrite', 'readseq', 'readrandom', 'readmissing', 'deleterandom', 'readwhilewriting'];
const PEERS = ['lmdb', 'classic-level'];
const QUICK_NUM = 20000;

interface Figures {
  ops: number;
  seconds: number;
  opsPerSec: number;
  usPerOp: number;
  p50Us: number;
  p99Us: number;
  ratioToLmdb: number | null;
  found?: number;
  threads: number;
}
interface Output {
  settings: { num: number; scalingThreads: number[] };
  medium: { fsType: string | null; pmemForce: string | null };
  stores: { name: string; kind: string; concurrent: boolean; capabilities?: { persistent?: boolean } }[];
  skipped: { name: string; reason: string }[];
  errors: unknown[];
  notes: string[];
  results: Record<string, Record<string, Figures>>;
}

/** Installed engines but blackhole; `fixed` ones (keys and values of another size than the run's 16/100) are left out by the bench, with a note. */
function installedEngines(): { runs: string[]; fixed: string[] } {
  const core = require('@pmemkv/core') as { listEngines(): string[]; findEngine(n: string): { capabilities: { fixedSize?: number } } };
  const all = core.listEngines().filter((n) => n !== 'blackhole');
  const fixed = all.filter((n) => core.findEngine(n).capabilities.fixedSize !== undefined);
  return { runs: all.filter((n) => !fixed.includes(n)), fixed };
}

let dir: string;
let run: ReturnType<typeof spawnSync>;
let out: Output;
const { runs: engines, fixed: fixedSizeEngines } = installedEngines();

beforeAll(() => {
  dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pmemkv-bench-test-'));
  run = spawnSync(process.execPath, [CLI, '--quick', '--json', join(dir, 'out.json'), '--dir', dir, '--report', join(dir, 'report')], {
    cwd: PKG,
    env: { ...process.env, PMEM_IS_PMEM_FORCE: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.status === 0) out = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as Output;
}, 130_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('pmemkv-bench --quick', () => {
  test('exits 0 and writes JSON', () => {
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    expect(out.settings.num).toBe(QUICK_NUM);
    expect(out.errors).toEqual([]);
  });

  test('leaves out engines of fixed-size keys and values of another size, saying how to run them', () => {
    for (const name of fixedSizeEngines) {
      expect(out.stores.map((st) => st.name)).not.toContain(name);
      expect(out.notes.some((n) => n.startsWith(`${name} was left out`) && n.includes('--key-size'))).toBe(true);
    }
  });

  test('runs every installed engine and both peers', () => {
    expect(engines.length).toBeGreaterThan(0);
    expect(out.skipped).toEqual([]);
    const names = out.stores.map((s) => s.name);
    for (const name of [...engines, ...PEERS]) expect(names).toContain(name);
    expect(names).not.toContain('blackhole');
  });

  test('measures every workload on every store with real figures', () => {
    for (const store of out.stores) {
      const expected = [...WORKLOADS];
      if (store.kind === 'engine' && store.concurrent) {
        for (const t of out.settings.scalingThreads) expected.push(`fillrandom-t${t}`, `readrandom-t${t}`);
      }
      const reopens = store.kind === 'peer' || store.capabilities?.persistent === true;
      if (reopens) expected.push('reopen');
      const results = out.results[store.name]!;
      expect(Object.keys(results).sort()).toEqual(expected.sort());
      for (const w of expected) {
        const m = results[w]!;
        const where = `${store.name} ${w}`;
        expect([where, m.ops > 0, m.seconds > 0]).toEqual([where, true, true]);
        expect([where, Number.isFinite(m.opsPerSec) && m.opsPerSec > 0, Number.isFinite(m.usPerOp)]).toEqual([where, true, true]);
        expect([where, Number.isFinite(m.p50Us) && m.p50Us > 0, m.p50Us <= m.p99Us]).toEqual([where, true, true]);
        expect(m.opsPerSec * m.seconds).toBeCloseTo(m.ops, 3);
      }
      expect(results.fillseq!.ops).toBe(QUICK_NUM);
      expect(results.fillbatch!.ops).toBe(QUICK_NUM);
      expect(results.fillasync!.ops).toBe(QUICK_NUM);
      expect(results.readwhilewriting!.ops).toBe(QUICK_NUM);
      if (reopens) {
        const extra = (results.reopen as Figures & { extra?: Record<string, number> }).extra;
        expect([store.name, extra?.openMs !== undefined && extra.openMs > 0, Number.isFinite(extra?.anonBytesPerKey)]).toEqual([store.name, true, true]);
      }
    }
  });

  test('ratios are taken against lmdb in the same run', () => {
    for (const w of WORKLOADS) {
      expect(out.results.lmdb![w]!.ratioToLmdb).toBe(1);
      for (const store of out.stores) {
        const m = out.results[store.name]![w]!;
        expect(m.ratioToLmdb).toBeCloseTo(m.opsPerSec / out.results.lmdb![w]!.opsPerSec, 6);
      }
    }
  });

  test('reads find exactly what the fills wrote', () => {
    for (const store of out.stores) {
      if (store.kind === 'engine' && store.capabilities?.persistent !== true) continue;
      const r = out.results[store.name]!;
      expect([store.name, r.readseq!.found, r.readrandom!.found, r.readmissing!.found, r.readwhilewriting!.found]).toEqual([
        store.name,
        QUICK_NUM,
        QUICK_NUM,
        0,
        QUICK_NUM,
      ]);
      for (const t of out.settings.scalingThreads) {
        const scaled = r[`readrandom-t${t}`];
        if (scaled) expect(scaled.found).toBe(scaled.ops);
      }
    }
  });

  test('prints machine, medium and the table; writes the report; leaves no pool behind', () => {
    const stdout = String(run.stdout);
    expect(stdout).toMatch(/machine: +\d+ cores/);
    expect(stdout).toContain('PMEM_IS_PMEM_FORCE=1');
    expect(stdout).toMatch(/workload +store +threads +ops\/s/);
    expect(out.medium.pmemForce).toBe('1');
    const report = readdirSync(join(dir, 'report'));
    expect(report).toContain('summary.md');
    for (const w of WORKLOADS) expect(report).toContain(`${w}.svg`);
    expect(readFileSync(join(dir, 'report', 'readrandom.svg'), 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(readdirSync(dir).sort()).toEqual(['out.json', 'report']);
  });
});
