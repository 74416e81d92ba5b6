/**
 * The bad-input campaign (`node dist/bad-input/campaign.js [--mode ci|long] [--seed N]
 * [--count N] [--engines a,b]`): every row of the table (table.ts; files and damaged pools
 * from files.ts and damage.ts for persistent engines) run in child processes (child.ts), one
 * check each, judged against the row's expectation; plus, for persistent engines, pool
 * creation killed at random moments and two processes creating one path (creation.ts).
 *
 * Children are batched: one child runs the rows from where the last one stopped; a row that
 * kills its child (a signal, an abort) or hangs it (no result within ROW_TIMEOUT_MS) is a
 * failure, and a new child resumes at the next row.
 *
 * Sizes: --count is creation kills per persistent engine (the table is always run whole).
 * CI: 100 creation kills shared among the persistent engines (at least 10 each), 3 races each.
 * Long: 200 creation kills and 30 races per persistent engine.
 */
import { join } from 'node:path';
import { parseArgs } from '../cli';
import { discoverEngines, type LoadedEngine } from '../engines';
import { Report, runMain } from '../report';
import { deriveSeed } from '../seeds';
import { runChild, stderrHint } from '../spawn';
import { makeTempDir, removeTempDir } from '../temp';
import { casesFor, poolCases, type Case } from './table';
import type { Observation, RunnerSpec } from './child';
import { creationKills, creationRaces } from './creation';
import { prepareFiles, remakeDamaged, type PoolSources, type PreparedFiles } from './files';
import { describe as describeValue } from './values';

const MiB = 1024 * 1024;
const BASE_POOL_SIZE = 8 * MiB;
const BASE_KEYS = 2000;
const ROW_TIMEOUT_MS = 20_000;

function show(obs: Observation | undefined): string {
  if (obs === undefined) return 'no result';
  if (obs.error === undefined) return 'no error (the input was accepted)';
  const e = obs.error;
  return `${e.pmemkv ? 'PmemkvError' : e.name} ${e.code ?? '(no code)'} at ${obs.at}: ${e.message.replace(/\s+/g, ' ').slice(0, 260)}`;
}

function isDamagedError(obs: Observation): boolean {
  const e = obs.error;
  return e !== undefined && e.pmemkv && e.code === 'UNKNOWN_ERROR' && e.message.includes('damaged') && e.message.includes('pmempool check');
}

/** '' when `obs` meets the row's expectation, else what is wrong. */
function judge(c: Case, obs: Observation): string {
  const x = c.expect;
  if (x.kind === 'error') {
    const e = obs.error;
    if (e === undefined || !e.pmemkv || !x.codes.includes(e.code as never)) return `expected PmemkvError ${x.codes.join(' or ')}, got ${show(obs)}`;
    const missing = (x.contains ?? []).filter((s) => !e.message.includes(s));
    if (missing.length > 0) return `expected a message containing ${missing.map((m) => JSON.stringify(m)).join(', ')}, got ${show(obs)}`;
    if (!/^[\x20-\x7e]*$/.test(e.message)) return `the message holds unprintable characters: ${JSON.stringify(e.message.slice(0, 200))}`;
    return '';
  }
  if (x.kind === 'damaged') return isDamagedError(obs) ? '' : `expected the damaged-pool error (UNKNOWN_ERROR, "damaged", "pmempool check"), got ${show(obs)}`;
  return isDamagedError(obs) || obs.error === undefined ? '' : `expected the damaged-pool error or a pool that survives the exercise, got ${show(obs)}`;
}

interface Row {
  readonly index: number;
  readonly c: Case;
  readonly checkOnOpen?: boolean;
}

