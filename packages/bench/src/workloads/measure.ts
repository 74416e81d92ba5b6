/** Turns loop results (from one thread or several) into a Measurement. */
import { summarize } from '../stats';
import type { LoopResult } from './loop';
import type { Measurement } from './context';

export interface MeasureExtras {
  readonly threads?: number;
  /** Operations per loop iteration (fillbatch: entries per batch). */
  readonly opsPerIteration?: number;
  readonly found?: boolean;
  readonly extra?: Record<string, number>;
}

/**
 * Combines the loops of one phase: operations are summed, and the phase lasts from the first
 * loop's start to the last loop's end (hrtime is one monotonic clock for every thread).
 */
export function measure(workload: string, loops: readonly LoopResult[], extras: MeasureExtras = {}): Measurement {
  if (loops.length === 0) throw new Error(`${workload}: no loop results`);
  const perIteration = extras.opsPerIteration ?? 1;
  let iterations = 0;
  let hits = 0;
  let start = loops[0]!.startNs;
  let end = loops[0]!.endNs;
  for (const l of loops) {
    iterations += l.ops;
    hits += l.hits;
    if (l.startNs < start) start = l.startNs;
    if (l.endNs > end) end = l.endNs;
  }
  const ops = iterations * perIteration;
  const seconds = Math.max(Number(end - start) / 1e9, 1e-9);
  const latency = summarize(...loops.map((l) => l.samples));
  return {
    workload,
    threads: extras.threads ?? 1,
    ops,
    seconds,
    opsPerSec: ops / seconds,
    usPerOp: (seconds * 1e6) / ops,
    p50Us: latency.p50Us,
    p99Us: latency.p99Us,
    latencyOf: perIteration > 1 ? 'batch' : 'op',
    latencySamples: latency.samples,
    ...(extras.found ? { found: hits } : {}),
    ...(extras.extra ? { extra: extras.extra } : {}),
  };
}
