/**
 * DO NOT IMPORT FROM OUTSIDE @pmemkv/core (not public API).
 *
 * The data methods that are one engine call (`put get exists remove batch defrag` and the
 * counts), each described once by an `Op`: how its arguments are checked and encoded, the sync
 * engine call, and its async twin. `callSync` runs an op for `Database`, `callAsync` for
 * `DatabasePromises`, so the two classes share every check, message and engine call. Walks
 * (getAll, the get range variants, iteration) are in walk.ts.
 *
 * Order of checks, the same for every op: sync refusal on async-only engines (sync only), the
 * closed state, then the op's own checks (capabilities, arguments). Engine errors become
 * `PmemkvError`s (toPmemkvError); argument errors already are.
 */
import type { AsyncEngineHandle, BatchOp, Bytes, EngineHandle, KeyRange } from '../contract';
import { PmemkvError, toPmemkvError } from '../errors';
import { RANGES, SCRATCH_BYTES, type Access } from './access';
import { batchAsync, batchSync } from './batch-encoding';
import { NOT_TAKEN } from './pooled-reads';

// Ops are shared by databases of every encoding: they see an Access of any key and value type.
type AnyAccess = Access<any, any>;

/** One data method that is a single engine call. */
export interface Op<A extends readonly unknown[], P, R> {
  /** The public method name, for messages. */
  readonly name: string;
  /** Checks and encodes the arguments (after the closed check, on the caller's turn). */
  prepare(acc: AnyAccess, ...args: A): P;
  /** The engine call on the caller's thread. */
  sync(acc: AnyAccess, h: EngineHandle, p: P): R;
  /** The async twin, or `undefined` when the async handle lacks it (optional twins only). */
  async(acc: AnyAccess, h: AsyncEngineHandle, p: P): Promise<R> | undefined;
}

/** Runs `op` for a sync method of `Database`. */
export function callSync<A extends readonly unknown[], P, R>(acc: AnyAccess, op: Op<A, P, R>, ...args: A): R {
  acc.refuseSync(op.name);
  const h = acc.handle();
  const p = op.prepare(acc, ...args);
  try {
    return op.sync(acc, h, p);
  } catch (err) {
    throw toPmemkvError(err);
  }
}

/** Runs `op` for a method of `DatabasePromises`: bad input rejects, it never throws synchronously. */
export function callAsync<A extends readonly unknown[], P, R>(acc: AnyAccess, op: Op<A, P, R>, ...args: A): Promise<R> {
  let pending: Promise<R>;
  try {
    const h = acc.handle();
    const p = op.prepare(acc, ...args);
    pending = offTurn(acc, op.name, h.async && (() => op.async(acc, h.async!, p)), () => op.sync(acc, h, p));
  } catch (err) {
    return Promise.reject(toPmemkvError(err));
  }
  return pending.then(undefined, (err: unknown) => Promise.reject(toPmemkvError(err)));
}

/**
 * Runs an engine call off the caller's turn: through the handle's async twin when `twin` gives
 * one, else the sync method in a later turn (engines without async work). Async-only engines
 * have no sync methods to fall back on: a missing twin there is NOT_SUPPORTED.
 */
export function offTurn<R>(acc: AnyAccess, method: string, twin: (() => Promise<R> | undefined) | undefined, sync: () => R): Promise<R> {
  const viaTwin = twin?.();
  if (viaTwin !== undefined) return viaTwin;
  if (!acc.caps.sync) {
    return Promise.reject(new PmemkvError('NOT_SUPPORTED', `the ${acc.engine} engine is async-only, but its handle has no async ${method}()`));
  }
  return later(acc, sync);
}

/**
 * Runs a sync engine call in a later turn. The closed state is checked again when it runs: a
 * database closed in between rejects instead of reaching a closed handle.
 */
function later<T>(acc: AnyAccess, fn: () => T): Promise<T> {
  return new Promise((resolve, reject) => {
    setImmediate(() => {
      try {
        acc.handle();
        resolve(fn());
      } catch (err) {
        reject(err);
      }
    });
  });
}

type KeyArgs = readonly unknown[];

export const PUT: Op<[key: unknown, value: unknown], [Bytes, Bytes], void> = {
  name: 'put',
  prepare: (acc, key, value) => [acc.key(key), acc.value(value)],
  sync: (_acc, h, [k, v]) => h.put(k, v),
  async: (_acc, h, [k, v]) => h.put(k, v),
};

export const GET: Op<[key: unknown], Bytes, unknown> = {
  name: 'get',
  prepare: (acc, key) => acc.key(key),
  sync: (acc, h, k) => {
    const pooled = acc.pooled;
    if (pooled !== undefined) {
      const v = pooled.get(k);
      if (v !== NOT_TAKEN) return v;
    }
    if (h.getInto !== undefined) {
      const n = h.getInto(k, acc.scratch);
      if (n < 0) return undefined;
      if (n <= SCRATCH_BYTES) return acc.values.decode(acc.scratch, n);
    }
    const buf = h.get(k);
    return buf === undefined ? undefined : acc.values.adopt(buf);
  },
  async: (acc, h, k) => h.get(k).then((buf) => (buf === undefined ? undefined : acc.values.adopt(buf))),
};

