/**
 * Database: the public face of an open engine. It validates arguments, encodes keys and
 * values, checks the closed state and the engine's capabilities, and only then calls the
 * engine's handle (see contract.ts) with exact types.
 *
 * Thread-safety: a Database belongs to the JS thread that opened it. Other worker threads open
 * their own Database on the same path; persistent engines share one pool between them.
 *
 * Durability: when `put`, `remove` or `batch` returns (or its promise resolves), the change is
 * persistent on a persistent engine: it survives a crash of the process (and, on real
 * persistent memory or an ordinary file, a power loss).
 *
 * Walks and iteration are not snapshots: on sorted engines they fetch entries in chunks, each
 * chunk resuming after the last key seen, so entries changed during a walk may or may not be
 * seen, but no key is seen twice and none is skipped that existed throughout.
 */
import type { BatchOp, Bytes, Capabilities, EngineHandle, EnginePlugin, KeyRange } from './contract';
import { byteLength, type Codec } from './encodings';
import { invalidArgument, PmemkvError, toPmemkvError } from './errors';

/** Range options of `entries`, `keys` and `values`. `limit` < 0 or Infinity means no limit. */
export interface IterateOptions<K = string | Buffer | Uint8Array> {
  gt?: K;
  gte?: K;
  lt?: K;
  lte?: K;
  reverse?: boolean;
  limit?: number;
}

/** A walk callback. Return `true` to stop the walk after this entry. */
export type EntryCallback<K, V> = (key: K, value: V) => boolean | void;

/** One operation of `batch`. */
export type BatchOperation<V> =
  | { type: 'put'; key: string | Buffer | Uint8Array; value: V | string | Buffer | Uint8Array }
  | { type: 'del'; key: string | Buffer | Uint8Array };

type KeyInput = string | Buffer | Uint8Array;
/** One side of a range: the key and whether it is included. */
type Side = readonly [key: unknown, inclusive: boolean];

/** Values up to this size come back through one reused buffer instead of a fresh one per get. */
const SCRATCH_BYTES = 64 * 1024;
const FIRST_CHUNK = 16;
const MAX_CHUNK = 1024;

interface WalkPlan {
  range: KeyRange | undefined;
  reverse: boolean;
  limit: number;
}

function closedError(): PmemkvError {
  return invalidArgument('the database is closed: open it again with open()');
}

export class Database<K = string, V = string> {
  #handle: EngineHandle | null;
  readonly #plugin: EnginePlugin;
  readonly #keys: Codec<K>;
  readonly #values: Codec<V>;
  readonly #scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  /** The async twin of every data method; see the class comment for durability. */
  readonly promises: DatabasePromises<K, V>;

  /** @internal Use `open()`. */
  constructor(plugin: EnginePlugin, handle: EngineHandle, keys: Codec<K>, values: Codec<V>) {
    this.#plugin = plugin;
    this.#handle = handle;
    this.#keys = keys;
    this.#values = values;
    this.promises = new DatabasePromises(this, (): EngineHandle => this.#open());
  }

  /** The engine's runtime name. */
  get engine(): string {
    return this.#plugin.name;
  }

  get capabilities(): Capabilities {
    return this.#plugin.capabilities;
  }

  get isOpen(): boolean {
    return this.#handle !== null;
  }

  #open(): EngineHandle {
    const h = this.#handle;
    if (h === null) throw closedError();
    return h;
  }

  /** @internal */
  _key(key: unknown, what = 'key'): Bytes {
    const bytes = this.#keys.encode(key, what);
    const caps = this.#plugin.capabilities;
    if (caps.fixedSize !== undefined || caps.maxKeySize !== undefined) {
      const n = byteLength(bytes);
      if (caps.fixedSize !== undefined && n !== caps.fixedSize) {
        throw invalidArgument(`the ${this.engine} engine takes keys of exactly ${caps.fixedSize} bytes; this ${what} has ${n}`);
      }
      if (caps.maxKeySize !== undefined && n > caps.maxKeySize) {
        throw invalidArgument(`the ${this.engine} engine takes keys of at most ${caps.maxKeySize} bytes; this ${what} has ${n}`);
      }
    }
    return bytes;
  }

