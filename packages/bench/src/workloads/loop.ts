/**
 * The measured loop every workload runs, on the main thread and in worker threads alike.
 *
 * Only the phase's wall time feeds throughput; one operation in SAMPLE_EVERY is also timed on
 * its own with hrtime for the latency percentiles. A result that is a Promise is awaited (an
 * asynchronous store); anything else costs no microtask.
 */
import { SAMPLE_EVERY } from '../options';
import { LatencySampler } from '../stats';
import type { MaybePromise } from '../stores/store';
import type { Progress } from '../progress';

export interface LoopResult {
  /** Operations that ran. */
  readonly ops: number;
  /** Operations whose result was not undefined (reads that found their key). */
  readonly hits: number;
  readonly startNs: bigint;
  readonly endNs: bigint;
  /** Latencies in nanoseconds of every SAMPLE_EVERY-th operation. */
  readonly samples: Float64Array;
}

const PROGRESS_MASK = (1 << 14) - 1;
const STOP_CHECK_MASK = 63;

export interface LoopOptions {
  readonly progress?: Progress;
  /** For open-ended loops (n = Infinity): checked every 64 operations; true ends the loop. */
  readonly stop?: () => boolean;
  /** Upper bound of samples kept for open-ended loops. */
  readonly maxSamples?: number;
  /** Time one operation in this many (a power of two; default SAMPLE_EVERY). */
  readonly sampleEvery?: number;
}

/** Runs `op(0) .. op(n - 1)` in order, each finished before the next starts. */
export async function runLoop(n: number, op: (i: number) => MaybePromise<unknown>, options: LoopOptions = {}): Promise<LoopResult> {
  const { progress, stop } = options;
  const every = options.sampleEvery ?? SAMPLE_EVERY;
  if ((every & (every - 1)) !== 0 || every < 1) throw new Error(`sampleEvery must be a power of two, not ${every}`);
  const mask = every - 1;
  const capacity = Number.isFinite(n) ? Math.ceil(n / every) : (options.maxSamples ?? 1 << 16);
  const sampler = new LatencySampler(capacity);
  let hits = 0;
  let i = 0;
  const startNs = process.hrtime.bigint();
  for (; i < n; i++) {
    if ((i & mask) === 0) {
      const t0 = process.hrtime.bigint();
      let r = op(i);
      if (r instanceof Promise) r = await r;
      sampler.add(Number(process.hrtime.bigint() - t0));
      if (r !== undefined) hits++;
      if ((i & PROGRESS_MASK) === 0 && progress) progress.update(i);
      if (stop !== undefined && (i & STOP_CHECK_MASK) === 0 && stop()) {
        i++;
        break;
      }
    } else {
      let r = op(i);
      if (r instanceof Promise) r = await r;
      if (r !== undefined) hits++;
    }
  }
  const endNs = process.hrtime.bigint();
  return { ops: i, hits, startNs, endNs, samples: sampler.values() };
}