/**
 * `Database.get`: callSync(acc, GET, key) written out for GET alone. callSync's `op.prepare` and
 * `op.sync` call sites see every op and cannot be inlined; this one sees only GET, so a get is
 * compiled as one function down to the engine call.
 */
export function getSync(acc: AnyAccess, key: unknown): unknown {
  acc.refuseSync(GET.name);
  const h = acc.handle();
  const k = acc.key(key);
  try {
    return GET.sync(acc, h, k);
  } catch (err) {
    throw toPmemkvError(err);
  }
}

/** Slots of a `getManyInto` call (the contract's GET_MANY_SLOTS): the values start at byte 4 * this. */
export const GET_MANY_SLOTS = 256;

export const GET_MANY: Op<[keys: unknown], Bytes[], unknown[]> = {
  name: 'getMany',
  prepare: (acc, keys) => {
    if (!Array.isArray(keys)) throw new PmemkvError('INVALID_ARGUMENT', 'getMany() takes an array of keys');
    const out = new Array<Bytes>(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = acc.keyAt(keys[i], 'keys', i);
    return out;
  },
  sync: (acc, h, keys) => {
    const out = new Array<unknown>(keys.length);
    if (h.getManyInto === undefined) {
      for (let i = 0; i < keys.length; i++) out[i] = GET.sync(acc, h, keys[i]!);
      return out;
    }
    const scratch = acc.scratch;
    for (let start = 0; start < keys.length; ) {
      const read = h.getManyInto(keys, scratch, start);
      if (!(read > 0)) throw new PmemkvError('UNKNOWN_ERROR', `the ${acc.engine} engine's getManyInto read no key (it must read at least one)`);
      let at = 4 * GET_MANY_SLOTS;
      for (let j = 0; j < read; j++) {
        const n = scratch.readInt32LE(4 * j);
        if (n >= 0) {
          out[start + j] = acc.values.decode(scratch, n, at);
          at += n;
        } else if (n === -1) {
          out[start + j] = undefined;
        } else {
          // Too large for the call. Not GET.sync: its getInto would overwrite this call's scratch.
          const buf = h.get(keys[start + j]!);
          out[start + j] = buf === undefined ? undefined : acc.values.adopt(buf);
        }
      }
      start += read;
    }
    return out;
  },
  async: (acc, h, keys) => Promise.all(keys.map((k) => GET.async(acc, h, k)!)),
};

export const EXISTS: Op<[key: unknown], Bytes, boolean> = {
  name: 'exists',
  prepare: (acc, key) => acc.key(key),
  sync: (_acc, h, k) => h.exists(k),
  async: (_acc, h, k) => h.exists(k),
};

export const REMOVE: Op<[key: unknown], Bytes, boolean> = {
  name: 'remove',
  prepare: (acc, key) => acc.key(key),
  sync: (_acc, h, k) => h.remove(k),
  async: (_acc, h, k) => h.remove(k),
};

export const BATCH: Op<[ops: unknown], BatchOp[], void> = {
  name: 'batch',
  prepare: (acc, ops) => acc.batchOps(ops),
  sync: (_acc, h, ops) => batchSync(h, ops),
  async: (_acc, h, ops) => batchAsync(h, ops),
};

export const DEFRAG: Op<[startPercent: unknown, amountPercent: unknown], [number, number], void> = {
  name: 'defrag',
  prepare: (acc, start, amount) => acc.defragArgs(start, amount),
  sync: (_acc, h, [start, amount]) => h.defrag!(start, amount),
  async: (_acc, h, [start, amount]) => h.defrag?.(start, amount),
};

function countOp(name: string, range: (acc: AnyAccess, keys: KeyArgs) => KeyRange | undefined): Op<KeyArgs, KeyRange | undefined, number> {
  return {
    name,
    prepare: (acc, ...keys) => range(acc, keys),
    sync: (_acc, h, r) => h.count(r),
    async: (_acc, h, r) => h.count(r),
  };
}

/** countAll and the count range variants, by the suffix of their name. */
export const COUNT = {
  All: countOp('countAll', () => undefined),
  Above: countOp('countAbove', (acc, keys) => acc.range('countAbove', RANGES.Above, keys)),
  EqualAbove: countOp('countEqualAbove', (acc, keys) => acc.range('countEqualAbove', RANGES.EqualAbove, keys)),
  Below: countOp('countBelow', (acc, keys) => acc.range('countBelow', RANGES.Below, keys)),
  EqualBelow: countOp('countEqualBelow', (acc, keys) => acc.range('countEqualBelow', RANGES.EqualBelow, keys)),
  Between: countOp('countBetween', (acc, keys) => acc.range('countBetween', RANGES.Between, keys)),
} as const;
