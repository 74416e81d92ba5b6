// SIGKILL while several worker threads write: a child process runs 4 worker threads on one
// pool (crash-writer.js), each acknowledging its own operations (puts, removes, atomic batches
// on keys of its own, puts to keys all of them share) on stdout, and is killed at a random
// moment. The parent reopens the pool and checks, for several rounds on the same pool:
// - every acknowledged operation of every worker is there: each own key holds exactly the
//   value of its last acknowledged put, or is absent after an acknowledged remove;
// - each worker's one operation in flight at the kill left the old state or the new one (a
//   batch all or nothing);
// - every shared key with an acknowledged put exists, and every shared value is one some
//   worker wrote for that key, whole;
// - no key outside the plan, no torn value; the walk is strictly ordered, and countAll and a
//   reverse walk agree with it.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCsmap } from './helpers';

interface SimpleOp {
  type: 'put' | 'del';
  id: number;
  key: Buffer;
  value?: Buffer;
}
interface PlanOp {
  seq: number;
  type: 'put' | 'del' | 'batch' | 'shared';
  id?: number;
  key?: Buffer;
  value?: Buffer;
  ops?: SimpleOp[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const plan = require('./fixtures/crash-plan.js') as {
  OWN_KEYS: number;
  SHARED_KEYS: number;
  ownKey: (w: number, id: number) => Buffer;
  sharedKey: (id: number) => Buffer;
  checkValue: (name: string, value: Buffer) => boolean;
  crashPlan: (seed: number, round: number, w: number) => Generator<PlanOp>;
};

const WORKERS = 4;
const ROUNDS = 6;
const WRITER = path.join(__dirname, 'fixtures', 'crash-writer.js');

interface Run {
  ready: boolean;
  lastAck: number[];
  finished: boolean[];
  exit: string;
  stderr: string;
}

/** Spawns the writer and SIGKILLs it `killAfterMs` after `ready`. */
function runAndKill(args: string[], killAfterMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PMEM_IS_PMEM_FORCE: process.env.PMEM_IS_PMEM_FORCE ?? '1' },
    });
    const run: Run = { ready: false, lastAck: Array(WORKERS).fill(-1), finished: Array(WORKERS).fill(false), exit: '', stderr: '' };
    let pending = '';
    let killTimer: NodeJS.Timeout | undefined;
    const readyTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        const [word, a, b] = pending.slice(0, nl).split(' ');
        pending = pending.slice(nl + 1);
        if (word === 'ready') {
          run.ready = true;
          clearTimeout(readyTimer);
          killTimer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        } else if (word === 'ack') {
          const w = Number(a);
          const seq = Number(b);
          if (seq !== run.lastAck[w]! + 1) reject(new Error(`worker ${w} acknowledged ${seq} after ${run.lastAck[w]}`));
          run.lastAck[w] = seq;
        } else if (word === 'done') {
          run.finished[Number(a)] = true;
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      run.stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(readyTimer);
      if (killTimer) clearTimeout(killTimer);
      run.exit = signal ?? `exit code ${String(code)}`;
      resolve(run);
    });
  });
}

/** Worker w's own keys: id -> value. */
type OwnState = Map<number, Buffer>;

function applyOp(state: OwnState, op: SimpleOp | PlanOp): void {
  if (op.type === 'batch') op.ops!.forEach((o) => applyOp(state, o));
  else if (op.type === 'put') state.set(op.id!, op.value!);
  else if (op.type === 'del') state.delete(op.id!);
}

