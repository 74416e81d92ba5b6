/**
 * DO NOT IMPORT FROM OUTSIDE @pmemkv/core. Not public API: `./internal/*` is closed in the
 * package's `exports`, and nothing here appears in the published declarations of `Database`.
 *
 * Access: what `Database` and `DatabasePromises` share about one open engine, written once: the
 * handle and its closed state, the key and value codecs, the capability checks and their
 * messages, and the checking and encoding of every argument (keys, values, batches, defrag
 * percentages, count/get ranges, iteration options). Every check throws a `PmemkvError`; none
 * reaches the engine.
 *
 * Thread-safety: as its Database: it belongs to the JS thread that opened it.
 */
import type { BatchOp, Bytes, Capabilities, EngineHandle, EnginePlugin, KeyRange } from '../contract';
import { byteLength, type Codec } from '../encodings';
import { invalidArgument, PmemkvError } from '../errors';
import { PooledReads } from './pooled-reads';

/** Capabilities as `db.capabilities` shows them: `sync` always present. */
export type ResolvedCapabilities = Readonly<Capabilities & { readonly sync: boolean }>;

/** The plugin's capabilities with `sync` filled in (absent means `true`), frozen. */
export function resolveCapabilities(caps: Capabilities): ResolvedCapabilities {
  return Object.freeze({ ...caps, sync: caps.sync !== false });
}

/**
 * What a method needs beyond an open database: `sorted` (the count/get range variants),
 * `range` (iteration with gt/gte/lt/lte), `reverse`, `iterators` (entries/keys/values), `defrag`.
 */
export type Need = 'sorted' | 'range' | 'reverse' | 'iterators' | 'defrag';

/** How walks read the engine: see walk.ts. */
export type WalkMode = 'sorted' | 'unordered' | 'whole';

/** Which sides of a count/get range variant are bounded, and whether each includes its key. */
export interface RangeShape {
  readonly lower?: boolean;
  readonly upper?: boolean;
}

/** The count/get range variants of the public API, by suffix (`countAbove`, `getAbove`, ...). */
export const RANGES = {
  Above: { lower: false },
  EqualAbove: { lower: true },
  Below: { upper: false },
  EqualBelow: { upper: true },
  Between: { lower: false, upper: false },
} as const satisfies Record<string, RangeShape>;

/** A walk: the engine range (sorted engines), direction and how many entries at most. */
export interface WalkPlan {
  readonly range: KeyRange | undefined;
  readonly reverse: boolean;
  readonly limit: number;
}

/** A walk callback as the walks call it. */
export type Visitor<K, V> = (key: K, value: V) => unknown;

/** Values up to this size come back through one reused buffer instead of a fresh one per get. */
export const SCRATCH_BYTES = 64 * 1024;

const ITERATE_OPTIONS = ['gt', 'gte', 'lt', 'lte', 'reverse', 'limit'];

type MutableRange = { -readonly [P in keyof KeyRange]: KeyRange[P] };

function closedError(): PmemkvError {
  return invalidArgument('the database is closed: open it again with open()');
}

function pluginName(plugin: EnginePlugin): string {
  return plugin.packageName !== undefined ? `the ${plugin.name} engine (${plugin.packageName})` : `the ${plugin.name} engine`;
}

/** Why `need` is missing, as the end of a sentence about the engine. */
function capabilityMessage(need: Need, method: string, engine: string, caps: Capabilities): string {
  switch (need) {
    case 'sorted':
      return `${method}() is not available on the ${engine} engine: it does not keep keys in order, so it cannot count or walk a key range; see db.capabilities`;
    case 'range':
      return `${method}() cannot take a key range (gt, gte, lt, lte) on the ${engine} engine: it does not keep keys in order; iterate without bounds, or use a sorted engine; see db.capabilities`;
    case 'reverse':
      return caps.sorted
        ? `${method}() cannot iterate in reverse on the ${engine} engine: it iterates in ascending key order only; see db.capabilities`
        : `${method}() cannot iterate in reverse on the ${engine} engine: it does not keep keys in order; see db.capabilities`;
    case 'iterators':
      return `${method}() is not available on the ${engine} engine: it has no iterators; visit every entry with getAll(callback) instead; see db.capabilities`;
    case 'defrag':
      return `${method}() is not available on the ${engine} engine: it does not implement defragmentation; see db.capabilities`;
  }
}

/** Whether the handle walks unsorted data in chunks: sync engines need `scanUnordered` (its async twin is optional), async-only engines `async.scanUnordered`. */
function walksUnordered(caps: ResolvedCapabilities, handle: EngineHandle): boolean {
  return caps.sync ? typeof handle.scanUnordered === 'function' : typeof handle.async?.scanUnordered === 'function';
}

/**
 * Refuses a handle that cannot serve its plugin's capabilities (a plugin defect, found at open
 * rather than in the middle of a walk): unsorted iterators need `scanUnordered`, async-only
 * engines need `async`. The handle is closed before the error is thrown.
 */
