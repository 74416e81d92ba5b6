/**
 * The thread-scaling run, for engines whose capabilities say `concurrent`: on a fresh store,
 * `threads` worker threads fill it (each puts its own slice of the fill order: every key once,
 * as fillrandom) and then read it (each gets num/threads random keys, as readrandom). One
 * thread also runs in a worker, so the 1-thread figure carries the same costs as the others.
 * Results are named `fillrandom-t<threads>` and `readrandom-t<threads>`.
 */
import { Streams } from '../keys';
import type { GroupEnv, Measurement } from './context';
import { measure } from './measure';
import { WorkerGroup } from './threads';
import type { WorkerJob } from '../worker';

async function phase(env: GroupEnv, name: string, threads: number, jobs: Omit<WorkerJob, 'control'>[], found: boolean): Promise<Measurement> {
  const group = new WorkerGroup(jobs);
  try {
    await group.ready();
    env.ctx.progress.begin(`${env.driver.name} ${name} (${threads} threads)`, 0);
    group.go();
    const loops = await Promise.all(group.results);
    await group.close();
    env.ctx.progress.end();
    return measure(name, loops, { threads, found });
  } catch (err) {
    await group.terminate();
    throw err;
  }
}

/** Fills the (empty) store of `env` with `threads` workers. */
export function scalingFill(env: GroupEnv, threads: number): Promise<Measurement> {
  const { options } = env.ctx;
  const order = env.ctx.fillOrder();
  const base = { store: env.ref, path: env.path, num: options.num, keySize: options.keySize, valueSize: options.valueSize, seed: options.seed };
  const per = Math.ceil(options.num / threads);
  const jobs = Array.from({ length: threads }, (_, t) => ({
    ...base,
    task: { kind: 'fill' as const, order: order.slice(t * per, Math.min(options.num, (t + 1) * per)) },
  }));
  return phase(env, `fillrandom-t${threads}`, threads, jobs, false);
}

/** Reads the filled store of `env` with `threads` workers, num reads in all. */
export function scalingRead(env: GroupEnv, threads: number): Promise<Measurement> {
  const { options } = env.ctx;
  const base = { store: env.ref, path: env.path, num: options.num, keySize: options.keySize, valueSize: options.valueSize, seed: options.seed };
  const per = Math.ceil(options.num / threads);
  const jobs = Array.from({ length: threads }, (_, t) => ({
    ...base,
    task: { kind: 'read' as const, count: Math.max(0, Math.min(per, options.num - t * per)), stream: Streams.reads + 500 + t },
  }));
  return phase(env, `readrandom-t${threads}`, threads, jobs, true);
}
