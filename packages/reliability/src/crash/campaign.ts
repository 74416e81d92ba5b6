/**
 * The crash campaign (`node dist/crash/campaign.js [--mode ci|long] [--seed N] [--count N]
 * [--engines a,b]`), persistent engines only; volatile engines are listed as skipped.
 *
 * Random mode: a writer child (child.ts) runs a seeded random mix of puts, overwrites (0 B to
 * 64 KiB), removes and batches on one pool, acknowledging each; the parent SIGKILLs it at a
 * random moment; the next child reopens the pool and reports what it holds before writing on.
 * Each kill is one check: every acknowledged write there, every acknowledged remove gone, the
 * operation in flight old or new (a batch whole or absent on engines with atomic batches),
 * nothing torn, no stray key, walk, get, countAll and iteration agreeing, sorted walks in order.
 *
 * Deterministic mode: a short scripted run (put, overwrite, remove, batch, repeated) is first
 * run once with the barrier shim counting its persist barriers (B); then for every N in 1..B a
 * fresh copy of the same empty pool runs the same script and the shim SIGKILLs it at barrier N.
 * Each N is one check, judged as above.
 *
 * Sizes: --count is the number of random kills per engine. CI: 100 random kills shared among
 * the persistent engines (at least 10 each), deterministic run of 4 operations. Long: 1,000
 * random kills per engine, deterministic run of 24 operations.
 */
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Rng as Random } from '../random';
import { makeTempDir, removeTempDir } from '../temp';
import { parseArgs } from '../cli';
import { discoverEngines, type LoadedEngine } from '../engines';
import { Report, runMain } from '../report';
import { deriveSeed } from '../seeds';
import { runChild, stderrHint } from '../spawn';
import { candidates, describeDifferences, replay, sameState, type Model } from './judge';
import type { CrashSpec } from './plan';
import { barrierShim } from './shim';
import type { DumpedState } from './state';

const MiB = 1024 * 1024;
const RANDOM_POOL = 128 * MiB;
const SCRIPT_POOL = 32 * MiB;
const KEYS = 64;
const CHILD_TIMEOUT_MS = 60_000;

interface Run {
  readonly state?: DumpedState;
  readonly ready: boolean;
  readonly lastAck: number;
  readonly finished: boolean;
  readonly exit: string;
  readonly stderrHint: string;
}

/** Runs one writer child; `killAfterMs` (after `ready`) is the random mode's kill. */
async function writer(spec: CrashSpec, killAfterMs: number | undefined, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let state: DumpedState | undefined;
  let ready = false;
  let lastAck = -1;
  let finished = false;
  let ackError = '';
  const end = await runChild(join(__dirname, 'child.js'), [JSON.stringify(spec)], {
    env,
    timeoutMs: CHILD_TIMEOUT_MS,
    onLine: (line, control) => {
      if (line.startsWith('state ')) state = JSON.parse(line.slice(6)) as DumpedState;
      else if (line === 'ready') {
        ready = true;
        if (killAfterMs !== undefined) setTimeout(() => control.kill(), killAfterMs);
      } else if (line === 'done') finished = true;
      else if (line.startsWith('ack ')) {
        const seq = Number(line.slice(4));
        if (seq !== lastAck + 1 && ackError === '') ackError = `acknowledged ${seq} after ${lastAck}`;
        lastAck = seq;
      }
    },
  });
  if (ackError !== '') throw new Error(`crash child protocol broken: ${ackError}`);
  return { ...(state ? { state } : {}), ready, lastAck, finished, exit: end.exit, stderrHint: stderrHint(end.stderr) };
}

/** Judges `found` against the plan run that preceded it; returns the failure text or ''. */
function judge(start: Model, spec: CrashSpec, run: Run, found: DumpedState, atomicBatch: boolean): string {
  const { acked, inFlight } = replay(start, spec, run.lastAck, run.finished);
  const problems = found.problems.slice(0, 3);
  const ok = candidates(acked, inFlight, atomicBatch).some((c) => sameState(c, found.digests));
  if (!ok) problems.unshift(`state after ${run.lastAck + 1} acknowledged ops${inFlight ? ` (a ${inFlight.type} in flight)` : ''} is neither old nor new: ${describeDifferences(acked, found.digests)}`);
  return problems.join('; ');
}

function specFor(e: LoadedEngine, seed: number, round: number, config: Record<string, unknown>, shape: CrashSpec['shape'], ops: number): CrashSpec {
  const caps = e.plugin.capabilities;
  return {
    packageDir: e.packageDir,
    engine: e.name,
    config,
    seed,
    round,
    keys: KEYS,
    ...(caps.fixedSize !== undefined ? { fixedSize: caps.fixedSize } : {}),
    ...(caps.maxKeySize !== undefined && Number.isFinite(caps.maxKeySize) ? { maxKeySize: caps.maxKeySize } : {}),
    ops,
    shape,
  };
}

