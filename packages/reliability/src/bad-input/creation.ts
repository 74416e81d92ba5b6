/**
 * Pool creation under fire, part of the bad-input campaign (persistent engines):
 *   kills    a child creates a new pool with create_if_missing and is SIGKILLed at a random
 *            moment of it; then, as an application restarting would, a child opens the same
 *            path with create_if_missing. Each kill is one check: the restart succeeds (and
 *            the pool works) or gives a PmemkvError, never a signal or a hang, and it succeeds
 *            on a second restart too (no crash loop: an application that retries recovers).
 *   race     two children create the same new path at the same instant. Each check: neither
 *            dies, each one opened the pool or got a PmemkvError, at least one opened it, and
 *            the pool opens afterwards.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedEngine } from '../engines';
import { Rng } from '../random';
import type { Report } from '../report';
import { runChild, stderrHint } from '../spawn';
import { makeTempDir, removeTempDir } from '../temp';
import type { CreatorResult, CreatorSpec } from './creator';

const SIZE = 8 * 1024 * 1024;
const BATCH = 10;

function script(): string {
  return join(__dirname, 'creator.js');
}

function keyFor(e: LoadedEngine, who: string): string {
  const n = e.plugin.capabilities.fixedSize;
  return n !== undefined ? who.padStart(n, '_').slice(-n) : `key-of-${who}`;
}

async function runCreator(spec: CreatorSpec, killAfterLoadedMs?: number): Promise<{ results: (CreatorResult | undefined)[]; exit: string; hint: string; created: boolean }> {
  const results: (CreatorResult | undefined)[] = spec.paths.map(() => undefined);
  let created = false;
  const end = await runChild(script(), [JSON.stringify(spec)], {
    timeoutMs: 60_000,
    onLine: (line, control) => {
      if (line === 'loaded' && killAfterLoadedMs !== undefined) setTimeout(() => control.kill(), killAfterLoadedMs);
      else if (line === 'created') created = true;
      else if (line.startsWith('result ')) {
        const [, i, json] = /^result (\d+) (.*)$/s.exec(line) ?? [];
        results[Number(i)] = JSON.parse(json!) as CreatorResult;
      }
    },
  });
  return { results, exit: end.exit, hint: stderrHint(end.stderr), created };
}

function base(e: LoadedEngine, mode: CreatorSpec['mode'], paths: string[], flags: Record<string, unknown>, who: string): CreatorSpec {
  const n = e.plugin.capabilities.fixedSize;
  return { mode, packageDir: e.packageDir, engine: e.name, paths, size: SIZE, flags, key: keyFor(e, who), value: n !== undefined ? 'v'.repeat(n) : `value-of-${who}` };
}

function showResult(r: CreatorResult | undefined): string {
  if (r === undefined) return 'no result';
  return r.opened ? `opened${r.readBack === false ? ' but read back a different value' : ''}` : `${r.error?.name} ${r.error?.code ?? ''}: ${r.error?.message}`;
}

export async function creationKills(report: Report, e: LoadedEngine, seed: number, kills: number): Promise<void> {
  const rng = new Rng(seed);
  // How long one creation takes here: the kills land across that window.
  const probeDir = makeTempDir(`create-probe-${e.name}`);
  let window = 300;
  try {
    const t0 = Date.now();
    const probe = await runCreator(base(e, 'create', [join(probeDir, 'pool')], {}, 'probe'));
    if (!probe.created) {
      report.fail(e.name, `creation kills: creating a pool failed by itself (${probe.exit})${probe.hint}`);
      return;
    }
    window = Math.max(50, Date.now() - t0);
  } finally {
    removeTempDir(probeDir);
  }
  for (let done = 0; done < kills; done += BATCH) {
    const dir = makeTempDir(`create-kill-${e.name}`);
    try {
      const paths: string[] = [];
      const delays: number[] = [];
      for (let i = 0; i < Math.min(BATCH, kills - done); i++) {
        const path = join(dir, `pool-${i}`);
        const delay = rng.int(window);
        const run = await runCreator(base(e, 'create', [path], {}, 'killed'), delay);
        if (run.exit !== 'SIGKILL' && !run.created) {
          report.fail(e.name, `creation kill ${done + i} (seed ${seed}): the creating child failed by itself (${run.exit})${run.hint}`);
          continue;
        }
        paths.push(path);
        delays.push(delay);
      }
      for (const attempt of ['restart', 'second restart']) {
        const restart = await runCreator(base(e, 'restart', paths, { create_if_missing: 1 }, 'restart'));
        paths.forEach((path, i) => {
          const r = restart.results[i];
          const where = `creation kill ${done + i} (seed ${seed}, killed ${delays[i]} ms into a ~${window} ms creation), ${attempt}`;
          if (r === undefined) report.fail(e.name, `${where}: the restarting child died (${restart.exit})${restart.hint}`);
          else if (r.opened && r.readBack !== false) report.pass();
          else if (!r.opened && r.error?.name === 'PmemkvError' && attempt === 'restart') report.pass();
          else report.fail(e.name, `${where}: ${showResult(r)}`);
        });
        if (restart.results.some((r) => r === undefined)) break;
      }
      const leftovers = readdirSync(dir).filter((f) => f.includes('pmemkv-creating'));
      if (leftovers.length > 0) report.fail(e.name, `creation kills: temporary files of dead creators left after restarts: ${leftovers.join(', ')}`);
      else report.pass();
    } finally {
      removeTempDir(dir);
    }
  }
}

export async function creationRaces(report: Report, e: LoadedEngine, seed: number, races: number): Promise<void> {
  for (let i = 0; i < races; i++) {
    const dir = makeTempDir(`create-race-${e.name}`);
    try {
      const path = join(dir, 'pool');
      const flags = i % 3 === 2 ? { create_or_error_if_exists: 1 } : { create_if_missing: 1 };
      const startAt = Date.now() + 1500;
      const [a, b] = await Promise.all(['racer-a', 'racer-b'].map((who) => runCreator({ ...base(e, 'race', [path], flags, who), startAt })));
      const where = `creation race ${i} (seed ${seed}, ${Object.keys(flags)[0]})`;
      const problems: string[] = [];
      for (const [who, run] of [['a', a!], ['b', b!]] as const) {
        const r = run.results[0];
        if (r === undefined) problems.push(`racer ${who} died (${run.exit})${run.hint}`);
        else if (!r.opened && r.error?.name !== 'PmemkvError') problems.push(`racer ${who}: ${showResult(r)}`);
        else if (r.opened && r.readBack === false) problems.push(`racer ${who} read back another value`);
      }
      const opened = [a!, b!].map((run) => run.results[0]?.opened === true);
      if (problems.length === 0 && !opened.some(Boolean)) problems.push(`neither racer opened the pool: a: ${showResult(a!.results[0])}; b: ${showResult(b!.results[0])}`);
      if (problems.length === 0) {
        const after = await runCreator(base(e, 'restart', [path], {}, 'after'));
        const r = after.results[0];
        if (r === undefined || !r.opened) problems.push(`the pool does not open after the race: ${r ? showResult(r) : after.exit}`);
      }
      if (problems.length === 0) report.pass();
      else report.fail(e.name, `${where}: ${problems.join('; ')}`);
    } finally {
      removeTempDir(dir);
    }
  }
}