function checkHandle(plugin: EnginePlugin, caps: ResolvedCapabilities, handle: EngineHandle): void {
  let problem: string | undefined;
  if (handle === null || typeof handle !== 'object') {
    throw new PmemkvError('INVALID_ARGUMENT', `${pluginName(plugin)}: open() returned ${handle === null ? 'null' : typeof handle}, not an engine handle`);
  }
  if (!caps.sync && (handle.async === null || typeof handle.async !== 'object')) {
    problem = 'is async-only (capabilities.sync is false) but its handle has no async methods (handle.async)';
  } else if (caps.iterators && !caps.sorted && !walksUnordered(caps, handle)) {
    problem = caps.sync
      ? 'has unsorted iterators but its handle has no scanUnordered() (required by engine contract 2)'
      : 'has unsorted iterators but its handle has no async.scanUnordered() (required by engine contract 2 of an async-only engine)';
  } else if ((caps.sorted || !walksUnordered(caps, handle)) && typeof (caps.sync ? handle.scan : handle.async?.scan) !== 'function') {
    problem = caps.sync ? 'has no scan() on its handle (required of sorted engines)' : 'has no async.scan() on its handle (required of sorted engines)';
  }
  if (problem === undefined) return;
  try {
    handle.close();
  } catch {
    // The handle is refused either way; the defect is what the user must hear about.
  }
  throw new PmemkvError('INVALID_ARGUMENT', `${pluginName(plugin)} ${problem}: install versions of the engine and of @pmemkv/core built for the same contract`);
}

/**
 * The handle's pooled get path, or `undefined` when it has none or its first pool cannot be
 * allocated: `get` then takes its other paths, which give the same values.
 */
function pooledReads(handle: EngineHandle, values: Codec<unknown>): PooledReads | undefined {
  try {
    return PooledReads.of(handle, values);
  } catch {
    return undefined;
  }
}

export class Access<K, V> {
  #handle: EngineHandle | null;
  readonly plugin: EnginePlugin;
  readonly caps: ResolvedCapabilities;
  readonly keys: Codec<K>;
  readonly values: Codec<V>;
  /** How walks read this engine. */
  readonly walkMode: WalkMode;
  /** Reused by sync `get` (see SCRATCH_BYTES). */
  readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  /** The pooled get path, when the handle has one (see pooled-reads.ts). */
  readonly pooled: PooledReads | undefined;

  constructor(plugin: EnginePlugin, handle: EngineHandle, keys: Codec<K>, values: Codec<V>) {
    this.plugin = plugin;
    this.caps = resolveCapabilities(plugin.capabilities);
    checkHandle(plugin, this.caps, handle);
    this.#handle = handle;
    this.keys = keys;
    this.values = values;
    this.walkMode = this.caps.sorted ? 'sorted' : walksUnordered(this.caps, handle) ? 'unordered' : 'whole';
    this.pooled = this.caps.sync ? pooledReads(handle, values) : undefined;
  }

  get engine(): string {
    return this.plugin.name;
  }

  get isOpen(): boolean {
    return this.#handle !== null;
  }

  /** Whether the handle has async twins (`handle.async`). */
  get hasAsync(): boolean {
    return this.#handle !== null && typeof this.#handle.async === 'object' && this.#handle.async !== null;
  }

  /** The open handle. @throws PmemkvError INVALID_ARGUMENT when the database is closed. */
  handle(): EngineHandle {
    const h = this.#handle;
    if (h === null) throw closedError();
    return h;
  }

  /** Forgets the handle (idempotent); returns it when it was open, for the caller to close. */
  detach(): EngineHandle | null {
    const h = this.#handle;
    this.#handle = null;
    return h;
  }

  /** Refuses a sync data method on an async-only engine, naming its promises twin. */
  refuseSync(method: string): void {
    if (this.caps.sync) return;
    throw new PmemkvError(
      'NOT_SUPPORTED',
      `${method}() is not available on the ${this.engine} engine, which is async-only: use db.promises.${method}() instead; see db.capabilities.sync`,
    );
  }

  /** Checks that the database is open, then that the engine has what `method` needs. */
  require(need: Need, method: string): void {
    this.handle();
    const has = need === 'range' ? this.caps.sorted : this.caps[need];
    if (!has) throw new PmemkvError('NOT_SUPPORTED', capabilityMessage(need, method, this.engine, this.caps));
  }