  /** @internal */
  _value(value: unknown): Bytes {
    if (value === undefined) throw invalidArgument('value is missing (undefined); store an empty string or Buffer for an empty value');
    const bytes = this.#values.encode(value, 'value');
    const fixed = this.#plugin.capabilities.fixedSize;
    if (fixed !== undefined && byteLength(bytes) !== fixed) {
      throw invalidArgument(`the ${this.engine} engine takes values of exactly ${fixed} bytes; this value has ${byteLength(bytes)}`);
    }
    return bytes;
  }

  /** @internal */
  _decodeKey(buf: Buffer): K {
    return this.#keys.adopt(buf);
  }

  /** @internal */
  _decodeValue(buf: Buffer): V {
    return this.#values.adopt(buf);
  }

  /** @internal */
  _require(capability: 'sorted' | 'iterators' | 'defrag' | 'reverse', method: string): void {
    this.#open();
    if (!this.#plugin.capabilities[capability]) {
      const why = capability === 'sorted' ? 'it does not keep keys in order' : `it has no ${capability} support`;
      throw new PmemkvError('NOT_SUPPORTED', `${method}() is not supported by the ${this.engine} engine: ${why}; see db.capabilities`);
    }
  }

  /**
   * Inserts or overwrites `key`. Durable when it returns (persistent engines).
   * @throws PmemkvError OUT_OF_MEMORY when the pool is full (nothing changed), INVALID_ARGUMENT.
   */
  put(key: KeyInput, value: V | string | Buffer | Uint8Array): void {
    const h = this.#open();
    const k = this._key(key);
    const v = this._value(value);
    try {
      h.put(k, v);
    } catch (err) {
      throw toPmemkvError(err);
    }
  }

  /** The value of `key`, or `undefined` when it is not there. */
  get(key: KeyInput): V | undefined {
    const h = this.#open();
    const k = this._key(key);
    try {
      if (h.getInto !== undefined) {
        const n = h.getInto(k, this.#scratch);
        if (n < 0) return undefined;
        if (n <= SCRATCH_BYTES) return this.#values.decode(this.#scratch, n);
      }
      const buf = h.get(k);
      return buf === undefined ? undefined : this.#values.adopt(buf);
    } catch (err) {
      throw toPmemkvError(err);
    }
  }

  /** Whether `key` is there. */
  exists(key: KeyInput): boolean {
    const h = this.#open();
    const k = this._key(key);
    try {
      return h.exists(k);
    } catch (err) {
      throw toPmemkvError(err);
    }
  }

  /** Removes `key`: `true` when it was there, `false` when it was not (not an error). Durable when it returns. */
  remove(key: KeyInput): boolean {
    const h = this.#open();
    const k = this._key(key);
    try {
      return h.remove(k);
    } catch (err) {
      throw toPmemkvError(err);
    }
  }

  /** Applies `ops` in order: atomically (all or nothing, also across a crash) on engines with `transactions`, one by one otherwise. */
  batch(ops: readonly BatchOperation<V>[]): void {
    const h = this.#open();
    const encoded = this._batchOps(ops);
    try {
      h.batch(encoded);
    } catch (err) {
      throw toPmemkvError(err);
    }
  }

  /** @internal */
  _batchOps(ops: readonly BatchOperation<V>[]): BatchOp[] {
    if (!Array.isArray(ops)) throw invalidArgument('batch() takes an array of { type: "put" | "del", key, value? }');
    return ops.map((op, i) => {
      if (op === null || typeof op !== 'object') throw invalidArgument(`batch operation ${i} must be an object`);
      if (op.type === 'put') return { type: 'put', key: this._key(op.key, `batch[${i}].key`), value: this._value(op.value) };
      if (op.type === 'del') return { type: 'del', key: this._key(op.key, `batch[${i}].key`) };
      throw invalidArgument(`batch operation ${i} has type ${JSON.stringify((op as { type?: unknown }).type)}: use 'put' or 'del'`);
    });
  }

  /** @internal Validates defrag arguments (pmemkv's rules). */
  _defragArgs(startPercent: unknown, amountPercent: unknown): [number, number] {
    this._require('defrag', 'defrag');
    for (const [name, v] of [['startPercent', startPercent], ['amountPercent', amountPercent]] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
        throw invalidArgument(`defrag ${name} must be a number from 0 to 100, got ${String(v)}`);
      }
    }
    if ((startPercent as number) + (amountPercent as number) > 100) {
      throw invalidArgument(`defrag startPercent + amountPercent must be at most 100, got ${String(startPercent)} + ${String(amountPercent)}`);
    }
    return [startPercent as number, amountPercent as number];
  }

