// SIGKILL during growth and displacement: a child process writes to a pool with a single shard
// (its table doubles from 16 to tens of thousands of slots, and long runs of displaced entries
// form and shift), acknowledging each operation on stdout, and is killed at a random moment;
// the parent reopens the pool (libpmemobj rolls back an interrupted batch and releases an
// unpublished table; robinhood repairs an entry caught in the middle of a move) and checks, for
// several rounds on the same pool:
// - every acknowledged operation is there: each key holds exactly the value of its last
//   acknowledged put, or is absent after an acknowledged remove;
// - the one operation in flight at the kill left the old state or the new one (a batch: all
//   of it or none);
// - no key outside the plan exists, no value is torn, a full walk sees each key once with the
//   value get returns, and countAll equals the number of entries walked.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { runAndKill } from '@pmemkv/core/conformance';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openRobinhood } from './helpers';

interface SimpleOp {
  type: 'put' | 'del';
  id: number;
  value?: Buffer;
}
type PlanOp = (SimpleOp & { seq: number }) | { seq: number; type: 'batch'; ops: SimpleOp[] };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { KEYS, keyOf, crashPlan } = require('./fixtures/crash-plan.js') as {
  KEYS: number;
  keyOf: (id: number) => Buffer;
  crashPlan: (seed: number, round: number) => Generator<PlanOp>;
};

const ROUNDS = 8;
const WRITER = path.join(__dirname, 'fixtures', 'crash-writer.js');

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'pmemkv-robinhood-crash-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type State = Map<number, string>;  // key id -> value hex

function applyOp(state: State, op: PlanOp): void {
  const one = (o: SimpleOp) => (o.type === 'put' ? state.set(o.id, o.value!.toString('hex')) : state.delete(o.id));
  if (op.type === 'batch') op.ops.forEach(one);
  else one(op);
}

function sameState(a: State, b: State): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

test(`acknowledged writes survive SIGKILL during growth and displacement (${ROUNDS} rounds)`, async () => {
  const seed = (Date.now() ^ 0x9e3779b9) >>> 0;
  const poolPath = path.join(dir, 'crash.pool');
  let model: State = new Map();
  let acknowledged = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const killAfter = 100 + ((seed >>> round) % 600);
    const run = await runAndKill(WRITER, [poolPath, String(seed), String(round)], killAfter);
    const where = `seed ${seed} round ${round} (killed ${killAfter} ms after ready, ${run.lastAck + 1} acknowledged)`;
    if (!run.ready || (run.exit !== 'SIGKILL' && !run.finished)) throw new Error(`${where}: the writer failed (${run.exit}): ${run.stderr}`);
    acknowledged += run.lastAck + 1;

    let inFlight: PlanOp | undefined;
    for (const op of crashPlan(seed, round)) {
      if (op.seq > run.lastAck) {
        if (!run.finished) inFlight = op;
        break;
      }
      applyOp(model, op);
    }
    const after = new Map(model);
    if (inFlight !== undefined) applyOp(after, inFlight);

    const db = openRobinhood(poolPath);
    const found: State = new Map();
    const problems: string[] = [];
    for (let id = 0; id < KEYS; id++) {
      const v = db.get(keyOf(id));
      if (v !== undefined) found.set(id, v.toString('hex'));
    }
    const walked = new Set<number>();
    db.getAll((k, v) => {
      const id = k.readUInt32LE(0);
      if (k.readUInt32LE(4) !== 0x6b657921 || id >= KEYS) problems.push(`a key the plan never wrote: ${k.toString('hex')}`);
      else if (walked.has(id)) problems.push(`key ${id} walked twice`);
      else if (found.get(id) !== v.toString('hex')) problems.push(`key ${id} walks as ${v.toString('hex')} but reads as ${found.get(id)}`);
      walked.add(id);
    });
    if (walked.size !== found.size) problems.push(`a full walk saw ${walked.size} keys, get found ${found.size}`);
    if (db.countAll() !== found.size) problems.push(`countAll is ${db.countAll()}, ${found.size} keys found`);
    db.close();
    expect({ where, problems: problems.slice(0, 5) }).toEqual({ where, problems: [] });
    const matches = sameState(found, model) || sameState(found, after);
    if (!matches) {
      const diff: string[] = [];
      for (let id = 0; id < KEYS && diff.length < 5; id++) {
        if (found.get(id) !== model.get(id) && found.get(id) !== after.get(id)) diff.push(`key ${id}: found ${found.get(id)}, expected ${model.get(id)} or ${after.get(id)}`);
      }
      expect({ where, inFlight: inFlight?.type, diff }).toEqual({ where, inFlight: inFlight?.type, diff: [] });
    }
    model = found;
  }
  expect(acknowledged).toBeGreaterThan(1000);
  expect(model.size).toBeGreaterThan(2000);
}, 240_000);