async function randomKills(report: Report, e: LoadedEngine, seed: number, kills: number): Promise<void> {
  const dir = makeTempDir(`crash-${e.name}`);
  try {
    const config = { path: join(dir, 'pool'), size: RANDOM_POOL, create_if_missing: 1 };
    const rng = new Random(seed);
    let model: Model = new Array<null>(KEYS).fill(null);
    let previous: { spec: CrashSpec; run: Run; delay: number } | undefined;
    for (let round = 0; round <= kills; round++) {
      const last = round === kills;
      const spec = specFor(e, seed, round, config, 'random', last ? 0 : 10_000_000);
      const delay = rng.chance(0.25) ? rng.between(0, 5) : rng.between(5, 250);
      const run = await writer(spec, last ? undefined : delay);
      const where = `seed ${seed}, random kill ${round}`;
      const judged = `seed ${seed}, random kill ${round - 1} (${(previous?.run.lastAck ?? -1) + 1} ops acknowledged, killed ${previous?.delay ?? 0} ms after ready)`;
      if (run.state === undefined) {
        if (previous) report.fail(e.name, `${judged}: reopening after the kill failed (${run.exit})${run.stderrHint}`);
        else report.fail(e.name, `${where}: the writer never opened the pool (${run.exit})${run.stderrHint}`);
        return;
      }
      if (previous) {
        const failure = judge(model, previous.spec, previous.run, run.state, e.plugin.capabilities.transactions);
        if (failure === '') report.pass();
        else report.fail(e.name, `${judged}: ${failure}`);
      }
      model = run.state.digests;
      if (!last && run.exit !== 'SIGKILL' && !run.finished) {
        report.fail(e.name, `${where}: the writer failed by itself (${run.exit}) after ${run.lastAck + 1} ops${run.stderrHint}`);
        return;
      }
      previous = { spec, run, delay };
    }
  } finally {
    removeTempDir(dir);
  }
}

async function barrierKills(report: Report, e: LoadedEngine, seed: number, ops: number, shim: string): Promise<number> {
  const dir = makeTempDir(`barrier-${e.name}`);
  try {
    const template = join(dir, 'template');
    const work = [join(dir, 'work-a'), join(dir, 'work-b')];
    const create = await writer(specFor(e, seed, 0, { path: template, size: SCRIPT_POOL, create_if_missing: 1 }, 'script', 0), undefined);
    if (!create.finished) {
      report.fail(e.name, `barrier mode: creating the template pool failed (${create.exit})${create.stderrHint}`);
      return 0;
    }
    const countFile = join(dir, 'barriers');
    const script = (path: string) => specFor(e, seed, 1, { path, size: SCRIPT_POOL }, 'script', ops);
    copyFileSync(template, work[0]!);
    const dry = await writer(script(work[0]!), undefined, { LD_PRELOAD: shim, PMEMKV_BARRIER_KILL_AT: '0', PMEMKV_BARRIER_COUNT_FILE: countFile });
    if (!dry.finished) {
      report.fail(e.name, `barrier mode: the counting run failed (${dry.exit})${dry.stderrHint}`);
      return 0;
    }
    const barriers = Number(readFileSync(countFile, 'utf8').trim());
    const empty: Model = new Array<null>(KEYS).fill(null);
    // Kill N runs on one copy of the template while reading back kill N-1's copy: one child each.
    let previous: { spec: CrashSpec; run: Run; where: string } | undefined;
    const judgePrevious = (state: DumpedState | undefined, exit: string, hint: string) => {
      if (previous === undefined) return;
      if (state === undefined) report.fail(e.name, `${previous.where}: reopening after the kill failed (${exit})${hint}`);
      else {
        const failure = judge(empty, previous.spec, previous.run, state, e.plugin.capabilities.transactions);
        if (failure === '') report.pass();
        else report.fail(e.name, `${previous.where}: ${failure}`);
      }
      previous = undefined;
    };
    for (let n = 1; n <= barriers + 1; n++) {
      const path = work[n % 2]!;
      rmSync(path, { force: true });
      copyFileSync(template, path);
      const verify = previous !== undefined ? { verify: previous.spec.config } : {};
      const spec: CrashSpec = { ...script(path), ...(n > barriers ? { ops: 0 } : {}) };
      const run = await writer({ ...spec, ...verify }, undefined, { LD_PRELOAD: shim, PMEMKV_BARRIER_KILL_AT: String(n > barriers ? 0 : n) });
      const readBack = previous !== undefined;
      judgePrevious(run.state, run.exit, run.stderrHint);
      if (n > barriers) break;
      if (readBack && run.state === undefined) {
        n--; // reading back the last kill's pool failed (judged above): run this kill again alone
        continue;
      }
      const where = `seed ${seed}, kill at persist barrier ${n} of ${barriers} (${ops}-op script)`;
      if (run.exit !== 'SIGKILL' && !run.finished) {
        report.fail(e.name, `${where}: the writer failed by itself (${run.exit})${run.stderrHint}`);
        continue;
      }
      previous = { spec, run, where };
    }
    return barriers;
  } finally {
    removeTempDir(dir);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const report = new Report('crash');
  const engines = discoverEngines(args.engines);
  const persistent = engines.filter((e): e is LoadedEngine => e.kind === 'loaded' && e.plugin.capabilities.persistent);
  const kills = args.count ?? (args.mode === 'long' ? 1000 : Math.max(10, Math.ceil(100 / Math.max(1, persistent.length))));
  const scriptOps = args.mode === 'long' ? 24 : 4;
  report.note(`mode ${args.mode}, seed ${args.seed}: ${kills} random kills per persistent engine, and a kill at every persist barrier of a ${scriptOps}-op script`);
  for (const e of engines) {
    if (e.kind === 'broken') report.fail(e.name, e.reason);
    else if (e.kind === 'excluded') report.note(`${e.name} excluded: ${e.reason}`);
    else if (e.kind === 'loaded' && !e.plugin.capabilities.persistent) report.note(`${e.name} skipped: volatile (nothing survives a crash, so there is nothing to reopen)`);
  }
  const shim = barrierShim();
  for (const e of persistent) {
    const seed = deriveSeed(args.seed, e.name);
    const before = report.passed + report.failed;
    await randomKills(report, e, seed, kills);
    const barriers = await barrierKills(report, e, deriveSeed(seed, 'barrier'), scriptOps, shim);
    report.note(`${e.name}: ${report.passed + report.failed - before} kills judged (${barriers} persist barriers in the script)`);
  }
  report.finish();
}

runMain('crash', main);
