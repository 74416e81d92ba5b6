/**
 * hash: a volatile unsorted engine for core's own tests (not shipped), standing in for a hash
 * table such as cmap: no key order, only full counts and walks, and a resumable unordered walk.
 *
 * Its own order is (FNV-1a hash of the key, key). `scanUnordered`'s token is the position of the
 * last entry handed out, so a walk resumes after it whatever was put or removed in between: an
 * entry present for the whole walk is returned exactly once. Like a real hash table it ends a
 * chunk at a boundary of its own: after `limit` entries it goes on to the end of the current
 * "bucket" (entries whose hash shares its top byte), at most EXTRA more, so core must cope with
 * chunks a little longer than asked for.
 *
 * Options record what the engine was asked (`stats`) and make an async-only variant
 * (`asyncOnly`: `capabilities.sync` false, sync methods that throw if core ever calls them).
 */
import {
  CONTRACT_VERSION,
  type AsyncEngineHandle,
  type Bytes,
  type Capabilities,
  type EngineHandle,
  type EnginePlugin,
  type UnorderedChunk,
} from '../../src/contract';
import { later, own } from './memory-engine';
import { toBuffer } from './sorted-store';

/** Most entries a chunk runs past `limit` to finish its bucket. */
const EXTRA = 3;

export const HASH_CAPABILITIES: Capabilities = {
  persistent: false,
  concurrent: true,
  sorted: false,
  iterators: true,
  reverse: false,
  transactions: true,
  defrag: false,
};

function engineError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function fnv1a(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Position of a key id in the engine's order; string order is (hash, key) order. */
function position(id: string): string {
  return fnv1a(id).toString(16).padStart(8, '0') + id;
}

export class HashStore {
  /** Position -> value (keys as latin1 ids after the 8 hex digits of their hash). */
  readonly #map = new Map<string, Buffer>();
  #order: string[] | null = [];

  get size(): number {
    return this.#map.size;
  }

  put(key: Bytes, value: Bytes): void {
    const p = position(toBuffer(key).toString('latin1'));
    if (!this.#map.has(p)) this.#order = null;
    this.#map.set(p, Buffer.from(toBuffer(value)));
  }

  peek(key: Bytes): Buffer | undefined {
    return this.#map.get(position(toBuffer(key).toString('latin1')));
  }

  remove(key: Bytes): boolean {
    const removed = this.#map.delete(position(toBuffer(key).toString('latin1')));
    if (removed) this.#order = null;
    return removed;
  }

  #positions(): string[] {
    if (this.#order === null) this.#order = [...this.#map.keys()].sort();
    return this.#order;
  }

  /** One chunk of a walk in the engine's order, resuming after `token`. */
  scanUnordered(token: Buffer | undefined, limit: number): UnorderedChunk {
    const order = this.#positions();
    let i = 0;
    if (token !== undefined) {
      const after = token.toString('latin1');
      let hi = order.length;
      while (i < hi) {
        const mid = (i + hi) >>> 1;
        if (order[mid]! <= after) i = mid + 1;
        else hi = mid;
      }
    }
    const entries: Buffer[] = [];
    let last: string | undefined;
    for (; i < order.length; i++) {
      const p = order[i]!;
      const n = entries.length >> 1;
      if (n >= limit && (n >= limit + EXTRA || last === undefined || p.slice(0, 2) !== last.slice(0, 2))) break;
      entries.push(Buffer.from(p.slice(8), 'latin1'), Buffer.from(this.#map.get(p)!));
      last = p;
    }
    return i < order.length ? { entries, next: Buffer.from(last!, 'latin1') } : { entries };
  }
}

/** What the engine was asked, for tests of core's chunking. */
export interface ScanStats {
  /** scanUnordered calls (sync and async). */
  calls: number;
  /** Largest `limit` asked for. */
  maxLimit: number;
  /** Entries handed out in all chunks. */
  handedOut: number;
}

export function newScanStats(): ScanStats {
  return { calls: 0, maxLimit: 0, handedOut: 0 };
}

export interface HashPluginOptions {
  readonly name?: string;
  /** Filled in with every scanUnordered call. */
  readonly stats?: ScanStats;
  /** `capabilities.sync` false: only the async twins work. */
  readonly asyncOnly?: boolean;
  /** The store to open (default: a fresh one per open). */
  readonly store?: HashStore;
}

export function hashHandle(store: HashStore, options: HashPluginOptions = {}): EngineHandle {
  let open = true;
  const live = () => {
    if (!open) throw engineError('INVALID_ARGUMENT', 'the handle is closed');
    return store;
  };
  const scanUnordered = (token: Buffer | undefined, limit: number): UnorderedChunk => {
    const chunk = live().scanUnordered(token, limit);
    if (options.stats) {
      options.stats.calls++;
      options.stats.maxLimit = Math.max(options.stats.maxLimit, limit);
      options.stats.handedOut += chunk.entries.length >> 1;
    }
    return chunk;
  };
  const ops: EngineHandle = {
    put: (k, v) => live().put(k, v),
    get: (k) => {
      const v = live().peek(k);
      return v === undefined ? undefined : Buffer.from(v);
    },
    exists: (k) => live().peek(k) !== undefined,
    remove: (k) => live().remove(k),
    count: () => live().size,
    scan: () => {
      throw engineError('UNKNOWN_ERROR', 'scan() called on an unsorted engine');
    },
    scanUnordered,
    batch: (batchOps) => {
      const s = live();
      for (const op of batchOps) {
        if (op.type === 'put') s.put(op.key, op.value!);
        else s.remove(op.key);
      }
    },
    close: () => {
      open = false;
    },
  };
  const async: AsyncEngineHandle = {
    put: (k, v) => {
      const [kk, vv] = [own(k), own(v)];
      return later(() => ops.put(kk, vv));
    },
    get: (k) => {
      const kk = own(k);
      return later(() => ops.get(kk));
    },
    exists: (k) => {
      const kk = own(k);
      return later(() => ops.exists(kk));
    },
    remove: (k) => {
      const kk = own(k);
      return later(() => ops.remove(kk));
    },
    count: (r) => later(() => ops.count(r)),
    scan: () => Promise.reject(engineError('UNKNOWN_ERROR', 'scan() called on an unsorted engine')),
    scanUnordered: (token, limit) => {
      const t = token && Buffer.from(token);
      return later(() => scanUnordered(t, limit));
    },
    batch: (batchOps) => {
      const copied = batchOps.map((op) => ({ type: op.type, key: own(op.key), ...(op.value !== undefined ? { value: own(op.value) } : {}) }));
      return later(() => ops.batch(copied));
    },
  };
  if (!options.asyncOnly) return { ...ops, async };
  const refused = () => {
    throw engineError('UNKNOWN_ERROR', 'a sync method of an async-only handle was called');
  };
  return {
    put: refused,
    get: refused,
    exists: refused,
    remove: refused,
    count: refused,
    scan: refused,
    scanUnordered: refused,
    batch: refused,
    close: ops.close,
    async,
  };
}

export function createHashPlugin(options: HashPluginOptions = {}): EnginePlugin {
  return {
    name: options.name ?? (options.asyncOnly ? 'remote' : 'hash'),
    contractVersion: CONTRACT_VERSION,
    packageName: '@pmemkv/core (test support)',
    threadModel: 'thread-safe',
    capabilities: options.asyncOnly ? { ...HASH_CAPABILITIES, sync: false } : HASH_CAPABILITIES,
    configSchema: { type: 'object', properties: {} },
    open: () => hashHandle(options.store ?? new HashStore(), options),
  };
}

export const hashPlugin = createHashPlugin();
