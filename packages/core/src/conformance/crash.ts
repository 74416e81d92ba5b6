/**
 * Crash consistency (persistent engines): a writer child process (crash-child.ts) runs a
 * deterministic plan of puts, overwrites with values of other lengths, removes and batches on
 * one pool and acknowledges each operation after it returns; the parent kills it with SIGKILL
 * at a random moment, reopens the pool and checks:
 * - every acknowledged operation is there: each key holds exactly the value of its last
 *   acknowledged put, or is absent after an acknowledged remove;
 * - the one operation in flight at the kill left the old state or the new one (a batch: all or
 *   nothing on engines with `transactions`, else a prefix of its operations);
 * - nothing is torn: no value differs from one the plan wrote, no key outside the plan exists,
 *   a full walk sees each key once with the value `get` returns, in key order on sorted
 *   engines, and countAll (and a full iteration) equals the number of entries walked.
 * Several rounds run on the same pool, each resuming from the state the last one verified.
 * Batches hold 2 to 200 operations. Rounds: 5 (times the suite's scale), or
 * PMEMKV_CONFORMANCE_CRASH_ROUNDS for the long mode (e.g. 200 kills per engine).
 */
import { describe, expect } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../index';
import { crashKey, crashPlan, type CrashSpec, type PlanOp, type SimpleOp } from './crash-plan';
import { runAndKill } from './kill-child';
import { showBytes } from './model';
import type { Suite } from './suite';

/** State of the plan's keys: key id -> value; absent ids are absent keys. */
type KeyState = Map<number, Buffer>;