function sameState(a: OwnState, b: OwnState): boolean {
  if (a.size !== b.size) return false;
  for (const [id, v] of a) if (!b.get(id)?.equals(v)) return false;
  return true;
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'pmemkv-csmap-crash-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test(`acknowledged writes of 4 worker threads survive SIGKILL (${ROUNDS} rounds)`, async () => {
  const seed = (Date.now() ^ (process.pid << 8)) >>> 0;
  const poolPath = path.join(dir, 'crash.pool');
  let models: OwnState[] = Array.from({ length: WORKERS }, () => new Map());
  const sharedAcked = new Set<number>();
  let acknowledged = 0;
  let batchesAcked = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const killAfter = 100 + ((seed >>> round) % 400);
    const run = await runAndKill([poolPath, String(seed), String(round), String(WORKERS)], killAfter);
    const where = `seed ${seed} round ${round} (killed ${killAfter} ms after ready, acks ${run.lastAck.join('/')})`;
    if (!run.ready || (run.exit !== 'SIGKILL' && !run.finished.every(Boolean))) {
      throw new Error(`${where}: the writer failed (${run.exit}): ${run.stderr}`);
    }

    const inFlight: (PlanOp | undefined)[] = [];
    for (let w = 0; w < WORKERS; w++) {
      for (const op of plan.crashPlan(seed, round, w)) {
        if (op.seq > run.lastAck[w]!) {
          if (!run.finished[w]) inFlight[w] = op;
          break;
        }
        acknowledged++;
        if (op.type === 'shared') sharedAcked.add(op.id!);
        else applyOp(models[w]!, op);
        if (op.type === 'batch') batchesAcked++;
      }
    }

    const db = openCsmap(poolPath);
    const problems: string[] = [];
    const found: OwnState[] = Array.from({ length: WORKERS }, () => new Map());
    const walked: Buffer[] = [];
    db.getAll((k, v) => {
      walked.push(k);
      const name = k.toString('latin1');
      const own = /^c(\d+)-(\d{5})$/.exec(name);
      const shared = /^s-(\d{5})$/.exec(name);
      if (own !== null && Number(own[1]) < WORKERS && Number(own[2]) < plan.OWN_KEYS) found[Number(own[1])]!.set(Number(own[2]), v);
      else if (shared === null || Number(shared[1]) >= plan.SHARED_KEYS) problems.push(`a key outside the plan: ${name}`);
      if (!plan.checkValue(name, v)) problems.push(`${name}: a value no writer wrote for it (${v.length} bytes)`);
    });
    for (let i = 1; i < walked.length; i++) {
      if (Buffer.compare(walked[i - 1]!, walked[i]!) >= 0) problems.push(`walk out of order at ${walked[i]!.toString('latin1')}`);
    }
    expect(db.countAll()).toBe(walked.length);
    expect([...db.keys({ reverse: true })].length).toBe(walked.length);
    for (const id of sharedAcked) if (!db.exists(plan.sharedKey(id))) problems.push(`shared key ${id} lost an acknowledged put`);
    for (let w = 0; w < WORKERS; w++) {
      const before = models[w]!;
      const op = inFlight[w];
      const after = new Map(before);
      if (op !== undefined) applyOp(after, op);
      if (!sameState(found[w]!, before) && !sameState(found[w]!, after)) {
        const diff: string[] = [];
        for (let id = 0; id < plan.OWN_KEYS; id++) {
          const got = found[w]!.get(id);
          const want = before.get(id);
          if (!(got === undefined ? want === undefined : want?.equals(got) === true)) diff.push(`${id}: ${got?.length ?? 'absent'} vs ${want?.length ?? 'absent'}`);
        }
        problems.push(`worker ${w}: neither the acknowledged state nor it plus the in-flight ${op?.type ?? 'nothing'} (${diff.slice(0, 5).join('; ')})`);
      }
      for (const [id, v] of found[w]!) {
        const read = db.get(plan.ownKey(w, id));
        if (read === undefined || !read.equals(v)) problems.push(`worker ${w} key ${id}: get disagrees with the walk`);
      }
    }
    db.close();
    expect({ where, problems: problems.slice(0, 10) }).toEqual({ where, problems: [] });
    models = found;
  }
  // Enough concurrent work to mean something; reported with the seed if not.
  expect({ seed, acknowledged: acknowledged >= 2000, batches: batchesAcked >= 100 }).toEqual({ seed, acknowledged: true, batches: true });
}, 240_000);