  /** Encodes a key; `what` names it in messages (`key`, `gt`, `batch[3].key`, ...). */
  key(key: unknown, what = 'key'): Bytes {
    const bytes = this.keys.encode(key, what);
    const caps = this.caps;
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

  /**
   * `key(key)` for element `i` of a list argument: its error names `${list}[${i}]${suffix}`,
   * a label built only when it throws (not once per element).
   */
  keyAt(key: unknown, list: string, i: number, suffix = ''): Bytes {
    try {
      return this.key(key);
    } catch {
      return this.key(key, `${list}[${i}]${suffix}`); // throws again, naming the element
    }
  }

  value(value: unknown): Bytes {
    if (value === undefined) throw invalidArgument('value is missing (undefined); store an empty string or Buffer for an empty value');
    const bytes = this.values.encode(value, 'value');
    const fixed = this.caps.fixedSize;
    if (fixed !== undefined && byteLength(bytes) !== fixed) {
      throw invalidArgument(`the ${this.engine} engine takes values of exactly ${fixed} bytes; this value has ${byteLength(bytes)}`);
    }
    return bytes;
  }

  batchOps(ops: unknown): BatchOp[] {
    if (!Array.isArray(ops)) throw invalidArgument('batch() takes an array of { type: "put" | "del", key, value? }');
    const out = new Array<BatchOp>(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const op: unknown = ops[i];
      if (op === null || typeof op !== 'object') throw invalidArgument(`batch operation ${i} must be an object`);
      const { type, key, value } = op as { type?: unknown; key?: unknown; value?: unknown };
      if (type !== 'put' && type !== 'del') throw invalidArgument(`batch operation ${i} has type ${JSON.stringify(type)}: use 'put' or 'del'`);
      const k = this.keyAt(key, 'batch', i, '.key');
      out[i] = type === 'put' ? { type: 'put', key: k, value: this.value(value) } : { type: 'del', key: k };
    }
    return out;
  }

  /** Defrag percentages by pmemkv's rules: each 0..100, their sum at most 100. */
  defragArgs(startPercent: unknown, amountPercent: unknown): [number, number] {
    this.require('defrag', 'defrag');
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

  /** The engine range of a count/get range variant; `keys` are its key arguments in order. */
  range(method: string, shape: RangeShape, keys: readonly unknown[]): KeyRange {
    this.require('sorted', method);
    const both = shape.lower !== undefined && shape.upper !== undefined;
    const range: MutableRange = {};
    let next = 0;
    if (shape.lower !== undefined) {
      range.lower = this.key(keys[next++], both ? 'key1' : 'key');
      range.lowerInclusive = shape.lower;
    }
    if (shape.upper !== undefined) {
      range.upper = this.key(keys[next], both ? 'key2' : 'key');
      range.upperInclusive = shape.upper;
    }
    return range;
  }

  /** A walk callback, checked. */
  callback(method: string, cb: unknown): Visitor<K, V> {
    if (typeof cb !== 'function') throw invalidArgument(`${method}() needs a callback (key, value) => boolean | void`);
    return cb as Visitor<K, V>;
  }

  /** Turns iterate options into a walk plan, checking capabilities. */
  plan(options: unknown, method: string): WalkPlan {
    this.require('iterators', method);
    if (options === undefined || options === null) return { range: undefined, reverse: false, limit: Infinity };
    if (typeof options !== 'object') throw invalidArgument(`${method}() options must be an object of { gt, gte, lt, lte, reverse, limit }`);
    for (const key of Object.keys(options)) {
      if (!ITERATE_OPTIONS.includes(key)) {
        throw invalidArgument(`${method}() does not know the option '${key}': use gt, gte, lt, lte, reverse, limit`);
      }
    }
    const { gt, gte, lt, lte, reverse, limit } = options as Record<string, unknown>;
    if (gt !== undefined && gte !== undefined) throw invalidArgument(`${method}(): give gt or gte, not both`);
    if (lt !== undefined && lte !== undefined) throw invalidArgument(`${method}(): give lt or lte, not both`);
    const hasBounds = gt !== undefined || gte !== undefined || lt !== undefined || lte !== undefined;
    if (hasBounds) this.require('range', method);
    if (reverse !== undefined && typeof reverse !== 'boolean') throw invalidArgument(`${method}(): reverse must be a boolean`);
    if (reverse) this.require('reverse', method);
    let max = Infinity;
    if (limit !== undefined && limit !== Infinity) {
      if (typeof limit !== 'number' || !Number.isInteger(limit)) throw invalidArgument(`${method}(): limit must be an integer (or -1/Infinity for no limit)`);
      max = limit < 0 ? Infinity : limit;
    }
    let range: KeyRange | undefined;
    if (hasBounds) {
      const r: MutableRange = {};
      if (gt !== undefined) (r.lower = this.key(gt, 'gt')), (r.lowerInclusive = false);
      if (gte !== undefined) (r.lower = this.key(gte, 'gte')), (r.lowerInclusive = true);
      if (lt !== undefined) (r.upper = this.key(lt, 'lt')), (r.upperInclusive = false);
      if (lte !== undefined) (r.upper = this.key(lte, 'lte')), (r.upperInclusive = true);
      range = r;
    }
    return { range, reverse: reverse === true, limit: max };
  }
}