/** The compiled child script (next to this file in dist/, or in dist/ when this runs from src/). */
export function crashChildScript(): string {
  for (const candidate of [join(__dirname, 'crash-child.js'), join(__dirname, '..', '..', 'dist', 'conformance', 'crash-child.js')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`crash-child.js is missing next to ${__dirname}: build @pmemkv/core first (pnpm run build)`);
}

function applySimple(state: KeyState, op: SimpleOp): void {
  if (op.type === 'put') state.set(op.key, op.value);
  else state.delete(op.key);
}

function apply(state: KeyState, op: PlanOp): void {
  if (op.type === 'batch') op.ops.forEach((o) => applySimple(state, o));
  else applySimple(state, op);
}

/** The states the in-flight operation may have left, starting from `before`. */
function candidates(before: KeyState, op: PlanOp | undefined, transactions: boolean): KeyState[] {
  const out: KeyState[] = [before];
  if (op === undefined) return out;
  if (op.type !== 'batch') {
    const after = new Map(before);
    apply(after, op);
    out.push(after);
    return out;
  }
  let prefix = new Map(before);
  op.ops.forEach((o, i) => {
    prefix = new Map(prefix);
    applySimple(prefix, o);
    if (!transactions || i === op.ops.length - 1) out.push(prefix);
  });
  return out;
}

function show(v: Buffer | undefined): string {
  if (v === undefined) return '<absent>';
  return `${showBytes(v.subarray(0, 24))}${v.length > 24 ? '...' : ''} (${v.length} B)`;
}

/**
 * Reads every plan key and walks the whole database; returns the state found and a list of
 * problems that no in-flight outcome can explain (stray keys, walk/get disagreements, order,
 * countAll).
 */
function readState(s: Suite, db: Database<Buffer, Buffer>, spec: CrashSpec): { state: KeyState; problems: string[] } {
  const problems: string[] = [];
  const state: KeyState = new Map();
  const idOf = new Map<string, number>();
  for (let id = 0; id < spec.keys; id++) {
    const key = crashKey(spec, id);
    idOf.set(key.toString('latin1'), id);
    const v = db.get(key);
    if (v !== undefined) state.set(id, v);
    if (db.exists(key) !== (v !== undefined)) problems.push(`exists(crash key ${id}) disagrees with get`);
  }
  const walked: Buffer[] = [];
  const seen = new Set<number>();
  db.getAll((k, v) => {
    walked.push(k);
    const id = idOf.get(k.toString('latin1'));
    if (id === undefined) {
      problems.push(`a full walk found a key the plan never wrote: ${show(k)}`);
      return;
    }
    if (seen.has(id)) problems.push(`a full walk saw crash key ${id} twice`);
    seen.add(id);
    const got = state.get(id);
    if (got === undefined || !got.equals(v)) problems.push(`a full walk saw crash key ${id} = ${show(v)} but get returned ${show(got)}`);
  });
  for (const id of state.keys()) if (!seen.has(id)) problems.push(`crash key ${id} is readable with get but a full walk missed it`);
  if (s.caps.sorted) {
    for (let i = 1; i < walked.length; i++) {
      if (Buffer.compare(walked[i - 1]!, walked[i]!) >= 0) {
        problems.push(`a full walk is out of order at ${show(walked[i - 1])} then ${show(walked[i])}`);
        break;
      }
    }
  }
  if (s.caps.iterators) {
    const iterated = [...db.keys()];
    if (iterated.length !== walked.length) problems.push(`keys() yields ${iterated.length} keys but a full walk saw ${walked.length}`);
  }
  const count = db.countAll();
  if (count !== walked.length) problems.push(`countAll is ${count} but a full walk saw ${walked.length} entries`);
  return { state, problems };
}

function differences(expected: KeyState, actual: KeyState, keys: number): string[] {
  const out: string[] = [];
  for (let id = 0; id < keys; id++) {
    const e = expected.get(id);
    const a = actual.get(id);
    if (e === undefined ? a !== undefined : a === undefined || !e.equals(a)) out.push(`crash key ${id}: expected ${show(e)}, found ${show(a)}`);
  }
  return out;
}

/** Rounds (kills) of the crash test: PMEMKV_CONFORMANCE_CRASH_ROUNDS (the long mode, e.g. 200), else 5 scaled. */
function crashRounds(s: Suite): number {
  const env = Number(process.env.PMEMKV_CONFORMANCE_CRASH_ROUNDS);
  return Number.isInteger(env) && env > 0 ? env : s.n(5);
}

export function crash(s: Suite): void {
  const rounds = crashRounds(s);

  describe('crash consistency', () => {
    s.usePool();

    s.test(
      `acknowledged writes survive SIGKILL at random moments, nothing torn (${rounds} rounds)`,
      async (rng) => {
        let model: KeyState = new Map();
        const seed = rng.uint32();
        for (let round = 0; round < rounds; round++) {
          const spec: CrashSpec = {
            engine: s.engine,
            ...(s.options.pluginModule !== undefined ? { pluginModule: s.options.pluginModule } : {}),
            config: round === 0 ? s.pool.config() : s.pool.reopenConfig(),
            seed,
            round,
            keys: s.n(200),
            ...(s.caps.fixedSize !== undefined ? { fixedSize: s.caps.fixedSize } : {}),
            ...(s.caps.maxKeySize !== undefined ? { maxKeySize: s.caps.maxKeySize } : {}),
            maxOps: 2_000_000,
          };
          const killAfter = rng.between(20, 500);
          const run = await runAndKill(crashChildScript(), [JSON.stringify(spec)], killAfter);
          if (!run.ready) throw new Error(`round ${round}: the crash child never opened the pool (${run.exit}): ${run.stderr}`);
          if (run.exit !== 'SIGKILL' && !run.finished) throw new Error(`round ${round}: the crash child failed (${run.exit}): ${run.stderr}`);

          let seq = 0;
          let inFlight: PlanOp | undefined;
          for (const op of crashPlan(spec)) {
            if (seq > run.lastAck) {
              if (!run.finished) inFlight = op;
              break;
            }
            apply(model, op);
            seq++;
          }

          const db = s.pool.open(s.pool.reopenConfig(), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
          const { state, problems } = readState(s, db, spec);
          db.close();
          const outcomes = candidates(model, inFlight, s.caps.transactions);
          const match = outcomes.find((c) => differences(c, state, spec.keys).length === 0);
          const where = `round ${round} (killed ${killAfter} ms after open, ${run.lastAck + 1} operations acknowledged, in flight: ${inFlight?.type ?? 'none'})`;
          if (match === undefined) {
            const closest = outcomes.map((c) => differences(c, state, spec.keys)).sort((a, b) => a.length - b.length)[0]!;
            expect({ where, differences: closest.slice(0, 10) }).toEqual({ where, differences: [] });
          }
          expect({ where, problems: problems.slice(0, 10) }).toEqual({ where, problems: [] });
          model = state;
        }
      },
      60_000 + rounds * 30_000,
    );
  });
}
