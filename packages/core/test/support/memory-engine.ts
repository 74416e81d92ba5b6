/**
 * memory: a volatile sorted engine over SortedStore, implementing the plugin contract exactly,
 * for core's own tests (not shipped). Every open starts empty; nothing survives close.
 *
 * It has async twins (run in a later turn, arguments copied before the call returns) so that
 * core's path through `handle.async` is exercised. A closed handle answers every call with an
 * INVALID_ARGUMENT error, as native handles do.
 */
import {
  CONTRACT_VERSION,
  type AsyncEngineHandle,
  type BatchOp,
  type Bytes,
  type Capabilities,
  type EngineHandle,
  type EnginePlugin,
  type KeyRange,
} from '../../src/contract';
import { SortedStore, toBuffer } from './sorted-store';

export const MEMORY_CAPABILITIES: Capabilities = {
  persistent: false,
  concurrent: true,
  sorted: true,
  iterators: true,
  reverse: true,
  transactions: true,
  defrag: true,
};

function engineError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Copies bytes the caller may reuse once the call returns. */
export function own(bytes: Bytes): Bytes {
  return typeof bytes === 'string' ? bytes : Buffer.from(bytes);
}

/** Runs `fn` in a later turn, as native async work would. */
export function later<T>(fn: () => T): Promise<T> {
  return new Promise((resolve, reject) => setImmediate(() => {
    try {
      resolve(fn());
    } catch (err) {
      reject(err);
    }
  }));
}

/** Applies `ops` to `store` in order; one JS turn, so no other call sees a partial batch. */
export function applyBatch(store: SortedStore, ops: readonly BatchOp[]): void {
  for (const op of ops) {
    if (op.type === 'put') store.put(op.key, op.value!);
    else store.remove(op.key);
  }
}

/** A handle over `store`. `onClose` runs once, at the first close. */
export function storeHandle(store: SortedStore, onClose: () => void = () => {}): EngineHandle {
  let open = true;
  const live = () => {
    if (!open) throw engineError('INVALID_ARGUMENT', 'the handle is closed');
    return store;
  };
  const handle: EngineHandle = {
    put: (k, v) => live().put(k, v),
    get: (k) => {
      const v = live().peek(k);
      return v === undefined ? undefined : Buffer.from(v);
    },
    getInto: (k, scratch) => {
      const v = live().peek(k);
      if (v === undefined) return -1;
      if (v.length <= scratch.length) v.copy(scratch);
      return v.length;
    },
    exists: (k) => live().peek(k) !== undefined,
    remove: (k) => live().remove(k),
    count: (range) => live().count(range),
    scan: (range, reverse, limit) => live().scan(range, reverse, limit),
    batch: (ops) => applyBatch(live(), ops),
    defrag: () => void live(),
    close: () => {
      if (!open) return;
      open = false;
      onClose();
    },
  };
  const copyRange = (r: KeyRange | undefined): KeyRange | undefined =>
    r && { ...r, ...(r.lower !== undefined ? { lower: own(r.lower) } : {}), ...(r.upper !== undefined ? { upper: own(r.upper) } : {}) };
  const async: AsyncEngineHandle = {
    put: (k, v) => {
      const [kk, vv] = [own(k), own(v)];
      return later(() => handle.put(kk, vv));
    },
    get: (k) => {
      const kk = own(k);
      return later(() => handle.get(kk));
    },
    exists: (k) => {
      const kk = own(k);
      return later(() => handle.exists(kk));
    },
    remove: (k) => {
      const kk = own(k);
      return later(() => handle.remove(kk));
    },
    count: (r) => {
      const rr = copyRange(r);
      return later(() => handle.count(rr));
    },
    scan: (r, reverse, limit) => {
      const rr = copyRange(r);
      return later(() => handle.scan!(rr, reverse, limit));
    },
    batch: (ops) => {
      const copied = ops.map((op) => ({ type: op.type, key: own(op.key), ...(op.value !== undefined ? { value: own(op.value) } : {}) }));
      return later(() => handle.batch(copied));
    },
    defrag: (start, amount) => later(() => handle.defrag!(start, amount)),
  };
  return Object.assign(handle, { async });
}

export interface MemoryPluginOptions {
  readonly name?: string;
  readonly capabilities?: Partial<Capabilities>;
  /** Replaces or wraps handle methods (used to build deliberately faulty variants). */
  readonly wrap?: (handle: EngineHandle) => EngineHandle;
}

export function createMemoryPlugin(options: MemoryPluginOptions = {}): EnginePlugin {
  return {
    name: options.name ?? 'memory',
    contractVersion: CONTRACT_VERSION,
    packageName: '@pmemkv/core (test support)',
    threadModel: 'thread-safe',
    capabilities: { ...MEMORY_CAPABILITIES, ...options.capabilities },
    configSchema: { type: 'object', properties: {} },
    open: () => {
      const handle = storeHandle(new SortedStore());
      return options.wrap ? options.wrap(handle) : handle;
    },
  };
}

export const memoryPlugin = createMemoryPlugin();
export { toBuffer };
