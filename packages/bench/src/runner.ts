/**
 * The run: resolves the stores, plans workload groups, and measures every store on every
 * group in turn (group by group, so slow drift of a shared machine spreads over all stores).
 *
 * Each store gets a fresh database per group, under one temporary directory of its own that is
 * removed at the end, on error, and (through `cleanup`) on interruption. Groups:
 *   fillseq | fillbatch | fillrandom → overwrite → readseq → readrandom → readmissing →
 *   deleterandom | readwhilewriting (on loaded data) | reopen (on loaded data; persistent
 *   stores only) | per thread count: fillrandom-tN → readrandom-tN (concurrent engines only).
 * A group whose first workload is not selected starts from an untimed load of every key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cpuSnapshot, otherCores } from './cpu';
import { machineInfo, mediumInfo, oneMinuteLoad, type MachineInfo, type MediumInfo } from './machine';
import { BATCH_SIZE, SAMPLE_EVERY, poolSizeFor, scalingThreads, type Options, type Workload } from './options';
import type { Progress } from './progress';
import { loadDriver, type StoreDriver, type StoreRef } from './stores';
import { createContext, type Context, type GroupEnv, type Measurement } from './workloads/context';
import { deleterandom } from './workloads/delete';
import { ASYNC_WINDOW, fillasync, fillbatch, fillrandom, fillseq, prefill } from './workloads/fill';
import { overwrite } from './workloads/overwrite';
import { read } from './workloads/read';
import { readwhilewriting } from './workloads/readwhilewriting';
import { reopen } from './workloads/reopen';
import type { Store } from './stores/store';
import { scalingFill, scalingRead } from './workloads/scaling';

export interface StoreInfo {
  readonly name: string;
  readonly kind: 'engine' | 'peer';
  readonly version: string;
  readonly durability: string;
  readonly methods: string;
  readonly atomicBatch: boolean;
  readonly concurrent: boolean;
  readonly capabilities?: Readonly<Record<string, unknown>>;
}

export interface BenchResult {
  readonly tool: string;
  /** When the run started (ISO 8601). */
  readonly date: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly medium: MediumInfo;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly stores: readonly StoreInfo[];
  /** Stores that were asked for but could not be loaded. */
  readonly skipped: readonly { name: string; kind: 'engine' | 'peer'; reason: string }[];
  /** results[store][workload] */
  readonly results: Readonly<Record<string, Readonly<Record<string, Measurement>>>>;
  readonly errors: readonly { store: string; workload: string; message: string }[];
  readonly notes: readonly string[];
}

interface Step {
  readonly workload: string;
  run(env: GroupEnv): Promise<Measurement>;
}

interface Group {
  readonly id: string;
  /** Untimed load of every key before the first step. */
  readonly load: boolean;
  readonly steps: readonly Step[];
  applies(driver: StoreDriver): boolean;
}

const all = () => true;
/** Stores whose data survive a close (volatile engines start empty when reopened). */
const reopens = (d: StoreDriver) => d.kind === 'peer' || d.capabilities?.['persistent'] === true;

/** The groups that cover the selected workloads, in run order. */
export function plan(options: Options): Group[] {
  const on = (w: Workload) => options.workloads.includes(w);
  const groups: Group[] = [];
  if (on('fillseq')) groups.push({ id: 'fillseq', load: false, steps: [{ workload: 'fillseq', run: (e) => fillseq(e.store, e.ctx, e.driver.name) }], applies: all });
  if (on('fillbatch')) groups.push({ id: 'fillbatch', load: false, steps: [{ workload: 'fillbatch', run: (e) => fillbatch(e.store, e.ctx, e.driver.name) }], applies: all });
  if (on('fillasync')) groups.push({ id: 'fillasync', load: false, steps: [{ workload: 'fillasync', run: (e) => fillasync(e.store, e.ctx, e.driver.name) }], applies: all });
  const randomSteps: Step[] = [];
  if (on('fillrandom')) randomSteps.push({ workload: 'fillrandom', run: (e) => fillrandom(e.store, e.ctx, e.driver.name) });
  if (on('overwrite')) randomSteps.push({ workload: 'overwrite', run: (e) => overwrite(e.store, e.ctx, e.driver.name) });
  for (const kind of ['readseq', 'readrandom', 'readmissing'] as const) {
    if (on(kind)) randomSteps.push({ workload: kind, run: (e) => read(e.store, e.ctx, e.driver.name, kind) });
  }
  if (on('deleterandom')) randomSteps.push({ workload: 'deleterandom', run: (e) => deleterandom(e.store, e.ctx, e.driver.name) });
  if (randomSteps.length > 0) groups.push({ id: 'random', load: !on('fillrandom'), steps: randomSteps, applies: all });
  if (on('readwhilewriting')) groups.push({ id: 'rww', load: true, steps: [{ workload: 'readwhilewriting', run: readwhilewriting }], applies: all });
  if (on('reopen')) groups.push({ id: 'reopen', load: true, steps: [{ workload: 'reopen', run: reopen }], applies: reopens });
  if (on('scaling')) {
    for (const t of scalingThreads(options)) {
      groups.push({
        id: `scaling-t${t}`,
        load: false,
        steps: [
          { workload: `fillrandom-t${t}`, run: (e) => scalingFill(e, t) },
          { workload: `readrandom-t${t}`, run: (e) => scalingRead(e, t) },
        ],
        applies: (d) => d.kind === 'engine' && d.concurrent,
      });
    }
  }
  return groups;
}

