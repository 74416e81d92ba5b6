/**
 * The engine plugin contract: what an engine package exports and what the handle it opens
 * must do. `Database` (the public face) validates arguments, encodes keys and values, checks
 * the closed state and the engine's capabilities, and only then calls the handle with exact
 * types, so an engine never sees a bad argument, a closed database or an unsupported call.
 *
 * Bump CONTRACT_VERSION on any incompatible change to these types; core refuses plugins that
 * implement another version.
 */

/**
 * The version of this contract. A plugin's `contractVersion` must equal it.
 *
 * 2: unsorted engines walk in resumable chunks (`scanUnordered`), engines declare their
 *    `threadModel` and `layout`, capabilities gain `sync` (async-only engines), config schemas
 *    may hold nested objects.
 */
export const CONTRACT_VERSION = 2;

/**
 * How an engine may be called from several threads (declared by the engine, enforced by the
 * native SDK): `'thread-safe'`: every call may run in parallel; `'single-writer'`: reads share a
 * lock, a write runs alone among writes; `'serialized'`: one call at a time. Engines that are not
 * thread-safe are still safe to use from worker threads and the async API: the SDK queues their
 * async work per engine and never parks a libuv thread on the engine's lock.
 */
export type ThreadModel = 'thread-safe' | 'single-writer' | 'serialized';

/** Runtime engine names: lowercase letters, digits, `_` and `-`, starting with a letter or digit. */
export const ENGINE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * What an engine supports. Core answers an unsupported call with `NOT_SUPPORTED` before the
 * handle is reached, and the conformance suite runs only the groups an engine claims.
 */
export interface Capabilities {
  /** Data survives close and reopen (and a process crash) when the same `path` is opened. */
  readonly persistent: boolean;
  /** The engine itself is safe for concurrent calls from several threads (async work runs in parallel). */
  readonly concurrent: boolean;
  /** Keys are kept in bytewise order: every count/get range variant and range iteration work. */
  readonly sorted: boolean;
  /** `entries/keys/values` iteration is available (in key order when `sorted`). */
  readonly iterators: boolean;
  /** Iteration can run in reverse (sorted engines only). */
  readonly reverse: boolean;
  /** `batch(ops)` is applied atomically: after a crash either all of a batch is there or none. */
  readonly transactions: boolean;
  /** `defrag(startPercent, amountPercent)` is implemented. */
  readonly defrag: boolean;
  /** Largest key the engine accepts, in bytes (`Infinity` when only the pool bounds it). */
  readonly maxKeySize?: number;
  /** When set, every key and value must be exactly this many bytes (robinhood: 8). */
  readonly fixedSize?: number;
  /**
   * `false` for an async-only engine (a remote store): core refuses its sync methods with
   * NOT_SUPPORTED and callers use `db.promises`. Absent means `true`.
   */
  readonly sync?: boolean;
}

/** Bytes as an engine receives them: a string stands for its UTF-8 encoding. */
export type Bytes = Buffer | string;

/**
 * A key range in engine terms. An absent bound is unbounded on that side. An empty or
 * inverted range is simply empty (never an error).
 */
export interface KeyRange {
  readonly lower?: Bytes;
  /** `true`: `>= lower`; `false`: `> lower`. Ignored when `lower` is absent. */
  readonly lowerInclusive?: boolean;
  readonly upper?: Bytes;
  /** `true`: `<= upper`; `false`: `< upper`. Ignored when `upper` is absent. */
  readonly upperInclusive?: boolean;
}

/** One operation of `EngineHandle.batch`: `value` is present exactly when `type` is `'put'`. */
export interface BatchOp {
  readonly type: 'put' | 'del';
  readonly key: Bytes;
  readonly value?: Bytes;
}

/**
 * The async twins of the handle's data methods. They run off the JS thread (the libuv pool for
 * native engines); arguments are copied before the call returns, so callers may reuse buffers.
 * An engine may omit this; core then runs the sync methods in a later turn.
 */
export interface AsyncEngineHandle {
  put(key: Bytes, value: Bytes): Promise<void>;
  get(key: Bytes): Promise<Buffer | undefined>;
  exists(key: Bytes): Promise<boolean>;
  remove(key: Bytes): Promise<boolean>;
  count(range: KeyRange | undefined): Promise<number>;
  /** As `EngineHandle.scan` (present where the sync one is). */
  scan?(range: KeyRange | undefined, reverse: boolean, limit: number): Promise<Buffer[]>;
  /** Only on unsorted engines: as `EngineHandle.scanUnordered`. */
  scanUnordered?(token: Buffer | undefined, limit: number): Promise<UnorderedChunk>;
  batch(ops: readonly BatchOp[]): Promise<void>;
  /** As `EngineHandle.batchEncoded`, except that `encoded` is the engine's until the Promise settles (never reused). */
  batchEncoded?(encoded: Buffer): Promise<void>;
  defrag?(startPercent: number, amountPercent: number): Promise<void>;
}

