/**
 * Worker-thread entry: opens an existing store on the path the main thread holds open, prepares
 * its keys, warms up with untimed gets, reports `ready`, blocks until the main thread raises the start flag, runs one task
 * with the shared measured loop, reports `done` with its loop result, and closes its handle.
 *
 * Tasks: `fill` puts the given key indices in order; `read` gets `count` keys drawn from its own
 * seeded stream; `write` overwrites random existing keys until the main thread raises the stop
 * flag (the writer of readwhilewriting).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { KeyFormat, Prng, randomIndices, streamSeed, ValueSource, Streams } from './keys';
import { openStore, type StoreRef } from './stores';
import { runLoop, type LoopResult } from './workloads/loop';

export type WorkerTask =
  | { readonly kind: 'fill'; readonly order: Uint32Array }
  | { readonly kind: 'read'; readonly count: number; readonly stream: number }
  | { readonly kind: 'write'; readonly stream: number };

export interface WorkerJob {
  readonly store: StoreRef;
  readonly path: string;
  readonly num: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly seed: number;
  readonly task: WorkerTask;
  /** Int32Array view: [CONTROL_GO] start flag, [CONTROL_STOP] stop flag (0 = not yet). */
  readonly control: SharedArrayBuffer;
}

export const CONTROL_GO = 0;
export const CONTROL_STOP = 1;

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly result: LoopResult }
  | { readonly type: 'error'; readonly message: string };

/** Samples kept by an open-ended writer loop. */
const WRITER_SAMPLES = 1 << 16;
/**
 * Untimed gets run before `ready`, so that a fresh worker isolate has compiled the loop, the key
 * writer and the store's call path before the clock starts (the main thread is warm by then).
 * Gets change nothing, so a fill still starts on an empty store.
 */
const WARMUP_GETS = 10_000;

async function main(job: WorkerJob): Promise<void> {
  const port = parentPort!;
  const control = new Int32Array(job.control);
  const keys = new KeyFormat(job.keySize);
  const values = new ValueSource(job.valueSize, streamSeed(job.seed, Streams.values));
  const key = keys.scratch();
  const store = await openStore(job.store, job.path, false);
  try {
    const task = job.task;
    let body: () => Promise<LoopResult>;
    if (task.kind === 'fill') {
      const order = task.order;
      body = () => runLoop(order.length, (i) => store.put(keys.write(order[i]!, key), values.at(order[i]!)));
    } else if (task.kind === 'read') {
      const order = randomIndices(task.count, job.num, streamSeed(job.seed, task.stream));
      body = () => runLoop(order.length, (i) => store.get(keys.write(order[i]!, key)));
    } else {
      const rng = new Prng(streamSeed(job.seed, task.stream));
      const stop = () => Atomics.load(control, CONTROL_STOP) !== 0;
      body = () =>
        runLoop(Infinity, (i) => store.put(keys.write(rng.below(job.num), key), values.at(i)), { stop, maxSamples: WRITER_SAMPLES });
    }
    const warm = new Prng(streamSeed(job.seed, Streams.reads - 1));
    await runLoop(Math.min(WARMUP_GETS, job.num), () => store.get(keys.write(warm.below(job.num), key)));
    port.postMessage({ type: 'ready' } satisfies WorkerMessage);
    Atomics.wait(control, CONTROL_GO, 0);
    const result = await body();
    port.postMessage({ type: 'done', result } satisfies WorkerMessage, [result.samples.buffer as ArrayBuffer]);
  } finally {
    await store.close();
  }
}

if (parentPort !== null) {
  main(workerData as WorkerJob).catch((err: unknown) => {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    parentPort!.postMessage({ type: 'error', message } satisfies WorkerMessage);
  });
}