/** Runs `rows` in as few children as their crashes allow; returns each row's observation or how its child died. */
async function runRows(spec: Omit<RunnerSpec, 'cases'>, rows: readonly Row[]): Promise<Map<number, Observation | { died: string }>> {
  const out = new Map<number, Observation | { died: string }>();
  let next = 0;
  while (next < rows.length) {
    const slice = rows.slice(next);
    let started = false;
    let hung = false;
    let timer: NodeJS.Timeout | undefined;
    const end = await runChild(join(__dirname, 'child.js'), [JSON.stringify({ ...spec, cases: slice })], {
      timeoutMs: ROW_TIMEOUT_MS * (slice.length + 2),
      onLine: (line, control) => {
        if (line.startsWith('start ')) {
          started = true;
          clearTimeout(timer);
          timer = setTimeout(() => {
            hung = true;
            control.kill();
          }, ROW_TIMEOUT_MS);
        } else if (line.startsWith('result ')) {
          clearTimeout(timer);
          const m = /^result (\d+) (.*)$/s.exec(line);
          if (m) out.set(Number(m[1]), JSON.parse(m[2]!) as Observation);
        }
      },
    });
    clearTimeout(timer);
    const missing = slice.findIndex((r) => !out.has(r.index));
    if (missing < 0) break;
    const died = `${hung ? `hung: no result within ${ROW_TIMEOUT_MS} ms` : end.exit}${stderrHint(end.stderr)}`;
    if (!started) {
      // The child died before its first row: nothing here can run.
      for (const r of slice) out.set(r.index, { died: `the runner could not start (${died})` });
      break;
    }
    out.set(slice[missing]!.index, { died });
    next += missing + 1;
  }
  return out;
}

/** Makes the engine's base pool in a child; its path, or the reason it failed. */
async function prepareBase(e: LoadedEngine, dir: string): Promise<{ path?: string; why: string }> {
  const path = join(dir, `${e.name}-base-pool`);
  const fixedSize = e.plugin.capabilities.fixedSize;
  let ok = false;
  const end = await runChild(join(__dirname, 'prepare.js'), [JSON.stringify({ packageDir: e.packageDir, engine: e.name, path, size: BASE_POOL_SIZE, keys: BASE_KEYS, ...(fixedSize !== undefined ? { fixedSize } : {}) })], {
    timeoutMs: 120_000,
    onLine: (line) => {
      if (line === 'done') ok = true;
    },
  });
  return ok ? { path, why: '' } : { why: `${end.exit}${stderrHint(end.stderr)}` };
}

async function runEngine(report: Report, e: LoadedEngine, seed: number, bases: ReadonlyMap<string, string>): Promise<number> {
  const caps = e.plugin.capabilities;
  const dir = makeTempDir(`bad-${e.name}`);
  try {
    const persistent = caps.persistent;
    const good = persistent ? { path: join(dir, 'good-pool'), size: BASE_POOL_SIZE, create_if_missing: 1 } : {};
    const closed = persistent ? { path: join(dir, 'closed-pool'), size: BASE_POOL_SIZE, create_if_missing: 1 } : {};
    const createPath = join(dir, 'new-pool');
    const goodCreate = persistent ? { path: createPath, size: BASE_POOL_SIZE, create_if_missing: 1 } : {};
    const engineKeys = Object.keys(e.plugin.configSchema.properties ?? {});
    const rows: Case[] = casesFor({ name: e.name, caps, engineKeys }, good, goodCreate);
    let files: PreparedFiles | undefined;
    let sources: PoolSources | undefined;
    if (persistent) {
      const base = bases.get(e.name);
      if (base === undefined) report.fail(e.name, 'no base pool could be made, so files and damaged pools were not tried (see the failure above)');
      else {
        const other = [...bases].find(([name]) => name !== e.name);
        sources = { base, size: BASE_POOL_SIZE, ...(other ? { otherEngine: { engine: other[0], path: other[1] } } : {}) };
        files = prepareFiles(dir, e.name, sources, seed);
        rows.push(...poolCases(files.cases));
        for (const label of files.notBuilt) report.note(`${e.name}: not built for this pool: ${label}`);
      }
    }
    const spec: Omit<RunnerSpec, 'cases'> = {
      packageDir: e.packageDir,
      engine: e.name,
      good,
      closed,
      ...(persistent ? { createPath } : {}),
      poolBase: { size: BASE_POOL_SIZE },
      files: files?.paths ?? {},
      baseKeys: BASE_KEYS,
      ...(caps.fixedSize !== undefined ? { fixedSize: caps.fixedSize } : {}),
    };
    const indexed: Row[] = rows.map((c, index) => ({ index, c }));
    const results = await runRows(spec, indexed);
    const retry: Row[] = [];
    for (const row of indexed) {
      const got = results.get(row.index);
      const label = `#${row.index} [${row.c.group}] ${row.c.name}${row.c.action.t === 'call' || row.c.action.t === 'iterate' ? ` ${describeArgs(row.c)}` : ''}`;
      const failure = got === undefined ? 'no result' : 'died' in got ? `the child died: ${got.died}` : judge(row.c, got);
      if (process.env.PMEMKV_RELIABILITY_VERBOSE === '1') report.note(`${e.name}: ${label}: ${got === undefined || 'died' in got ? 'died' : show(got)}`);
      if (failure === '') report.pass();
      else if (row.c.expect.kind === 'internal' && row.c.action.t === 'pool' && files && sources) {
        retry.push({ index: row.index, c: row.c, checkOnOpen: true });
        remakeDamaged(sources, files.paths[row.c.action.file]!, files.damaged[row.c.action.file]!);
        report.note(`${e.name}: ${label}: without check_on_open: ${failure}; retrying with check_on_open: 1`);
      } else report.fail(e.name, `${label}: ${failure}`);
    }
    if (retry.length > 0) {
      const again = await runRows(spec, retry);
      for (const row of retry) {
        const got = again.get(row.index);
        const failure = got === undefined ? 'no result' : 'died' in got ? `the child died: ${got.died}` : judge({ ...row.c, expect: { kind: 'damaged' } }, got);
        if (failure === '' || (got !== undefined && !('died' in got) && got.error === undefined)) report.pass();
        else report.fail(e.name, `#${row.index} [${row.c.group}] ${row.c.name}, with check_on_open: 1: ${failure}`);
      }
    }
    return rows.length;
  } finally {
    removeTempDir(dir);
  }
}

