/**
 * readwhilewriting (db_bench): `threads` readers each get num random keys while one writer
 * overwrites random keys until the readers are done; the figure is the readers' combined
 * throughput (the writer's ops/s is kept as `writerOpsPerSec`).
 *
 * Stores that worker threads can share run every reader and the writer in its own worker
 * thread on the same path. classic-level cannot be opened twice in a process (LevelDB's
 * directory lock), so its writer and readers are concurrent async loops of the main thread,
 * each call running on the libuv pool.
 */
import { Prng, randomIndices, streamSeed, Streams } from '../keys';
import type { GroupEnv, Measurement } from './context';
import { runLoop, type LoopResult } from './loop';
import { measure } from './measure';
import { WorkerGroup } from './threads';

function readerStream(t: number): number {
  return Streams.reads + 1000 * (t + 1);
}

function writerFigures(w: LoopResult): Record<string, number> {
  const seconds = Number(w.endNs - w.startNs) / 1e9;
  return { writerOps: w.ops, writerOpsPerSec: seconds > 0 ? w.ops / seconds : 0 };
}

async function inWorkers(env: GroupEnv): Promise<Measurement> {
  const { options } = env.ctx;
  const base = { store: env.ref, path: env.path, num: options.num, keySize: options.keySize, valueSize: options.valueSize, seed: options.seed };
  const group = new WorkerGroup([
    { ...base, task: { kind: 'write', stream: Streams.writer } },
    ...Array.from({ length: options.threads }, (_, t) => ({ ...base, task: { kind: 'read' as const, count: options.num, stream: readerStream(t) } })),
  ]);
  try {
    await group.ready();
    env.ctx.progress.begin(`${env.driver.name} readwhilewriting (${options.threads} reader thread(s) + 1 writer)`, 0);
    group.go();
    const readers = await Promise.all(group.results.slice(1));
    group.stop();
    const writer = await group.results[0]!;
    await group.close();
    env.ctx.progress.end();
    return measure('readwhilewriting', readers, { threads: options.threads, found: true, extra: writerFigures(writer) });
  } catch (err) {
    await group.terminate();
    throw err;
  }
}

async function inAsyncLoops(env: GroupEnv): Promise<Measurement> {
  const { store, ctx } = env;
  const { options, keys, values } = ctx;
  const getConcurrent = store.getConcurrent?.bind(store);
  if (getConcurrent === undefined) throw new Error(`${env.driver.name}: no concurrent get for readwhilewriting`);
  const orders = Array.from({ length: options.threads }, (_, t) => randomIndices(options.num, options.num, streamSeed(options.seed, readerStream(t))));
  const rng = new Prng(streamSeed(options.seed, Streams.writer));
  const writerKey = keys.scratch();
  let stop = false;
  ctx.progress.begin(`${env.driver.name} readwhilewriting (${options.threads} async reader(s) + 1 async writer)`, 0);
  const writer = runLoop(Infinity, (i) => store.put(keys.write(rng.below(options.num), writerKey), values.at(i)), {
    stop: () => stop,
    maxSamples: 1 << 16,
  });
  const readers = await Promise.all(
    orders.map((order) => {
      const key = keys.scratch();
      return runLoop(order.length, (i) => getConcurrent(keys.write(order[i]!, key)));
    }),
  );
  stop = true;
  const w = await writer;
  ctx.progress.end();
  return measure('readwhilewriting', readers, { threads: options.threads, found: true, extra: writerFigures(w) });
}

export function readwhilewriting(env: GroupEnv): Promise<Measurement> {
  return env.driver.sharedByThreads ? inWorkers(env) : inAsyncLoops(env);
}
