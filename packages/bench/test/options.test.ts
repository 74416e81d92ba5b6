/** Command-line parsing and the figures derived from it. */
import { describe, expect, test } from '@jest/globals';
import { OptionsError, parseOptions, poolSizeFor, QUICK_NUM, scalingThreads, WORKLOADS } from '../src/options';
import { median, percentile, summarize } from '../src/stats';

describe('parseOptions', () => {
  test('defaults', () => {
    const o = parseOptions([]);
    expect(o).toMatchObject({ num: 1_000_000, valueSize: 100, keySize: 16, threads: 1, peers: ['lmdb', 'classic-level'], engines: undefined, repeat: 3 });
    expect(o.workloads).toEqual([...WORKLOADS]);
  });

  test('--quick is small, one run each, every workload; an explicit --num wins', () => {
    expect(parseOptions(['--quick'])).toMatchObject({ num: QUICK_NUM, repeat: 1, workloads: [...WORKLOADS] });
    expect(parseOptions(['--quick', '--num', '500']).num).toBe(500);
  });

  test('lists are split and checked', () => {
    const o = parseOptions(['--engines', 'cmap,tree3', '--peers', '', '--workloads', 'readrandom,fillseq']);
    expect(o.engines).toEqual(['cmap', 'tree3']);
    expect(o.peers).toEqual([]);
    expect(o.workloads).toEqual(['fillseq', 'readrandom']);
    expect(() => parseOptions(['--workloads', 'readrandon'])).toThrow(/unknown workload 'readrandon'/);
    expect(() => parseOptions(['--peers', 'rocksdb'])).toThrow(OptionsError);
  });

  test('bad numbers and unknown options are OptionsErrors naming the option', () => {
    expect(() => parseOptions(['--num', '0'])).toThrow(/--num/);
    expect(() => parseOptions(['--num', '1e6'])).toThrow(/--num takes a whole number/);
    expect(() => parseOptions(['--key-size', '3', '--num', '100000'])).toThrow(/--key-size 3 cannot hold 100000/);
    expect(() => parseOptions(['--bogus'])).toThrow(OptionsError);
  });

  test('scaling threads and pool size', () => {
    expect(scalingThreads({ threads: 1 })).toEqual([1, 2]);
    expect(scalingThreads({ threads: 4 })).toEqual([1, 4]);
    expect(poolSizeFor({ num: 1000, keySize: 16, valueSize: 100, poolSize: 0 })).toBe(64 * 2 ** 20);
    expect(poolSizeFor({ num: 1_000_000, keySize: 16, valueSize: 100, poolSize: 0 })).toBeGreaterThanOrEqual(4 * 116e6);
    expect(poolSizeFor({ num: 1, keySize: 1, valueSize: 1, poolSize: 12345 })).toBe(12345);
  });
});

describe('stats', () => {
  test('nearest-rank percentiles and the median', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(new Float64Array(0), 50)).toBeNaN();
    expect(summarize(Float64Array.of(3000, 1000), Float64Array.of(2000))).toEqual({ samples: 3, p50Us: 2, p99Us: 3 });
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
