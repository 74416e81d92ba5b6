/**
 * CachingHandle: the engine handle core drives (async methods only; core refuses the sync ones
 * before they are reached). It keeps a local copy of remote entries in a sub-engine, opened
 * through core's `open` with Buffer keys and values.
 *
 * Semantics (the README states them for users):
 * - get: a fresh local copy answers at once, without the remote; a missing or expired one is
 *   fetched from the remote, stored locally, and returned. A key the remote does not hold is
 *   `undefined` (and a stale local copy of it is dropped). Misses are not remembered.
 * - put / remove: the remote first, then the local copy; the promise resolves when both are
 *   done. A write the remote did not acknowledge leaves the local copy as it was.
 * - exists, countAll and getAll answer from the local tier only and never reach the remote.
 * - Operations that reach the remote run in issue order per key (KeyQueue), so a late fill never
 *   overwrites a newer put. Operations on different keys run concurrently.
 *
 * Thread-safety: a handle belongs to the JS thread that opened it. Lifetime: close() waits for
 * the operations in flight, then closes the sub-engine and the remote connection.
 */
import { PmemkvError, type AsyncEngineHandle, type BatchOp, type Bytes, type Database, type EngineHandle, type KeyRange } from '@pmemkv/core';
import type { CachingOptions } from './config';
import { encodeEntry, entryValue, isFresh } from './entry';
import { KeyQueue } from './key-queue';
import { withAttempts, type Remote } from './remote';

type Local = Database<Buffer, Buffer>;

function asBuffer(bytes: Bytes): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
}

/** A copy the handle owns: the caller may reuse its buffers as soon as a call returns. */
function own(bytes: Bytes): Bytes {
  return typeof bytes === 'string' ? bytes : Buffer.from(bytes);
}

function byteLength(bytes: Bytes): number {
  return typeof bytes === 'string' ? Buffer.byteLength(bytes, 'utf8') : bytes.length;
}

function isOutOfMemory(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'OUT_OF_MEMORY';
}

function syncRefused(): never {
  throw new PmemkvError('NOT_SUPPORTED', 'the caching engine is async-only: use db.promises');
}

export class CachingHandle implements EngineHandle {
  readonly async: AsyncEngineHandle;
  readonly #local: Local;
  readonly #remote: Remote;
  readonly #options: CachingOptions;
  /** Longest key the sub-engine takes (Infinity when only its pool bounds it). */
  readonly #localMaxKey: number;
  /** Whether local copies survive a crash (see #takeOut). */
  readonly #persistentLocal: boolean;
  readonly #queue = new KeyQueue();
  #inflight = 0;
  #closing = false;
  #released = false;

  constructor(local: Local, remote: Remote, options: CachingOptions) {
    this.#local = local;
    this.#remote = remote;
    this.#options = options;
    this.#localMaxKey = local.capabilities.maxKeySize ?? Infinity;
    this.#persistentLocal = local.capabilities.persistent;
    this.async = {
      get: (key) => this.#get(key),
      put: (key, value) => this.#put(key, value),
      remove: (key) => this.#removeKey(key),
      exists: (key) => this.#exists(key),
      count: (range) => this.#count(range),
      scan: (_range, _reverse, limit) => this.#scan(limit),
      batch: (ops) => this.#batch(ops),
    };
  }

  put(): void {
    syncRefused();
  }
  get(): Buffer | undefined {
    syncRefused();
  }
  exists(): boolean {
    syncRefused();
  }
  remove(): boolean {
    syncRefused();
  }
  count(): number {
    syncRefused();
  }
  batch(): void {
    syncRefused();
  }