function describeArgs(c: Case): string {
  const a = c.action;
  if (a.t === 'call') return `(${a.args.map(describeValue).join(', ')})${a.on === 'closed' ? ' on a closed database' : ''}`;
  if (a.t === 'iterate') return `(${describeValue(a.options)})${a.on === 'closed' ? ' on a closed database' : ''}`;
  return '';
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const report = new Report('bad-input');
  const engines = discoverEngines(args.engines);
  const loaded = engines.filter((e): e is LoadedEngine => e.kind === 'loaded');
  const persistent = loaded.filter((e) => e.plugin.capabilities.persistent);
  const kills = args.count ?? (args.mode === 'long' ? 200 : Math.max(10, Math.ceil(100 / Math.max(1, persistent.length))));
  const races = args.mode === 'long' ? 30 : 3;
  report.note(`mode ${args.mode}, seed ${args.seed}: the whole table per engine; ${kills} creation kills and ${races} creation races per persistent engine`);
  for (const e of engines) {
    if (e.kind === 'broken') report.fail(e.name, e.reason);
    else if (e.kind === 'excluded') report.note(`${e.name} excluded: ${e.reason}`);
  }
  const baseDir = makeTempDir('bad-bases');
  try {
    const bases = new Map<string, string>();
    for (const e of persistent) {
      const made = await prepareBase(e, baseDir);
      if (made.path !== undefined) bases.set(e.name, made.path);
      else report.fail(e.name, `making a base pool of ${BASE_KEYS} pairs failed: ${made.why}`);
    }
    for (const e of loaded) {
      const seed = deriveSeed(args.seed, e.name);
      const before = report.passed + report.failed;
      const rows = await runEngine(report, e, seed, bases);
      if (!e.plugin.capabilities.persistent) report.note(`${e.name}: volatile: no files, damaged pools or creation (there is no pool)`);
      else {
        await creationKills(report, e, deriveSeed(seed, 'kills'), kills);
        await creationRaces(report, e, deriveSeed(seed, 'races'), races);
      }
      report.note(`${e.name}: ${rows} table rows; ${report.passed + report.failed - before} checks`);
    }
  } finally {
    removeTempDir(baseDir);
  }
  report.finish();
}

runMain('bad-input', main);
