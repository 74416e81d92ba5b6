/**
 * reopen: on a store loaded with every key, closes it and opens it again in a fresh child
 * process (src/reopen-child.ts), timing the open plus one get of a present key (so a store that
 * defers work past open pays it here too), and measuring the anonymous memory (RssAnon: DRAM
 * that is not a file mapping, so not the pool) the child holds after it. A fresh process,
 * because memory an earlier instance freed stays in the process and would be reused unseen.
 * The same is measured on an empty store of the same kind: its figure is the fixed cost of an
 * open store (libpmemobj's lane and allocator state, the module), reported as DRAM per store,
 * and what the full store holds beyond it, divided by the keys, as DRAM per key. Runs `repeat`
 * times and reports the medians; ops/s is reopens per second, so ratios compare reopen speed
 * like any other workload. The child's own start (Node, loading the store's module) is not
 * timed.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { median } from '../stats';
import type { GroupEnv, Measurement } from './context';

export async function reopen(env: GroupEnv): Promise<Measurement> {
  const { ctx } = env;
  const n = ctx.options.num;
  const key = ctx.keys.write(Math.floor(n / 2), ctx.keys.scratch()).toString('hex');
  const seconds: number[] = [];
  const perKey: number[] = [];
  const perStore: number[] = [];
  await env.closeStore();
  const emptyPath = `${env.path}-empty`;
  await (await env.driver.open(emptyPath, true)).close();
  const child = (path: string, k: string | undefined) =>
    JSON.parse(
      execFileSync(process.execPath, [join(__dirname, '..', 'reopen-child.js'), JSON.stringify({ ref: env.ref, path, key: k })], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    ) as { seconds: number; anonBytes: number };
  try {
    for (let r = 0; r < ctx.options.repeat; r++) {
      ctx.progress.begin(`${env.driver.name} reopen`, 1);
      const full = child(env.path, key);
      const empty = child(emptyPath, undefined);
      seconds.push(Math.max(full.seconds, 1e-9));
      perKey.push((full.anonBytes - empty.anonBytes) / n);
      perStore.push(empty.anonBytes);
      ctx.progress.end();
    }
  } finally {
    env.driver.destroy(emptyPath);
  }
  const s = median(seconds);
  return {
    workload: 'reopen',
    threads: 1,
    ops: 1,
    seconds: s,
    opsPerSec: 1 / s,
    usPerOp: s * 1e6,
    p50Us: s * 1e6,
    p99Us: Math.max(...seconds) * 1e6,
    latencyOf: 'op',
    latencySamples: seconds.length,
    runs: seconds.map((x) => 1 / x),
    extra: { openMs: s * 1000, anonBytesPerKey: median(perKey), anonBytesPerStore: median(perStore) },
  };
}
