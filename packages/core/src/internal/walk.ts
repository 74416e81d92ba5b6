/**
 * DO NOT IMPORT FROM OUTSIDE @pmemkv/core (not public API).
 *
 * Walks, written once for `Database` and `DatabasePromises`: `getAll`, the get range variants
 * (callback walks) and `entries/keys/values` (iteration). A walk reads the engine in bounded
 * chunks, never more than one chunk at a time, and stops fetching as soon as its limit is reached
 * or its consumer stops (a callback returned true, an iterator was abandoned):
 *
 * - sorted engines: `scan(range, reverse, n)`, each chunk resuming after the last key of the one
 *   before (so no key is seen twice and none that existed throughout is skipped);
 * - unsorted engines: `scanUnordered(token, n)`, each chunk resuming at the engine's token (an
 *   entry present for the whole walk is seen exactly once);
 * - unsorted engines without iterators and without `scanUnordered` (contract 1 style): one
 *   `scan(undefined, false, limit)` call for `getAll`.
 *
 * Chunks grow from FIRST_CHUNK to MAX_CHUNK entries (x4 each time), so a short walk asks for
 * little and a long one costs few engine calls. `Cursor` holds that logic; the sync and async
 * walks differ only in how they fetch a chunk.
 *
 * Walks are not snapshots: entries put or removed during a walk may or may not be seen.
 */
import type { EngineHandle, KeyRange, UnorderedChunk } from '../contract';
import { toPmemkvError } from '../errors';
import { type Access, type RangeShape, type WalkMode, type WalkPlan } from './access';
import { offTurn } from './ops';

export const FIRST_CHUNK = 16;
export const MAX_CHUNK = 1024;

/** What to fetch next: `range`/`reverse` for sorted and whole walks, `token` for unordered ones. */
interface ChunkRequest {
  readonly range: KeyRange | undefined;
  readonly reverse: boolean;
  readonly token: Buffer | undefined;
  readonly limit: number;
}

/** The chunking of one walk: what to ask for next and what to hand out of each answer. */
class Cursor {
  readonly #mode: WalkMode;
  readonly #reverse: boolean;
  #range: KeyRange | undefined;
  #token: Buffer | undefined;
  #remaining: number;
  #chunk = FIRST_CHUNK;
  #done: boolean;

  constructor(mode: WalkMode, plan: WalkPlan) {
    this.#mode = mode;
    this.#reverse = plan.reverse;
    this.#range = plan.range;
    this.#remaining = plan.limit;
    this.#done = plan.limit <= 0;
  }

