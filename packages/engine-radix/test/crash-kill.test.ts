// SIGKILL while the tree changes shape: a child process inserts ascending keys, then descending
// keys, then removes keys in random order (node splits and growth, then shrinking and
// collapses), acknowledging each operation on stdout, and is killed at a random moment; the
// parent reopens the pool (open walks the tree, claiming its slab records; an interrupted
// batch's transaction is rolled back) and checks, for several rounds on the same pool:
// - every acknowledged operation is there: each key holds exactly the value of its last
//   acknowledged put, or is absent after an acknowledged remove;
// - the one operation in flight at the kill left the old state or the new one;
// - no key outside the plan exists and no value is torn;
// - a full walk is in strictly increasing key order, a reverse walk sees the same keys, and
//   countAll (recounted by open) equals the number of keys walked.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { runAndKill } from '@pmemkv/core/conformance';
import path from 'node:path';
import { makeDir, openRadix, removeDir, Rng } from './helpers';

interface PlanOp {
  seq: number;
  type: 'put' | 'del';
  id: number;
  key: Buffer;
  value?: Buffer;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { radixPlan, keyOf, idOf } = require('./fixtures/radix-plan.js') as {
  radixPlan: (seed: number, round: number) => Generator<PlanOp>;
  keyOf: (id: number) => Buffer;
  idOf: (key: Buffer) => number;
};

const ROUNDS = 9;
const WRITER = path.join(__dirname, 'fixtures', 'radix-writer.js');

let dir: string;
beforeAll(() => {
  dir = makeDir();
});
afterAll(() => removeDir(dir));

const show = (b: Buffer | undefined) =>
  b === undefined ? 'absent' : `${b.length} bytes ${b.subarray(0, 24).toString('latin1')}`;

test(`acknowledged writes survive SIGKILL during ascending and descending inserts and removes (${ROUNDS} rounds)`, async () => {
  const rng = new Rng(Date.now() >>> 0);
  const seed = rng.next();
  const poolPath = path.join(dir, 'crash.pool');
  /** Key id -> value: the state every acknowledged operation has produced so far. */
  let model = new Map<number, Buffer>();
  const acknowledged = [0, 0, 0];
  for (let round = 0; round < ROUNDS; round++) {
    const killAfter = 100 + rng.int(700);
    const run = await runAndKill(WRITER, [poolPath, String(seed), String(round)], killAfter);
    const where = `seed ${seed} round ${round} (killed ${killAfter} ms after ready, ${run.lastAck + 1} acknowledged)`;
    if (run.exit !== 'SIGKILL' && !run.finished) {
      throw new Error(`${where}: the writer failed (${run.exit}): ${run.stderr}`);
    }
    acknowledged[round % 3] += run.lastAck + 1;

    let inFlight: PlanOp | undefined;
    for (const op of radixPlan(seed, round)) {
      if (op.seq > run.lastAck) {
        if (!run.finished) inFlight = op;
        break;
      }
      if (op.type === 'put') model.set(op.id, op.value!);
      else model.delete(op.id);
    }

    const db = openRadix(poolPath, 128 * 1024 * 1024);
    const found = new Map<number, Buffer>();
    let previous: Buffer | undefined;
    for (const [k, v] of db.entries()) {
      if (previous !== undefined && Buffer.compare(previous, k) >= 0) {
        throw new Error(`${where}: walk out of order or repeated at ${k.toString('latin1')}`);
      }
      previous = k;
      const id = idOf(k);
      if (id < 0 || !keyOf(id).equals(k)) throw new Error(`${where}: a key outside the plan: ${k.toString('latin1')}`);
      found.set(id, v);
    }
    expect(db.countAll()).toBe(found.size);
    const reverse = [...db.keys({ reverse: true })];
    expect(reverse.length).toBe(found.size);
    expect(reverse.every((k, i) => i === 0 || Buffer.compare(reverse[i - 1]!, k) > 0)).toBe(true);

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
  // Enough work of each kind to have changed the tree's shape thousands of times.
  expect({ seed, acknowledged: acknowledged.map((n) => n >= 3000) }).toEqual({ seed, acknowledged: [true, true, true] });
}, 300_000);
