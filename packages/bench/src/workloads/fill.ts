/**
 * Fill workloads, each on an empty store (db_bench semantics): fillseq puts keys 0..num-1 in
 * order; fillrandom puts every key once in a seeded random order; fillbatch writes keys in
 * order in batches of BATCH_SIZE through the store's batch call (atomic only where the
 * driver says `atomicBatch`). Every single put is durable on its own when it returns.
 */
import type { Store } from '../stores/store';
import { BATCH_SIZE, type Context, type Measurement } from './context';
import { runLoop } from './loop';
import { measure } from './measure';

export async function fillseq(store: Store, ctx: Context, name: string): Promise<Measurement> {
  const { keys, values, options } = ctx;
  const key = keys.scratch();
  ctx.progress.begin(`${name} fillseq`, options.num);
  const loop = await runLoop(options.num, (i) => store.put(keys.write(i, key), values.at(i)), { progress: ctx.progress });
  ctx.progress.end();
  return measure('fillseq', [loop]);
}

export async function fillrandom(store: Store, ctx: Context, name: string): Promise<Measurement> {
  const { keys, values, options } = ctx;
  const order = ctx.fillOrder();
  const key = keys.scratch();
  ctx.progress.begin(`${name} fillrandom`, options.num);
  const loop = await runLoop(options.num, (i) => store.put(keys.write(order[i]!, key), values.at(i)), { progress: ctx.progress });
  ctx.progress.end();
  return measure('fillrandom', [loop]);
}

/**
 * The body of a batched fill: call b writes entries b*BATCH_SIZE.. of `count`, entry i having
 * the key `indices(i)`. Key buffers are reused between batches (stores copy them).
 */
function batcher(store: Store, ctx: Context, indices: (i: number) => number, count: number) {
  const batchKeys = Array.from({ length: BATCH_SIZE }, () => ctx.keys.scratch());
  return (b: number) => {
    const first = b * BATCH_SIZE;
    const n = Math.min(BATCH_SIZE, count - first);
    const ks = n === BATCH_SIZE ? batchKeys : batchKeys.slice(0, n);
    const vs = new Array<Buffer>(n);
    for (let j = 0; j < n; j++) {
      ctx.keys.write(indices(first + j), ks[j]!);
      vs[j] = ctx.values.at(first + j);
    }
    return store.batch(ks, vs);
  };
}

export async function fillbatch(store: Store, ctx: Context, name: string): Promise<Measurement> {
  const { num } = ctx.options;
  const batches = Math.ceil(num / BATCH_SIZE);
  ctx.progress.begin(`${name} fillbatch`, batches);
  const loop = await runLoop(batches, batcher(store, ctx, (i) => i, num), { progress: ctx.progress, sampleEvery: 1 });
  ctx.progress.end();
  // The last batch may be short: count entries, not batches.
  const m = measure('fillbatch', [loop], { opsPerIteration: BATCH_SIZE });
  const seconds = m.seconds;
  return { ...m, ops: num, opsPerSec: num / seconds, usPerOp: (seconds * 1e6) / num };
}

/** Puts kept in flight at once by fillasync. */
export const ASYNC_WINDOW = 256;

/**
 * fillasync: every key once in the fill order through the store's async put, ASYNC_WINDOW of
 * them in flight at once (a new one starts as each resolves); each resolves once durable.
 * Stores that batch or group-commit concurrent writes do so here.
 */
export async function fillasync(store: Store, ctx: Context, name: string): Promise<Measurement> {
  const putAsync = store.putAsync?.bind(store);
  if (putAsync === undefined) throw new Error(`${name} has no async put: fillasync cannot run on it`);
  const { keys, values, options } = ctx;
  const order = ctx.fillOrder();
  const n = options.num;
  ctx.progress.begin(`${name} fillasync`, n);
  const samples = new Float64Array(Math.ceil(n / 16));
  let sampled = 0;
  const startNs = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    let next = 0;
    let done = 0;
    const launch = (): void => {
      while (next < n && next - done < ASYNC_WINDOW) {
        const i = next++;
        const t0 = (i & 15) === 0 ? process.hrtime.bigint() : 0n;
        putAsync(keys.write(order[i]!, keys.scratch()), values.at(i)).then(() => {
          if (t0 !== 0n) samples[sampled++] = Number(process.hrtime.bigint() - t0);
          if (++done === n) resolve();
          else {
            if ((done & 16383) === 0) ctx.progress.update(done);
            launch();
          }
        }, reject);
      }
    };
    launch();
  });
  const endNs = process.hrtime.bigint();
  ctx.progress.end();
  return measure('fillasync', [{ ops: n, hits: 0, startNs, endNs, samples: samples.subarray(0, sampled) }], { extra: { window: ASYNC_WINDOW } });
}

/** Untimed: puts every key in the fill order through batches, to give read workloads their data. */
export async function prefill(store: Store, ctx: Context, name: string): Promise<void> {
  const { num } = ctx.options;
  const order = ctx.fillOrder();
  const batches = Math.ceil(num / BATCH_SIZE);
  const write = batcher(store, ctx, (i) => order[i]!, num);
  ctx.progress.begin(`${name} loading ${num} entries (untimed)`, batches);
  for (let b = 0; b < batches; b++) {
    const r = write(b);
    if (r instanceof Promise) await r;
    if ((b & 63) === 0) ctx.progress.update(b);
  }
  ctx.progress.end();
}