  /**
   * Defragments `amountPercent` of the pool starting at `startPercent` (0..100 each, sum <= 100).
   * @throws PmemkvError NOT_SUPPORTED (engine without defrag), INVALID_ARGUMENT, DEFRAG_ERROR.
   */
  defrag(startPercent = 0, amountPercent = 100): void {
    const h = this.#open();
    const [start, amount] = this._defragArgs(startPercent, amountPercent);
    try {
      h.defrag!(start, amount);
    } catch (err) {
      throw toPmemkvError(err);
    }
  }

  /** @internal */
  _count(range: KeyRange | undefined): number {
    const h = this.#open();
    try {
      return h.count(range);
    } catch (err) {
      throw toPmemkvError(err);
    }
  }

  countAll(): number {
    return this._count(undefined);
  }
  /** Number of keys `> key` (sorted engines). */
  countAbove(key: KeyInput): number {
    return this._count(this._bounds('countAbove', [key, false], null));
  }
  /** Number of keys `>= key` (sorted engines). */
  countEqualAbove(key: KeyInput): number {
    return this._count(this._bounds('countEqualAbove', [key, true], null));
  }
  /** Number of keys `< key` (sorted engines). */
  countBelow(key: KeyInput): number {
    return this._count(this._bounds('countBelow', null, [key, false]));
  }
  /** Number of keys `<= key` (sorted engines). */
  countEqualBelow(key: KeyInput): number {
    return this._count(this._bounds('countEqualBelow', null, [key, true]));
  }
  /** Number of keys strictly between `key1` and `key2` (sorted engines); 0 when `key1 >= key2`. */
  countBetween(key1: KeyInput, key2: KeyInput): number {
    return this._count(this._bounds('countBetween', [key1, false], [key2, false]));
  }

  /** @internal A range of a count/get method (`null`: unbounded side); the engine must be sorted. */
  _bounds(method: string, lower: Side | null, upper: Side | null): KeyRange {
    this._require('sorted', method);
    const range: { -readonly [P in keyof KeyRange]: KeyRange[P] } = {};
    if (lower !== null) {
      range.lower = this._key(lower[0], upper !== null ? 'key1' : 'key');
      range.lowerInclusive = lower[1];
    }
    if (upper !== null) {
      range.upper = this._key(upper[0], lower !== null ? 'key2' : 'key');
      range.upperInclusive = upper[1];
    }
    return range;
  }

  /** @internal Turns iterate options into a walk plan, checking capabilities. */
  _plan(options: IterateOptions | undefined, method: string): WalkPlan {
    this._require('iterators', method);
    if (options === undefined || options === null) return { range: undefined, reverse: false, limit: Infinity };
    if (typeof options !== 'object') throw invalidArgument(`${method}() options must be an object of { gt, gte, lt, lte, reverse, limit }`);
    for (const key of Object.keys(options)) {
      if (!['gt', 'gte', 'lt', 'lte', 'reverse', 'limit'].includes(key)) {
        throw invalidArgument(`${method}() does not know the option '${key}': use gt, gte, lt, lte, reverse, limit`);
      }
    }
    const { gt, gte, lt, lte, reverse, limit } = options;
    if (gt !== undefined && gte !== undefined) throw invalidArgument(`${method}(): give gt or gte, not both`);
    if (lt !== undefined && lte !== undefined) throw invalidArgument(`${method}(): give lt or lte, not both`);
    const hasBounds = gt !== undefined || gte !== undefined || lt !== undefined || lte !== undefined;
    if (hasBounds) this._require('sorted', `${method}() with a range`);
    if (reverse !== undefined && typeof reverse !== 'boolean') throw invalidArgument(`${method}(): reverse must be a boolean`);
    if (reverse) this._require('reverse', `${method}() in reverse`);
    let max = Infinity;
    if (limit !== undefined && limit !== Infinity) {
      if (typeof limit !== 'number' || !Number.isInteger(limit)) throw invalidArgument(`${method}(): limit must be an integer (or -1/Infinity for no limit)`);
      max = limit < 0 ? Infinity : limit;
    }
    let range: KeyRange | undefined;
    if (hasBounds) {
      const r: { -readonly [P in keyof KeyRange]: KeyRange[P] } = {};
      if (gt !== undefined) (r.lower = this._key(gt, 'gt')), (r.lowerInclusive = false);
      if (gte !== undefined) (r.lower = this._key(gte, 'gte')), (r.lowerInclusive = true);
      if (lt !== undefined) (r.upper = this._key(lt, 'lt')), (r.upperInclusive = false);
      if (lte !== undefined) (r.upper = this._key(lte, 'lte')), (r.upperInclusive = true);
      range = r;
    }
    return { range, reverse: reverse === true, limit: max };
  }