function info(d: StoreDriver): StoreInfo {
  return {
    name: d.name,
    kind: d.kind,
    version: d.version,
    durability: d.durability,
    methods: d.methods,
    atomicBatch: d.atomicBatch,
    concurrent: d.concurrent,
    ...(d.capabilities ? { capabilities: d.capabilities } : {}),
  };
}

/**
 * Engines to run: the asked ones, or every installed engine but blackhole and those that cannot
 * run this run's workloads (an engine of fixed-size keys and values that differ from
 * --key-size/--value-size, an async-only engine), which `leftOut` names with the reason.
 */
export function engineNames(options: Options, leftOut: string[] = []): string[] {
  if (options.engines !== undefined) return [...options.engines];
  const core = require('@pmemkv/core') as typeof import('@pmemkv/core');
  return core.listEngines().filter((n) => {
    if (n === 'blackhole') return false;
    const caps = core.findEngine(n).capabilities;
    if (caps.fixedSize !== undefined && (caps.fixedSize !== options.keySize || caps.fixedSize !== options.valueSize)) {
      leftOut.push(`${n} was left out: it takes keys and values of exactly ${caps.fixedSize} bytes (run it with --key-size ${caps.fixedSize} --value-size ${caps.fixedSize}, or name it in --engines)`);
      return false;
    }
    if (caps.sync === false) {
      leftOut.push(`${n} was left out: it is async-only (the workloads call the sync methods)`);
      return false;
    }
    return true;
  });
}

export interface RunHooks {
  readonly progress: Progress;
  /** Called with the run directory as soon as it exists (for removal on interruption). */
  readonly onRunDir?: (dir: string | undefined) => void;
  /** Called for every finished measurement and every error, e.g. to log it. */
  readonly onMeasurement?: (store: string, m: Measurement) => void;
  readonly onError?: (store: string, workload: string, message: string) => void;
  readonly onSkip?: (name: string, reason: string) => void;
  readonly command?: string;
}

async function runGroup(group: Group, driver: StoreDriver, ref: StoreRef, ctx: Context, runDir: string, record: (m: Measurement) => void): Promise<void> {
  const path = join(runDir, `${driver.name}-${group.id}${driver.kind === 'engine' ? '.pool' : ''}`);
  let store: Store | undefined = await driver.open(path, true);
  try {
    const env: GroupEnv = {
      get store(): Store {
        if (store === undefined) throw new Error('the store is closed');
        return store;
      },
      closeStore: async () => {
        const s = store;
        store = undefined;
        await s?.close();
      },
      openStore: async () => (store = await driver.open(path, false)),
      driver,
      ref,
      path,
      ctx,
    };
    if (group.load) await prefill(store, ctx, driver.name);
    for (const step of group.steps) {
      const before = cpuSnapshot();
      const m = await step.run(env);
      const other = otherCores(before, cpuSnapshot());
      record(Number.isFinite(other) ? { ...m, otherCpuCores: other } : m);
    }
  } finally {
    try {
      await store?.close();
    } finally {
      driver.destroy(path);
    }
  }
}