  /** The next chunk to fetch, or `undefined` when the walk is over. */
  next(): ChunkRequest | undefined {
    if (this.#done) return undefined;
    const limit = this.#mode === 'whole' ? this.#remaining : Math.min(this.#chunk, this.#remaining);
    return { range: this.#range, reverse: this.#reverse, token: this.#token, limit };
  }

  /** Takes the answer to `request`; returns its entries (flat) that the walk hands out. */
  take(request: ChunkRequest, chunk: UnorderedChunk): Buffer[] {
    let flat = chunk.entries;
    // An engine may end an unordered chunk a little after `limit`; a limit is never exceeded.
    if (flat.length > 2 * this.#remaining) flat = flat.slice(0, 2 * this.#remaining);
    const got = flat.length >> 1;
    this.#remaining -= got;
    this.#chunk = Math.min(this.#chunk * 4, MAX_CHUNK);
    if (this.#remaining <= 0 || this.#mode === 'whole') {
      this.#done = true;
    } else if (this.#mode === 'unordered') {
      this.#token = chunk.next;
      this.#done = chunk.next === undefined;
    } else {
      // Fewer than asked for: the range is exhausted.
      this.#done = got < request.limit;
      if (!this.#done) this.#range = resumeAfter(this.#range, this.#reverse, flat[flat.length - 2]!);
    }
    return flat;
  }
}

/** The rest of `range` after `lastKey` in walk order. */
function resumeAfter(range: KeyRange | undefined, reverse: boolean, lastKey: Buffer): KeyRange {
  const r = range ?? {};
  return reverse ? { ...r, upper: lastKey, upperInclusive: false } : { ...r, lower: lastKey, lowerInclusive: false };
}

function fetchSync(mode: WalkMode, h: EngineHandle, req: ChunkRequest): UnorderedChunk {
  if (mode === 'unordered') return h.scanUnordered!(req.token, req.limit);
  return { entries: h.scan!(req.range, req.reverse, req.limit) };
}

function fetchAsync<K, V>(acc: Access<K, V>, method: string, h: EngineHandle, req: ChunkRequest): Promise<UnorderedChunk> {
  const sync = () => fetchSync(acc.walkMode, h, req);
  if (acc.walkMode === 'unordered') return offTurn(acc, method, h.async?.scanUnordered && (() => h.async!.scanUnordered!(req.token, req.limit)), sync);
  return offTurn(acc, method, h.async?.scan && (async () => ({ entries: await h.async!.scan!(req.range, req.reverse, req.limit) })), sync);
}

/** Raw sync walk of `plan` as [key, value] buffer pairs the caller owns. */
export function* walkSync<K, V>(acc: Access<K, V>, plan: WalkPlan): Generator<[Buffer, Buffer]> {
  const cursor = new Cursor(acc.walkMode, plan);
  for (let req = cursor.next(); req !== undefined; req = cursor.next()) {
    const h = acc.handle();
    let chunk: UnorderedChunk;
    try {
      chunk = fetchSync(acc.walkMode, h, req);
    } catch (err) {
      throw toPmemkvError(err);
    }
    const flat = cursor.take(req, chunk);
    for (let i = 0; i + 1 < flat.length; i += 2) yield [flat[i]!, flat[i + 1]!];
  }
}

/** Raw async walk of `plan`; the consumer runs on the JS thread between chunks. */
export async function* walkAsync<K, V>(acc: Access<K, V>, method: string, plan: WalkPlan): AsyncGenerator<[Buffer, Buffer]> {
  const cursor = new Cursor(acc.walkMode, plan);
  for (let req = cursor.next(); req !== undefined; req = cursor.next()) {
    let chunk: UnorderedChunk;
    try {
      chunk = await fetchAsync(acc, method, acc.handle(), req);
    } catch (err) {
      throw toPmemkvError(err);
    }
    const flat = cursor.take(req, chunk);
    for (let i = 0; i + 1 < flat.length; i += 2) yield [flat[i]!, flat[i + 1]!];
  }
}

/** A callback walk: `getAll` (no shape) or a get range variant. */
export interface VisitSpec {
  /** The public method name. */
  readonly name: string;
  /** Bounded sides (get range variants); absent for getAll. */
  readonly shape?: RangeShape;
}

function visitPlan<K, V>(acc: Access<K, V>, spec: VisitSpec, keys: readonly unknown[]): WalkPlan {
  acc.handle();
  const range = spec.shape === undefined ? undefined : acc.range(spec.name, spec.shape, keys);
  return { range, reverse: false, limit: Infinity };
}

/**
 * Calls `cb` for each entry; `true` when a call returned true and so stopped the walk. The
 * callback's own exceptions reach the caller unchanged.
 */
export function visitSync<K, V>(acc: Access<K, V>, spec: VisitSpec, keys: readonly unknown[], cb: unknown): boolean {
  acc.refuseSync(spec.name);
  const plan = visitPlan(acc, spec, keys);
  const fn = acc.callback(spec.name, cb);
  for (const [k, v] of walkSync(acc, plan)) {
    if (fn(acc.keys.adopt(k), acc.values.adopt(v)) === true) return true;
  }
  return false;
}

/** The async twin of `visitSync`: bad input rejects. */
export function visitAsync<K, V>(acc: Access<K, V>, spec: VisitSpec, keys: readonly unknown[], cb: unknown): Promise<boolean> {
  let plan: WalkPlan;
  let fn: (key: K, value: V) => unknown;
  try {
    plan = visitPlan(acc, spec, keys);
    fn = acc.callback(spec.name, cb);
  } catch (err) {
    return Promise.reject(toPmemkvError(err));
  }
  return (async () => {
    for await (const [k, v] of walkAsync(acc, spec.name, plan)) {
      if (fn(acc.keys.adopt(k), acc.values.adopt(v)) === true) return true;
    }
    return false;
  })();
}

/** What an iteration yields. */
export type Projection = 'entries' | 'keys' | 'values';

export type Projected<K, V, P extends Projection> = P extends 'entries' ? [K, V] : P extends 'keys' ? K : V;

function project<K, V, P extends Projection>(acc: Access<K, V>, what: P, k: Buffer, v: Buffer): Projected<K, V, P> {
  switch (what) {
    case 'entries':
      return [acc.keys.adopt(k), acc.values.adopt(v)] as Projected<K, V, P>;
    case 'keys':
      return acc.keys.adopt(k) as Projected<K, V, P>;
    default:
      return acc.values.adopt(v) as Projected<K, V, P>;
  }
}

/** `entries/keys/values(options)`; options are checked at the first `next()`. */
export function* iterateSync<K, V, P extends Projection>(acc: Access<K, V>, what: P, options: unknown): Generator<Projected<K, V, P>> {
  acc.refuseSync(what);
  for (const [k, v] of walkSync(acc, acc.plan(options, what))) yield project(acc, what, k, v);
}

/** The async twin of `iterateSync` (`for await`); options are checked at the first `next()`. */
export async function* iterateAsync<K, V, P extends Projection>(acc: Access<K, V>, what: P, options: unknown): AsyncGenerator<Projected<K, V, P>> {
  for await (const [k, v] of walkAsync(acc, what, acc.plan(options, what))) yield project(acc, what, k, v);
}