  /**
   * @internal The next chunk of a walk: up to `want` entries after the resume point. Sorted
   * engines resume after the last key of the previous chunk; unsorted ones are read in one go.
   */
  _nextRange(plan: WalkPlan, lastKey: Buffer): KeyRange {
    const r = plan.range ?? {};
    return plan.reverse
      ? { ...r, upper: lastKey, upperInclusive: false }
      : { ...r, lower: lastKey, lowerInclusive: false };
  }

  /** @internal Raw walk as [key, value] buffer pairs. */
  *_walk(plan: WalkPlan): Generator<[Buffer, Buffer]> {
    let remaining = plan.limit;
    if (remaining === 0) return;
    const sorted = this.#plugin.capabilities.sorted;
    let range = plan.range;
    let chunk = FIRST_CHUNK;
    for (;;) {
      const h = this.#open();
      const want = sorted ? Math.min(chunk, remaining) : remaining;
      let flat: Buffer[];
      try {
        flat = h.scan(range, plan.reverse, want);
      } catch (err) {
        throw toPmemkvError(err);
      }
      for (let i = 0; i + 1 < flat.length; i += 2) yield [flat[i]!, flat[i + 1]!];
      const got = flat.length / 2;
      remaining -= got;
      if (!sorted || got < want || remaining <= 0) return;
      range = this._nextRange({ ...plan, range }, flat[flat.length - 2]!);
      chunk = Math.min(chunk * 4, MAX_CHUNK);
    }
  }

  /** @internal */
  _visit(method: string, range: KeyRange | undefined, cb: unknown): boolean {
    if (typeof cb !== 'function') throw invalidArgument(`${method}() needs a callback (key, value) => boolean | void`);
    const fn = cb as EntryCallback<K, V>;
    for (const [k, v] of this._walk({ range, reverse: false, limit: Infinity })) {
      if (fn(this.#keys.adopt(k), this.#values.adopt(v)) === true) return true;
    }
    return false;
  }

  /**
   * Calls `cb(key, value)` for every entry (in key order on sorted engines). Returns `true` when
   * the callback returned `true` and so stopped the walk (pmemkv's STOPPED_BY_CB), else `false`.
   */
  getAll(cb: EntryCallback<K, V>): boolean {
    this.#open();
    return this._visit('getAll', undefined, cb);
  }
  /** Walks keys `> key` in order. */
  getAbove(key: KeyInput, cb: EntryCallback<K, V>): boolean {
    return this._visit('getAbove', this._bounds('getAbove', [key, false], null), cb);
  }
  /** Walks keys `>= key` in order. */
  getEqualAbove(key: KeyInput, cb: EntryCallback<K, V>): boolean {
    return this._visit('getEqualAbove', this._bounds('getEqualAbove', [key, true], null), cb);
  }
  /** Walks keys `< key` in order. */
  getBelow(key: KeyInput, cb: EntryCallback<K, V>): boolean {
    return this._visit('getBelow', this._bounds('getBelow', null, [key, false]), cb);
  }
  /** Walks keys `<= key` in order. */
  getEqualBelow(key: KeyInput, cb: EntryCallback<K, V>): boolean {
    return this._visit('getEqualBelow', this._bounds('getEqualBelow', null, [key, true]), cb);
  }
  /** Walks keys strictly between `key1` and `key2` in order (nothing when `key1 >= key2`). */
  getBetween(key1: KeyInput, key2: KeyInput, cb: EntryCallback<K, V>): boolean {
    return this._visit('getBetween', this._bounds('getBetween', [key1, false], [key2, false]), cb);
  }

  /** `[key, value]` pairs of `range`, in key order on sorted engines (any order otherwise). */
  *entries(range?: IterateOptions): IterableIterator<[K, V]> {
    for (const [k, v] of this._walk(this._plan(range, 'entries'))) yield [this.#keys.adopt(k), this.#values.adopt(v)];
  }
  *keys(range?: IterateOptions): IterableIterator<K> {
    for (const [k] of this._walk(this._plan(range, 'keys'))) yield this.#keys.adopt(k);
  }
  *values(range?: IterateOptions): IterableIterator<V> {
    for (const [, v] of this._walk(this._plan(range, 'values'))) yield this.#values.adopt(v);
  }
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /**
   * Closes the database. Idempotent. The engine's pool closes once every database open on it
   * (in any thread) is closed and no async work on it is in flight.
   */
  close(): void {
    const h = this.#handle;
    if (h === null) return;
    this.#handle = null;
    try {
      h.close();
    } catch (err) {
      throw toPmemkvError(err);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal For DatabasePromises. */
  _handle(): EngineHandle {
    return this.#open();
  }
}

/**
 * The async twins of Database's data methods (`db.promises`), run off the JS thread by native
 * engines (in parallel on concurrent engines). Arguments are encoded and copied before the
 * method returns, so callers may reuse their buffers at once.
 */
export class DatabasePromises<K, V> {
  readonly #db: Database<K, V>;
  readonly #handle: () => EngineHandle;
  readonly #isOpen = (): boolean => this.#db.isOpen;

  /** @internal */
  constructor(db: Database<K, V>, handle: () => EngineHandle) {
    this.#db = db;
    this.#handle = handle;
  }

  async #call<T>(run: (h: EngineHandle) => Promise<T> | T): Promise<T> {
    const h = this.#handle();
    try {
      return await run(h);
    } catch (err) {
      throw toPmemkvError(err);
    }
  }

  put(key: KeyInput, value: V | string | Buffer | Uint8Array): Promise<void> {
    return this.#start(() => {
      const k = this.#db._key(key);
      const v = this.#db._value(value);
      return this.#call((h) => (h.async ? h.async.put(k, v) : later(() => h.put(k, v), this.#isOpen)));
    });
  }

  get(key: KeyInput): Promise<V | undefined> {
    return this.#start(async () => {
      const k = this.#db._key(key);
      const buf = await this.#call((h) => (h.async ? h.async.get(k) : later(() => h.get(k), this.#isOpen)));
      return buf === undefined ? undefined : this.#db._decodeValue(buf);
    });
  }

