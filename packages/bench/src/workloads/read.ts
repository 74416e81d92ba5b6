/**
 * Read workloads on a filled store: readseq gets keys 0..num-1 in key order (pmemkv-bench's
 * readseq: point gets, not an iterator), readrandom gets num keys drawn uniformly with
 * replacement, readmissing gets num keys that are never present. Reads change nothing, so each
 * runs `repeat` times (run r draws its own seeded keys, the same for every store) and the run
 * with the median throughput is reported.
 */
import { randomIndices, streamSeed, Streams } from '../keys';
import { median } from '../stats';
import type { Store } from '../stores/store';
import type { Context, Measurement } from './context';
import { runLoop, type LoopResult } from './loop';
import { measure } from './measure';

type ReadKind = 'readseq' | 'readrandom' | 'readmissing';

async function once(store: Store, ctx: Context, kind: ReadKind, run: number): Promise<LoopResult> {
  const { keys, options } = ctx;
  const key = keys.scratch();
  const n = options.num;
  if (kind === 'readseq') return runLoop(n, (i) => store.get(keys.write(i, key)), { progress: ctx.progress });
  const order = randomIndices(n, n, streamSeed(options.seed, Streams.reads + run));
  if (kind === 'readrandom') return runLoop(n, (i) => store.get(keys.write(order[i]!, key)), { progress: ctx.progress });
  return runLoop(n, (i) => store.get(keys.writeMissing(order[i]!, key)), { progress: ctx.progress });
}

export async function read(store: Store, ctx: Context, name: string, kind: ReadKind): Promise<Measurement> {
  const runs: Measurement[] = [];
  for (let r = 0; r < ctx.options.repeat; r++) {
    const suffix = ctx.options.repeat > 1 ? ` (run ${r + 1}/${ctx.options.repeat})` : '';
    ctx.progress.begin(`${name} ${kind}${suffix}`, ctx.options.num);
    runs.push(measure(kind, [await once(store, ctx, kind, r)], { found: true }));
    ctx.progress.end();
  }
  const mid = median(runs.map((m) => m.opsPerSec));
  // The run nearest the median (the median itself for an odd count).
  let chosen = runs[0]!;
  for (const m of runs) if (Math.abs(m.opsPerSec - mid) < Math.abs(chosen.opsPerSec - mid)) chosen = m;
  return { ...chosen, runs: runs.map((m) => m.opsPerSec) };
}