/**
 * The object `EnginePlugin.open` returns; core's `Database` drives it.
 *
 * Errors: a method throws an Error whose `code` is a pmemkv status name (`OUT_OF_MEMORY`,
 * `INVALID_ARGUMENT`, ...); core turns it into a `PmemkvError`. Missing keys are values
 * (`undefined`, `false`), never errors.
 *
 * Ownership: every Buffer a handle returns is owned by the caller and stays valid after the
 * call; nothing returned may point into a pool file's mapping.
 *
 * Threads: a handle is used from the JS thread that opened it. Several handles (from several
 * worker threads) may be open on the same path at once; the engine shares one pool between them.
 */
export interface EngineHandle {
  /** Inserts or overwrites. REQUIRES: the handle is open. */
  put(key: Bytes, value: Bytes): void;
  /** The value's bytes, or `undefined` when the key is not there. */
  get(key: Bytes): Buffer | undefined;
  /**
   * Optional fast path of `get`: copies the value into `scratch` and returns its length, or -1
   * when the key is not there. When the value is longer than `scratch` nothing is copied and
   * the full length is returned; core then calls `get`.
   */
  getInto?(key: Bytes, scratch: Buffer): number;
  /**
   * Optional fast path of a `get` of several keys in one call: reads `keys[start]` on into
   * `scratch` and returns how many keys it read (at least one while `start < keys.length`).
   * For the j-th key read, `scratch` holds a little-endian int32 at byte `4 * j`: the
   * value's length, -1 when the key is not there, -2 when the value is too long for the call
   * (core then calls `get` for it); the values follow one another from byte
   * `4 * GET_MANY_SLOTS` on (256 slots). Each key is read as by `get`; the keys are not read
   * as one snapshot. REQUIRES: scratch is longer than 4 * GET_MANY_SLOTS bytes.
   */
  getManyInto?(keys: readonly Bytes[], scratch: Buffer, start: number): number;
  /**
   * Optional fast path of `get` that core tries first: copies the value into the ArrayBuffer
   * `pool` at `offset` and returns its length, or -1 when the key is not there. When the value
   * is longer than the rest of the pool nothing is copied and the full length is returned
   * (core then reads the key another way). An offset beyond the pool is INVALID_ARGUMENT.
   * Core hands out views of its pools as the values of `buffer`-encoded gets, so the handle
   * must not keep the pool or its address after the call.
   */
  getPooled?(key: Bytes, pool: ArrayBuffer, offset: number): number;
  exists(key: Bytes): boolean;
  /** `true` when the key was there and is now gone; `false` when it was not there. */
  remove(key: Bytes): boolean;
  /** Number of entries in `range` (all entries when `range` is undefined). Unsorted engines get only `undefined`. */
  count(range: KeyRange | undefined): number;
  /**
   * Up to `limit` entries of `range` as a flat array `[key0, value0, key1, value1, ...]`, in key
   * order (descending when `reverse`). Sorted engines: core reads a long walk in chunks of at
   * most 1024 entries, each resuming after the last key of the one before. Unsorted engines are
   * walked with `scanUnordered`; only one that has neither iterators nor `scanUnordered` gets a
   * single `scan(undefined, false, Infinity)` call, for `getAll`. Required on sorted engines and on
   * unsorted engines without `scanUnordered`; an unsorted engine with `scanUnordered` may omit it.
   */
  scan?(range: KeyRange | undefined, reverse: boolean, limit: number): Buffer[];
  /**
   * Unsorted engines (required when `iterators` is set and `sorted` is not): one chunk of a full
   * walk in the engine's own order. `token` is `undefined` for the first chunk and the previous
   * chunk's `next` after that. A chunk holds about `limit` entries (the engine may stop a little
   * before or after, at a boundary of its own, but returns at least one entry unless the walk is
   * done). Holds no lock between chunks. An entry present for the whole walk is returned exactly
   * once; one put or removed during the walk may or may not be.
   */
  scanUnordered?(token: Buffer | undefined, limit: number): UnorderedChunk;
  /** Applies `ops` in order; atomically when the engine has `transactions`. */
  batch(ops: readonly BatchOp[]): void;
  /**
   * Optional fast path of `batch`: the same operations in one Buffer (u32 count, then per
   * operation u8 kind 1 put / 2 del, u32 key length, key, and for a put u32 value length,
   * value; little-endian). Core uses it when present. `encoded` is valid only until the call
   * returns: core reuses its memory for the next batch, so an engine copies what it keeps.
   */
  batchEncoded?(encoded: Buffer): void;
  /** Only when `capabilities.defrag`; core has checked 0..100 and start + amount <= 100. */
  defrag?(startPercent: number, amountPercent: number): void;
  /** Releases the handle. The engine closes its pool when its last handle is closed and no async work is in flight. */
  close(): void;
  readonly async?: AsyncEngineHandle;
}

