/**
 * The bad-input runner (`node child.js <spec JSON>`): runs a slice of one engine's table and
 * reports what each input did. It prints `start <i>` before case i and `result <i> <json>`
 * after it, so when the child dies (a signal, an abort, a hang the parent kills) the parent
 * knows which input did it and restarts a child from the next one.
 *
 * An observation records where the first error came from (`open`, the `call`, the `exercise`
 * of a pool that opened) and what it was; a case with no error is `{ at: 'none' }`.
 */
import { existsSync, rmSync } from 'node:fs';
import { open, PmemkvError, type Database } from '@pmemkv/core';
import { say } from '../child-io';
import { registerFrom } from '../engines';
import { baseKey, baseValue } from './base-keys';
import type { Case } from './table';
import { decode } from './values';

export interface RunnerSpec {
  readonly packageDir: string;
  readonly engine: string;
  /** Config of the database `call` cases run on (opened once, lazily). */
  readonly good: Record<string, unknown>;
  /** Config of the database that `on: 'closed'` cases use after closing it. */
  readonly closed: Record<string, unknown>;
  /** Path that `open` cases may create when an input is wrongly accepted; removed after each. */
  readonly createPath?: string;
  /** Config of pool cases without path and create flags. */
  readonly poolBase: Record<string, unknown>;
  readonly files: Readonly<Record<string, string>>;
  /** Keys the base pool holds (key ids 0..count-1), for the exercise. */
  readonly baseKeys: number;
  readonly fixedSize?: number;
  readonly cases: readonly { readonly index: number; readonly c: Case; readonly checkOnOpen?: boolean }[];
}

export interface Observation {
  readonly at: 'open' | 'call' | 'exercise' | 'none';
  readonly error?: { readonly name: string; readonly code?: string; readonly status?: number; readonly message: string; readonly pmemkv: boolean };
}

type Db = Database<Buffer, Buffer>;
type Fn = (...args: unknown[]) => unknown;

function describeError(e: unknown): NonNullable<Observation['error']> {
  if (e !== null && typeof e === 'object') {
    const x = e as { name?: unknown; code?: unknown; status?: unknown; message?: unknown };
    return {
      name: String(x.name),
      ...(typeof x.code === 'string' ? { code: x.code } : {}),
      ...(typeof x.status === 'number' ? { status: x.status } : {}),
      message: String(x.message).slice(0, 600),
      pmemkv: e instanceof PmemkvError,
    };
  }
  return { name: typeof e, message: String(e), pmemkv: false };
}

const ENC = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;

/**
 * Reads, walks, writes, closes and reopens a pool that opened despite its damage: the first error
 * stops it. Every handle it opened is closed on the way out, also after an error: libpmemobj
 * refuses to open a second pool with the same UUID in one process, and every damaged file is a
 * copy of one base pool, so a handle left open would make the next damaged pool of this child
 * fail for a reason that is not its damage.
 */
function exercise(db: Db, spec: RunnerSpec, config: Record<string, unknown>): void {
  try {
    const n = Math.min(spec.baseKeys, 200);
    for (let i = 0; i < n; i++) db.get(baseKey(i, spec.fixedSize));
    let walked = 0;
    db.getAll(() => ++walked > 100_000);
    db.countAll();
    if (db.capabilities.iterators) {
      let seen = 0;
      for (const _ of db.keys()) if (++seen > 100_000) break;
    }
    const k = baseKey(999_999, spec.fixedSize);
    db.put(k, baseValue(7, spec.fixedSize));
    db.remove(k);
    db.remove(baseKey(1, spec.fixedSize));
    db.put(baseKey(2, spec.fixedSize), baseValue(3, spec.fixedSize));
  } finally {
    closeQuietly(db);
  }
  const again = open(spec.engine, { ...config, create_if_missing: 0, create_or_error_if_exists: 0 }, ENC);
  try {
    again.countAll();
    again.getAll(() => false);
  } finally {
    closeQuietly(again);
  }
}

/** Closes `db` if it is open; an error from close is not the observation (the first error is). */
function closeQuietly(db: Db): void {
  try {
    if (db.isOpen) db.close();
  } catch {
    // The error that stopped the exercise, if any, is what the row reports.
  }
}

function main(): void {
  const spec = JSON.parse(process.argv[2] ?? '') as RunnerSpec;
  registerFrom(spec.packageDir);
  let shared: Db | undefined;
  let closed: Db | undefined;
  const db = (on: 'open' | 'closed'): Db => {
    if (on === 'open') return (shared ??= open(spec.engine, spec.good, ENC));
    if (closed === undefined) {
      closed = open(spec.engine, spec.closed, ENC);
      closed.close();
    }
    return closed;
  };

  for (const { index, c, checkOnOpen } of spec.cases) {
    say(`start ${index}`);
    let obs: Observation = { at: 'none' };
    const a = c.action;
    let phase: Observation['at'] = a.t === 'open' || a.t === 'pool' ? 'open' : 'call';
    try {
      if (a.t === 'open') {
        const args: unknown[] = [decode(a.name), decode(a.config)];
        if (a.options !== undefined) args.push(decode(a.options));
        const got = (open as unknown as Fn)(...args) as Db;
        got.close();
      } else if (a.t === 'call') {
        const target = db(a.on) as unknown as Record<string, Fn>;
        const fn = target[a.method];
        if (typeof fn !== 'function') throw new Error(`the database has no method ${a.method}`);
        fn.apply(target, a.args.map(decode));
      } else if (a.t === 'iterate') {
        const target = db(a.on) as unknown as Record<string, Fn>;
        const options = decode(a.options);
        const it = (options === undefined ? target[a.method]!.call(target) : target[a.method]!.call(target, options)) as Iterator<unknown>;
        it.next();
      } else if (a.t === 'transaction') {
        const tx = db('open').transaction() as unknown as Record<string, Fn>;
        for (const [method, args] of a.steps) tx[method]!.apply(tx, args.map(decode));
      } else {
        const path = spec.files[a.file];
        if (path === undefined) throw new Error(`no prepared file ${a.file}`);
        const config = { ...spec.poolBase, path, ...a.flags, ...(checkOnOpen ? { check_on_open: 1 } : {}) };
        const got = open(spec.engine, config, ENC);
        phase = 'exercise';
        exercise(got, spec, config);
      }
    } catch (e) {
      obs = { at: phase, error: describeError(e) };
    }
    if (a.t === 'open' && spec.createPath !== undefined && existsSync(spec.createPath)) rmSync(spec.createPath, { force: true });
    say(`result ${index} ${JSON.stringify(obs)}`);
  }
  shared?.close();
}

main();