export async function runBench(options: Options, hooks: RunHooks): Promise<BenchResult> {
  const started = new Date();
  const loadAtStart = oneMinuteLoad();
  const runDir = mkdtempSync(join(options.dir, 'pmemkv-bench-'));
  hooks.onRunDir?.(runDir);
  try {
    const medium = mediumInfo(options.dir, runDir);
    const poolSize = poolSizeFor(options);
    const drivers: { driver: StoreDriver; ref: StoreRef }[] = [];
    const skipped: { name: string; kind: 'engine' | 'peer'; reason: string }[] = [];
    let engines: string[] = [];
    const leftOut: string[] = [];
    try {
      engines = engineNames(options, leftOut);
    } catch (err) {
      const reason = `@pmemkv/core could not list engines: ${(err as Error).message}`;
      skipped.push({ name: 'engines', kind: 'engine', reason });
      hooks.onSkip?.('engines', reason);
    }
    const refs: StoreRef[] = [
      ...engines.map((name) => ({ name, kind: 'engine' as const, poolSize })),
      ...options.peers.map((name) => ({ name, kind: 'peer' as const, poolSize })),
    ];
    for (const ref of refs) {
      try {
        drivers.push({ driver: loadDriver(ref, medium.isPmem ?? undefined), ref });
      } catch (err) {
        const reason = (err as Error).message;
        skipped.push({ name: ref.name, kind: ref.kind, reason });
        hooks.onSkip?.(ref.name, reason);
      }
    }
    const ctx = createContext(options, hooks.progress);
    const results: Record<string, Record<string, Measurement>> = {};
    const errors: { store: string; workload: string; message: string }[] = [];
    for (const { driver } of drivers) results[driver.name] = {};
    for (const group of plan(options)) {
      for (const { driver, ref } of drivers) {
        if (!group.applies(driver)) continue;
        let current = group.steps[0]!.workload;
        try {
          await runGroup(group, driver, ref, ctx, runDir, (m) => {
            results[driver.name]![m.workload] = m;
            hooks.onMeasurement?.(driver.name, m);
            const next = group.steps.findIndex((s) => s.workload === m.workload) + 1;
            if (next < group.steps.length) current = group.steps[next]!.workload;
          });
        } catch (err) {
          hooks.progress.end();
          const message = (err as Error).message;
          errors.push({ store: driver.name, workload: current, message });
          hooks.onError?.(driver.name, current, message);
        }
      }
    }
    return {
      tool: '@pmemkv/bench',
      date: started.toISOString(),
      command: hooks.command ?? '',
      machine: machineInfo(loadAtStart),
      medium,
      settings: {
        num: options.num,
        keySize: options.keySize,
        valueSize: options.valueSize,
        datasetBytes: options.num * (options.keySize + options.valueSize),
        threads: options.threads,
        scalingThreads: options.workloads.includes('scaling') ? scalingThreads(options) : [],
        workloads: options.workloads,
        repeat: options.repeat,
        seed: options.seed,
        poolSize,
        batchSize: BATCH_SIZE,
        sampleEvery: SAMPLE_EVERY,
        quick: options.quick,
      },
      stores: drivers.map((d) => info(d.driver)),
      skipped,
      results,
      errors,
      notes: [...leftOut, ...notes(options, medium, drivers.map((d) => d.driver))],
    };
  } finally {
    rmSync(runDir, { recursive: true, force: true });
    hooks.onRunDir?.(undefined);
  }
}

function notes(options: Options, medium: MediumInfo, drivers: StoreDriver[]): string[] {
  const out = [
    `Throughput is the wall time of each whole phase; latency percentiles come from timing one operation in ${SAMPLE_EVERY} with hrtime (fillbatch: every batch of ${BATCH_SIZE}).`,
    `Keys are ${options.keySize}-byte zero-padded decimal indices, values ${options.valueSize} bytes (half-compressible, as db_bench); every store replays the same seeded orders.`,
  ];
  if (medium.fsType === 'tmpfs') {
    out.push(
      'The medium is tmpfs: lmdb\'s msync/fdatasync and LevelDB\'s fsync find no device to write to, so a durable peer write costs its system calls but no device flush; pmemkv\'s persists are CPU cache flushes when libpmemobj sees (or is forced to see) pmem, msync system calls otherwise.',
    );
  }
  if (options.workloads.includes('fillasync')) {
    out.push(`fillasync keeps ${ASYNC_WINDOW} async puts in flight (pmemkv: db.promises.put, group-committed on engines with atomic batches; lmdb: awaited put; classic-level: put with sync); each counts once its promise resolved, durable.`);
  }
  if (options.workloads.includes('fillbatch')) {
    const atomic = drivers.filter((d) => d.atomicBatch).map((d) => d.name);
    const notAtomic = drivers.filter((d) => !d.atomicBatch).map((d) => d.name);
    out.push(
      `fillbatch writes batches of ${BATCH_SIZE}; a batch is atomic only on stores with transactions (${atomic.join(', ') || 'none'})${notAtomic.length ? `; on ${notAtomic.join(', ')} a batch is not atomic: its entries are applied (and, on a persistent engine, persisted) one by one` : ''}.`,
    );
  }
  if (options.repeat > 1) out.push(`readseq, readrandom and readmissing ran ${options.repeat} times each; the median run is reported.`);
  if (options.workloads.includes('readwhilewriting')) {
    out.push(`readwhilewriting: ${options.threads} reader(s) each doing ${options.num} random gets while one writer overwrites random keys; reported figure is the readers' combined throughput. Worker threads for stores that can share a path; async loops on the libuv pool for classic-level (LevelDB locks its directory per process).`);
  }
  if (options.workloads.includes('scaling')) {
    out.push(`fillrandom-tN / readrandom-tN: N worker threads on one store (concurrent engines only); the work is split between threads, so ideal scaling doubles ops/s from t1 to t2.`);
  }
  return out;
}
