/** Reports built from a known result: ratios, notes, Markdown, SVG and JSON. */
import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { otherCores } from '../src/cpu';
import { writeJson } from '../src/report/json';
import { markdown, writeReport } from '../src/report/markdown';
import { rows } from '../src/report/rows';
import { escapeXml } from '../src/report/svg';
import { textReport } from '../src/report/table';
import type { BenchResult } from '../src/runner';
import type { Measurement } from '../src/workloads/context';

function m(workload: string, opsPerSec: number, extra: Partial<Measurement> = {}): Measurement {
  const ops = 1000;
  const seconds = ops / opsPerSec;
  return { workload, threads: 1, ops, seconds, opsPerSec, usPerOp: (seconds * 1e6) / ops, p50Us: 1, p99Us: 2, latencyOf: 'op', latencySamples: 63, ...extra };
}

const result: BenchResult = {
  tool: '@pmemkv/bench',
  date: '2020-01-01T00:00:00.000Z',
  command: 'pmemkv-bench --num 1000',
  machine: { cpus: 2, cpuModel: 'Test CPU', memoryBytes: 2 ** 30, os: 'Linux', arch: 'x64', node: 'v20', loadAverage: { start: 0.1, end: 0.2 } },
  medium: { dir: '/dev/shm', mountPoint: '/dev/shm', fsType: 'tmpfs', isPmem: true, pmemForce: '1', description: '/dev/shm on tmpfs' },
  settings: { num: 1000, keySize: 16, valueSize: 100, datasetBytes: 116000, poolSize: 64 * 2 ** 20 },
  stores: [
    { name: 'e<1>', kind: 'engine', version: 'x 1', durability: 'd', methods: 'm', atomicBatch: false, concurrent: true },
    { name: 'lmdb', kind: 'peer', version: 'lmdb 3', durability: 'd', methods: 'm', atomicBatch: true, concurrent: false },
  ],
  skipped: [{ name: 'gone', kind: 'engine', reason: 'not built' }],
  results: {
    'e<1>': {
      readrandom: m('readrandom', 3000, { found: 990 }),
      readmissing: m('readmissing', 5000, { found: 0 }),
      'readrandom-t1': m('readrandom-t1', 2000, { found: 1000 }),
      'readrandom-t2': m('readrandom-t2', 3600, { threads: 2, found: 1000, otherCpuCores: 0.8 }),
      fillbatch: m('fillbatch', 500, { latencyOf: 'batch', p50Us: NaN }),
    },
    lmdb: { readrandom: m('readrandom', 1000, { found: 1000 }), readmissing: m('readmissing', 2500, { found: 0 }), fillbatch: m('fillbatch', 1000, { latencyOf: 'batch' }) },
  },
  errors: [],
  notes: ['a note'],
};

describe('rows', () => {
  const r = rows(result);
  const find = (store: string, w: string) => r.find((x) => x.store === store && x.workload === w)!;

  test('workload order: db_bench workloads first, then thread-scaling rows by thread count', () => {
    expect([...new Set(r.map((x) => x.workload))]).toEqual(['fillbatch', 'readrandom', 'readmissing', 'readrandom-t1', 'readrandom-t2']);
  });

  test('ratios to lmdb and to one thread', () => {
    expect(find('e<1>', 'readrandom').ratioToLmdb).toBeCloseTo(3, 9);
    expect(find('lmdb', 'readrandom').ratioToLmdb).toBe(1);
    expect(find('e<1>', 'readrandom-t2').ratioToLmdb).toBeNull();
    expect(find('e<1>', 'readrandom-t2').ratioToOneThread).toBeCloseTo(1.8, 9);
    expect(find('e<1>', 'readrandom-t1').ratioToOneThread).toBeNull();
  });

  test('notes flag partial reads, batch latency and a busy machine, and nothing else', () => {
    expect(find('e<1>', 'readrandom').note).toBe('found 990 of 1000');
    expect(find('e<1>', 'readmissing').note).toBe('');
    expect(find('lmdb', 'readrandom').note).toBe('');
    expect(find('e<1>', 'fillbatch').note).toBe('latency per batch');
    expect(find('e<1>', 'readrandom-t2').note).toBe('others used 0.8 cores');
  });
});

describe('outputs', () => {
  test('text and Markdown tables hold every row', () => {
    const text = textReport(result);
    expect(text).toMatch(/readrandom\s+e<1>\s+1\s+3,000\s+333\s+3\.00x/);
    expect(text).toContain('gone: NOT RUN: not built');
    const md = markdown(result, true);
    expect(md).toContain('| readrandom | e<1> | 1 | 3,000 | 333 | 3.00x | - | 1.00 | 2.00 | found 990 of 1000 |');
    expect(md).toContain('![readrandom-t2](readrandom-t2.svg)');
  });

  test('SVG text is escaped, one chart per workload, JSON has null for NaN', () => {
    expect(escapeXml(`a<b & "c" 'd'>`)).toBe('a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
    const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
    try {
      const files = writeReport(dir, result);
      expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(
        ['summary.md', 'fillbatch.svg', 'readrandom.svg', 'readmissing.svg', 'readrandom-t1.svg', 'readrandom-t2.svg'].sort(),
      );
      const svg = readFileSync(join(dir, 'readrandom.svg'), 'utf8');
      expect(svg).toContain('>e&lt;1&gt;</text>');
      expect(svg).not.toContain('e<1>');
      expect(svg.match(/<rect /g)!.length).toBe(3); // background + one bar per store
      writeJson(join(dir, 'out.json'), result);
      const json = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
      expect(json.results['e<1>'].fillbatch.p50Us).toBeNull();
      expect(json.results['e<1>'].readrandom.ratioToLmdb).toBeCloseTo(3, 9);
      expect(json.results['e<1>']['readrandom-t2'].ratioToOneThread).toBeCloseTo(1.8, 9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('otherCores', () => {
  test('machine busy time minus our own, over wall time', () => {
    const a = { wallNs: 0n, busySeconds: 100, ownSeconds: 10 };
    const b = { wallNs: 2_000_000_000n, busySeconds: 104, ownSeconds: 12 };
    expect(otherCores(a, b)).toBeCloseTo(1, 9);
    expect(otherCores(a, { ...b, busySeconds: 101 })).toBe(0);
    expect(otherCores(a, a)).toBeNaN();
  });
});
