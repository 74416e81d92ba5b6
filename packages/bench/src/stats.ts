/**
 * Latency samples and percentiles. Timing every operation with hrtime would add about as much
 * as a pmemkv get costs, so only one operation in SAMPLE_EVERY is timed on its own; the
 * throughput figures come from the untouched wall time of the whole phase.
 */

/** Collects latencies in nanoseconds, up to a fixed capacity (later samples are dropped). */
export class LatencySampler {
  #samples: Float64Array;
  #count = 0;

  constructor(capacity: number) {
    this.#samples = new Float64Array(Math.max(1, capacity));
  }

  add(ns: number): void {
    if (this.#count < this.#samples.length) this.#samples[this.#count++] = ns;
  }

  /** The samples taken so far (a copy the caller owns). */
  values(): Float64Array {
    return this.#samples.slice(0, this.#count);
  }
}

/** The p-th percentile (0..100) of ascending `sorted`, nearest-rank; NaN when empty. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface LatencySummary {
  readonly samples: number;
  readonly p50Us: number;
  readonly p99Us: number;
}

/** p50 and p99 in microseconds of latency samples given in nanoseconds (one or more arrays). */
export function summarize(...parts: Float64Array[]): LatencySummary {
  let n = 0;
  for (const p of parts) n += p.length;
  const all = new Float64Array(n);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  all.sort();
  return { samples: n, p50Us: percentile(all, 50) / 1000, p99Us: percentile(all, 99) / 1000 };
}

/** The median of `xs` (mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