  /** Idempotent. The sub-engine and the connection close once the operations in flight have settled. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#inflight === 0) this.#release();
  }

  // --- the async methods -------------------------------------------------------------------

  async #get(key: Bytes): Promise<Buffer | undefined> {
    this.#checkKey(key);
    const stored = this.#local.get(key);
    if (stored !== undefined && isFresh(stored, Date.now(), this.#options.ttlMs)) return entryValue(stored);
    const owned = own(key);
    return this.#track(this.#queue.run(owned, () => this.#fetch(owned)));
  }

  async #put(key: Bytes, value: Bytes): Promise<void> {
    this.#checkKey(key);
    const ownedKey = own(key);
    const ownedValue = own(value);
    const remoteKey = this.#remoteKey(ownedKey);
    return this.#track(
      this.#queue.run(ownedKey, async () => {
        const old = this.#takeOut(ownedKey);
        try {
          await withAttempts(this.#remote, 'write a key', this.#options.attempts, () => this.#remote.set(remoteKey, ownedValue));
        } catch (err) {
          if (this.#remote.refusedSetRemovesKey && err instanceof PmemkvError && err.code === 'INVALID_ARGUMENT') {
            this.#local.remove(ownedKey);
            throw new PmemkvError('INVALID_ARGUMENT', `${err.message}; the server removed the key's old value when it refused the new one, so the local copy was dropped too`, { cause: err.cause });
          }
          this.#restore(ownedKey, old);
          throw err;
        }
        this.#store(ownedKey, ownedValue);
      }),
    );
  }

  async #removeKey(key: Bytes): Promise<boolean> {
    this.#checkKey(key);
    const owned = own(key);
    const remoteKey = this.#remoteKey(owned);
    return this.#track(
      this.#queue.run(owned, async () => {
        const old = this.#takeOut(owned);
        let removed: boolean;
        try {
          removed = await withAttempts(this.#remote, 'remove a key', this.#options.attempts, () => this.#remote.del(remoteKey));
        } catch (err) {
          this.#restore(owned, old);
          throw err;
        }
        this.#local.remove(owned);
        return removed;
      }),
    );
  }

  async #exists(key: Bytes): Promise<boolean> {
    this.#checkKey(key);
    if (this.#hasFresh(key)) return true;
    // A write of this key in flight may have taken its copy out (see #takeOut): answer after it.
    if (!this.#queue.busy(key)) return false;
    const owned = own(key);
    return this.#track(this.#queue.run(owned, async () => this.#hasFresh(owned)));
  }

  async #count(range: KeyRange | undefined): Promise<number> {
    // Core asks an unsorted engine only for countAll.
    if (range !== undefined) throw new PmemkvError('NOT_SUPPORTED', 'the caching engine counts all entries only');
    return this.#local.countAll();
  }

  /** Fresh local copies, up to `limit`, as a flat [key, value, ...] (getAll). */
  async #scan(limit: number): Promise<Buffer[]> {
    const out: Buffer[] = [];
    if (limit <= 0) return out;
    const run = async () => {
      const now = Date.now();
      const ttl = this.#options.ttlMs;
      await this.#local.promises.getAll((k, stored) => {
        if (!isFresh(stored, now, ttl)) return false;
        out.push(k, entryValue(stored));
        return out.length >= 2 * limit;
      });
      return out;
    };
    return this.#track(run());
  }

  /**
   * Applies `ops` with last-op-wins per key, the keys concurrently, each as a put or remove.
   * Not atomic: when some keys fail, the others are still written.
   */
  async #batch(ops: readonly BatchOp[]): Promise<void> {
    const last = new Map<string, BatchOp>();
    for (const op of ops) {
      this.#checkKey(op.key);
      last.set(asBuffer(op.key).toString('latin1'), op);
    }
    const writes = [...last.values()];
    const settled = await Promise.allSettled(writes.map((op) => (op.type === 'put' ? this.#put(op.key, op.value!) : this.#removeKey(op.key))));
    const failures = settled.flatMap((r, i) => (r.status === 'rejected' ? [[i, r.reason as unknown] as const] : []));
    if (failures.length === 0) return;
    const [index, first] = failures[0]!;
    const code = first instanceof PmemkvError ? first.code : 'UNKNOWN_ERROR';
    const message = first instanceof Error ? first.message : String(first);
    throw new PmemkvError(
      code,
      `batch: ${failures.length} of ${writes.length} keys were not written (a batch is not atomic on the caching engine; the other keys were written); first failure, key ${index} of the batch after last-op-wins: ${message}`,
      { cause: first },
    );
  }

  // --- helpers -------------------------------------------------------------------------------

  #hasFresh(key: Bytes): boolean {
    const stored = this.#local.get(key);
    return stored !== undefined && isFresh(stored, Date.now(), this.#options.ttlMs);
  }

  /**
   * Before a remote write on a persistent sub-engine: takes the local copy out (returning it, for
   * #restore). Crash argument: the remote changes only while the key has no local copy, so after
   * a crash at any instant the local tier holds either the copy from before the write (the remote
   * was not yet asked to change) or none (the next read fetches whatever the remote holds), or
   * the new copy (written after the remote acknowledged): never a copy older than the remote
   * that nothing would refresh. A volatile sub-engine loses every copy in a crash, so it skips this.
   */
  #takeOut(key: Bytes): Buffer | undefined {
    if (!this.#persistentLocal) return undefined;
    const old = this.#local.get(key);
    if (old !== undefined) this.#local.remove(key);
    return old;
  }

  /** Puts back the copy #takeOut took when the remote write failed, so the write leaves the local tier as it was. */
  #restore(key: Bytes, old: Buffer | undefined): void {
    if (old === undefined) return;
    try {
      this.#local.put(key, old);
    } catch {
      // No copy is a valid state (the next read fetches the remote); the remote's error is what the caller must hear.
    }
  }

  /** A read that missed or expired, run in key order: recheck the local tier, then the remote. */
  async #fetch(key: Bytes): Promise<Buffer | undefined> {
    const stored = this.#local.get(key);
    if (stored !== undefined && isFresh(stored, Date.now(), this.#options.ttlMs)) return entryValue(stored);
    const remoteKey = this.#remoteKey(key);
    const value = await withAttempts(this.#remote, 'read a key', this.#options.attempts, () => this.#remote.get(remoteKey));
    if (value === undefined) {
      if (stored !== undefined) this.#local.remove(key);
      return undefined;
    }
    this.#store(key, value);
    return value;
  }

  /**
   * Writes the local copy of a value the remote holds. A full sub-engine keeps no copy (the old
   * one is dropped, so it cannot be read as current) and is not an error: the remote has the value.
   */
  #store(key: Bytes, value: Bytes): void {
    try {
      this.#local.put(key, encodeEntry(value, Date.now()));
    } catch (err) {
      try {
        this.#local.remove(key);
      } catch {
        // The first error says what went wrong; a failed drop cannot add to it.
      }
      if (!isOutOfMemory(err)) throw err;
    }
  }

  /** Refuses a key the remote or the sub-engine cannot hold, before anything is changed. */
  #checkKey(key: Bytes): void {
    const n = byteLength(key);
    const prefix = this.#options.keyPrefix.length;
    const remote = this.#remote;
    if (n + prefix > remote.maxKeyBytes) {
      const room = remote.maxKeyBytes - prefix;
      throw new PmemkvError('INVALID_ARGUMENT', `the ${remote.name} server takes keys of at most ${remote.maxKeyBytes} bytes${prefix > 0 ? ` (key_prefix uses ${prefix}, leaving ${room})` : ''}; this key has ${n}: use shorter keys`);
    }
    if (n + prefix === 0 && !remote.emptyKeyAllowed) {
      throw new PmemkvError('INVALID_ARGUMENT', `the ${remote.name} server cannot store an empty key: use a non-empty key, or set key_prefix`);
    }
    if (n > this.#localMaxKey) {
      throw new PmemkvError('INVALID_ARGUMENT', `the sub-engine '${this.#local.engine}' takes keys of at most ${this.#localMaxKey} bytes; this key has ${n}`);
    }
  }

  /** The key as the remote stores it. REQUIRES: `key` is owned by the handle (see own()); the result may share its bytes. */
  #remoteKey(key: Bytes): Buffer {
    const prefix = this.#options.keyPrefix;
    return prefix.length === 0 ? asBuffer(key) : Buffer.concat([prefix, asBuffer(key)]);
  }

  /** Counts `pending` as in flight until it settles; the last one to settle after close() releases. */
  #track<T>(pending: Promise<T>): Promise<T> {
    this.#inflight++;
    const settle = () => {
      if (--this.#inflight === 0 && this.#closing) this.#release();
    };
    return pending.then(
      (value) => {
        settle();
        return value;
      },
      (err: unknown) => {
        settle();
        throw err;
      },
    );
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      this.#local.close();
    } catch (err) {
      process.emitWarning(`caching: closing the sub-engine failed: ${String(err)}`, { code: 'PMEMKV_CACHING_CLOSE' });
    } finally {
      this.#remote.close();
    }
  }
}
