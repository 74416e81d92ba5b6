// SIGKILL during splits and merges: a child process runs a plan (fixtures/plan.js) of ascending
// inserts, descending inserts, ordered removes or random puts and removes, acknowledging each
// operation on stdout, and is killed at a random moment; the parent reopens the pool
// (libpmemobj rolls back the interrupted transaction; stree rebuilds nothing) and checks, for
// several rounds on the same pool:
// - every acknowledged operation is there: each key holds exactly the value of its last
//   acknowledged put, or is absent after an acknowledged remove;
// - the one operation in flight at the kill left the old state or the new one;
// - no key outside the plan exists and no value is torn;
// - a full walk is in strictly increasing key order, a reverse walk is its exact reverse, and
//   countAll (the stored count) equals the number of keys the walk found.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { runAndKill } from '@pmemkv/core/conformance';
import path from 'node:path';
import { makeDir, openStree, removeDir } from './helpers';

interface PlanOp {
  seq: number;
  type: 'put' | 'del';
  id: number;
  key: Buffer;
  value?: Buffer;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { plan, keyOf, modeOf } = require('./fixtures/plan.js') as {
  plan: (seed: number, round: number) => Generator<PlanOp>;
  keyOf: (id: number) => Buffer;
  modeOf: (round: number) => string;
};

const ROUNDS = 12;
const WRITER = path.join(__dirname, 'fixtures', 'writer.js');

let dir: string;
beforeAll(() => {
  dir = makeDir();
});
afterAll(() => removeDir(dir));

const show = (b: Buffer | undefined) =>
  b === undefined ? 'absent' : `${b.length} bytes ${b.subarray(0, 24).toString('latin1')}`;

test(`acknowledged writes survive SIGKILL during splits and merges (${ROUNDS} rounds)`, async () => {
  const seed = (Date.now() ^ (process.pid << 8)) >>> 0;
  const poolPath = path.join(dir, 'crash.pool');
  /** Key id -> value: the state every acknowledged operation has produced so far. */
  let model = new Map<number, Buffer>();
  const acknowledged: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const killAfter = 100 + ((Math.imul(seed ^ round, 0x9e3779b1) >>> 0) % 500);
    const run = await runAndKill(WRITER, [poolPath, String(seed), String(round)], killAfter);
    const where = `seed ${seed} round ${round} (${modeOf(round)}, killed ${killAfter} ms after ready, ${run.lastAck + 1} acknowledged)`;
    if (run.exit !== 'SIGKILL' && !run.finished) {
      throw new Error(`${where}: the writer failed (${run.exit}): ${run.stderr}`);
    }
    acknowledged[modeOf(round)] = (acknowledged[modeOf(round)] ?? 0) + run.lastAck + 1;

    let inFlight: PlanOp | undefined;
    for (const op of plan(seed, round)) {
      if (op.seq > run.lastAck) {
        if (!run.finished) inFlight = op;
        break;
      }
      if (op.type === 'put') model.set(op.id, op.value!);
      else model.delete(op.id);
    }

    const db = openStree(poolPath);
    const found = new Map<number, Buffer>();
    const order: Buffer[] = [];
    let previous: Buffer | undefined;
    for (const [k, v] of db.entries()) {
      if (previous !== undefined && Buffer.compare(previous, k) >= 0) {
        throw new Error(`${where}: walk out of order or repeated at ${k.toString('latin1')}`);
      }
      previous = k;
      const id = Number(k.toString('latin1').slice('stree-'.length));
      if (!keyOf(id).equals(k)) throw new Error(`${where}: a key outside the plan: ${k.toString('latin1')}`);
      found.set(id, v);
      order.push(k);
    }
    expect(db.countAll()).toBe(found.size);
    const reversed = [...db.keys({ reverse: true })];
    expect(reversed.length).toBe(order.length);
    expect(reversed.every((k, i) => k.equals(order[order.length - 1 - i]!))).toBe(true);

    const problems: string[] = [];
    const ids = new Set([...model.keys(), ...found.keys()]);
    for (const id of ids) {
      const want = model.get(id);
      const got = found.get(id);
      const same = want === undefined ? got === undefined : got !== undefined && got.equals(want);
      const inFlightNew =
        inFlight !== undefined &&
        inFlight.id === id &&
        (inFlight.type === 'del' ? got === undefined : got?.equals(inFlight.value!) === true);
      if (!same && !inFlightNew) problems.push(`key ${id}: expected ${show(want)}, found ${show(got)}`);
      const read = db.get(keyOf(id));
      if (got === undefined ? read !== undefined : read === undefined || !read.equals(got)) {
        problems.push(`key ${id}: get returns ${show(read)} but the walk saw ${show(got)}`);
      }
    }
    db.close();
    expect({ where, problems: problems.slice(0, 10) }).toEqual({ where, problems: [] });
    model = found;
  }
  // Enough operations of each mode for many splits and merges; reported with the seed if not.
  const short = ['asc', 'desc', 'remove', 'mixed'].filter((mode) => (acknowledged[mode] ?? 0) < 2000);
  expect({ seed, acknowledged, short }).toEqual({ seed, acknowledged, short: [] });
}, 300_000);