/** One chunk of an unordered walk: flat `[key0, value0, ...]`, and where to resume (absent: done). */
export interface UnorderedChunk {
  readonly entries: Buffer[];
  /** Opaque; pass it to the next `scanUnordered` call. Absent when the walk is complete. */
  readonly next?: Buffer;
}

/**
 * A JSON Schema (draft-07 subset) of an engine's own config keys: an object schema whose
 * `properties` each have a `type` of `string`, `integer`, `number` or `boolean` and optionally
 * `minimum`, `maximum`, `enum`, `default` and a `description` (give the default, the effect on
 * durability, and whether the key may change on reopen). `required` lists keys that must be given.
 */
export interface ConfigSchema {
  readonly type: 'object';
  readonly properties: Readonly<Record<string, ConfigKeySchema>>;
  readonly required?: readonly string[];
}

export interface ConfigKeySchema {
  /**
   * `object` holds a nested config (a sub-engine's, say): checked against `properties` when
   * given (unknown keys refused unless `additionalProperties` is true), passed through as a
   * plain object otherwise. A JSON config carries it as a JSON object.
   */
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'object';
  readonly properties?: Readonly<Record<string, ConfigKeySchema>>;
  readonly additionalProperties?: boolean;
  readonly description?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly (string | number)[];
  readonly default?: string | number | boolean;
  readonly deprecated?: boolean;
}

/**
 * The validated config an engine's `open` receives, a fresh object the engine may keep. Core
 * alone decides the config flag rules, so engines (and the native SDK) never re-check them:
 * `create_if_missing` and `create_or_error_if_exists` are always present as booleans and never
 * both true; `force_create` never appears (core has folded the deprecated alias into
 * `create_or_error_if_exists`, refusing the two together); `size` is a number (exact up to 2^53).
 * Engine keys arrive as their schema types, defaults filled in; a `type: 'object'` key arrives as
 * a fresh plain object, checked against its nested `properties` when the schema gives them.
 */
export interface EngineConfig {
  /** Pool file. Present for persistent engines (core requires it). */
  readonly path?: string;
  /** Pool size in bytes, only used when a pool is created; at least 8 MiB. */
  readonly size?: number;
  /** Open the pool, creating it when it does not exist (requires `size`). */
  readonly create_if_missing: boolean;
  /** Create the pool; fail when it exists (requires `size`). */
  readonly create_or_error_if_exists: boolean;
  readonly [engineKey: string]: unknown;
}

/** What an engine package exports as its default (and `plugin`) export. */
export interface EnginePlugin {
  /** Runtime name, matching ENGINE_NAME_PATTERN. */
  readonly name: string;
  /** The contract version this plugin implements: CONTRACT_VERSION of the core it was built for. */
  readonly contractVersion: number;
  readonly capabilities: Capabilities;
  /** The engine's own config keys, merged over core's common keys. */
  readonly configSchema: ConfigSchema;
  /** The npm package that provides the plugin (for error messages). */
  readonly packageName?: string;
  /** The package version (for error messages and `db.engine`). */
  readonly version?: string;
  /** How the engine may be called from several threads. Absent: `'thread-safe'` when `capabilities.concurrent`, else `'serialized'`. */
  readonly threadModel?: ThreadModel;
  /** The persistent format: pools are named `pmemkv_<engine>` and carry this version. Persistent engines only. */
  readonly layout?: { readonly name: string; readonly version: number };
  /** Opens (or creates) the engine's storage. Throws an Error with a status `code` on failure. */
  open(config: EngineConfig): EngineHandle;
}