  exists(key: KeyInput): Promise<boolean> {
    return this.#start(() => {
      const k = this.#db._key(key);
      return this.#call((h) => (h.async ? h.async.exists(k) : later(() => h.exists(k), this.#isOpen)));
    });
  }

  remove(key: KeyInput): Promise<boolean> {
    return this.#start(() => {
      const k = this.#db._key(key);
      return this.#call((h) => (h.async ? h.async.remove(k) : later(() => h.remove(k), this.#isOpen)));
    });
  }

  batch(ops: readonly BatchOperation<V>[]): Promise<void> {
    return this.#start(() => {
      const encoded = this.#db._batchOps(ops);
      return this.#call((h) => (h.async ? h.async.batch(encoded) : later(() => h.batch(encoded), this.#isOpen)));
    });
  }

  defrag(startPercent = 0, amountPercent = 100): Promise<void> {
    return this.#start(() => {
      const [s, a] = this.#db._defragArgs(startPercent, amountPercent);
      return this.#call((h) => (h.async?.defrag ? h.async.defrag(s, a) : later(() => h.defrag!(s, a), this.#isOpen)));
    });
  }

  #count(range: () => KeyRange | undefined): Promise<number> {
    return this.#start(() => {
      const r = range();
      return this.#call((h) => (h.async ? h.async.count(r) : later(() => h.count(r), this.#isOpen)));
    });
  }

  countAll(): Promise<number> {
    return this.#count(() => undefined);
  }
  countAbove(key: KeyInput): Promise<number> {
    return this.#count(() => this.#db._bounds('countAbove', [key, false], null));
  }
  countEqualAbove(key: KeyInput): Promise<number> {
    return this.#count(() => this.#db._bounds('countEqualAbove', [key, true], null));
  }
  countBelow(key: KeyInput): Promise<number> {
    return this.#count(() => this.#db._bounds('countBelow', null, [key, false]));
  }
  countEqualBelow(key: KeyInput): Promise<number> {
    return this.#count(() => this.#db._bounds('countEqualBelow', null, [key, true]));
  }
  countBetween(key1: KeyInput, key2: KeyInput): Promise<number> {
    return this.#count(() => this.#db._bounds('countBetween', [key1, false], [key2, false]));
  }

  /** Async walk in chunks; the callback runs on the JS thread between chunks. */
  async *#walk(plan: WalkPlan): AsyncGenerator<[Buffer, Buffer]> {
    let remaining = plan.limit;
    if (remaining === 0) return;
    const sorted = this.#db.capabilities.sorted;
    let range = plan.range;
    let chunk = FIRST_CHUNK;
    for (;;) {
      const want = sorted ? Math.min(chunk, remaining) : remaining;
      const r = range;
      const flat = await this.#call((h) => (h.async ? h.async.scan(r, plan.reverse, want) : later(() => h.scan(r, plan.reverse, want), this.#isOpen)));
      for (let i = 0; i + 1 < flat.length; i += 2) yield [flat[i]!, flat[i + 1]!];
      const got = flat.length / 2;
      remaining -= got;
      if (!sorted || got < want || remaining <= 0) return;
      range = this.#db._nextRange({ ...plan, range }, flat[flat.length - 2]!);
      chunk = Math.min(chunk * 4, MAX_CHUNK);
    }
  }

  #visit(method: string, range: () => KeyRange | undefined, cb: EntryCallback<K, V>): Promise<boolean> {
    return this.#start(async () => {
      const r = range();
      if (typeof cb !== 'function') throw invalidArgument(`${method}() needs a callback (key, value) => boolean | void`);
      for await (const [k, v] of this.#walk({ range: r, reverse: false, limit: Infinity })) {
        if (cb(this.#db._decodeKey(k), this.#db._decodeValue(v)) === true) return true;
      }
      return false;
    });
  }

  getAll(cb: EntryCallback<K, V>): Promise<boolean> {
    return this.#visit('getAll', () => undefined, cb);
  }
  getAbove(key: KeyInput, cb: EntryCallback<K, V>): Promise<boolean> {
    return this.#visit('getAbove', () => this.#db._bounds('getAbove', [key, false], null), cb);
  }
  getEqualAbove(key: KeyInput, cb: EntryCallback<K, V>): Promise<boolean> {
    return this.#visit('getEqualAbove', () => this.#db._bounds('getEqualAbove', [key, true], null), cb);
  }
  getBelow(key: KeyInput, cb: EntryCallback<K, V>): Promise<boolean> {
    return this.#visit('getBelow', () => this.#db._bounds('getBelow', null, [key, false]), cb);
  }
  getEqualBelow(key: KeyInput, cb: EntryCallback<K, V>): Promise<boolean> {
    return this.#visit('getEqualBelow', () => this.#db._bounds('getEqualBelow', null, [key, true]), cb);
  }
  getBetween(key1: KeyInput, key2: KeyInput, cb: EntryCallback<K, V>): Promise<boolean> {
    return this.#visit('getBetween', () => this.#db._bounds('getBetween', [key1, false], [key2, false]), cb);
  }

  /** Async iteration (`for await`), in key order on sorted engines. Options are checked at the first `next()`. */
  async *entries(range?: IterateOptions): AsyncIterableIterator<[K, V]> {
    for await (const [k, v] of this.#walk(this.#db._plan(range, 'entries'))) yield [this.#db._decodeKey(k), this.#db._decodeValue(v)];
  }
  async *keys(range?: IterateOptions): AsyncIterableIterator<K> {
    for await (const [k] of this.#walk(this.#db._plan(range, 'keys'))) yield this.#db._decodeKey(k);
  }
  async *values(range?: IterateOptions): AsyncIterableIterator<V> {
    for await (const [, v] of this.#walk(this.#db._plan(range, 'values'))) yield this.#db._decodeValue(v);
  }

  /** Runs argument checks inside the promise, so bad input rejects instead of throwing synchronously. */
  #start<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return fn();
    } catch (err) {
      return Promise.reject(toPmemkvError(err));
    }
  }
}

/**
 * Runs a sync engine call in a later turn, for engines without async twins. `isOpen` is checked
 * again when the call runs: a database closed in between rejects instead of reaching a closed handle.
 */
function later<T>(fn: () => T, isOpen: () => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    setImmediate(() => {
      try {
        if (!isOpen()) throw closedError();
        resolve(fn());
      } catch (err) {
        reject(err);
      }
    });
  });
}
