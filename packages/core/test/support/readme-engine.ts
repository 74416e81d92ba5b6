// src/index.ts of a package `pmemkv-engine-mymap`: a volatile, unsorted engine on a Map.
import { CONTRACT_VERSION, type Bytes, type EngineHandle, type EnginePlugin } from '../../src';

const id = (bytes: Bytes) => Buffer.from(bytes).toString('latin1'); // one char per byte

function openMyMap(): EngineHandle {
  // key -> [insertion number, value]; `order` lists [insertion number, key], oldest first,
  // including keys removed since (skipped by walks, dropped when they pile up).
  const map = new Map<string, [number, Buffer]>();
  let order: [number, string][] = [];
  let inserted = 0;
  const put = (key: Bytes, value: Bytes) => {
    const k = id(key);
    const old = map.get(k);
    if (old === undefined) order.push([inserted, k]);
    map.set(k, [old === undefined ? inserted++ : old[0], Buffer.from(value)]);
  };
  const remove = (key: Bytes) => {
    const removed = map.delete(id(key));
    if (order.length > 2 * map.size + 64) order = order.filter(([n, k]) => map.get(k)?.[0] === n);
    return removed;
  };
  return {
    put,
    get: (key) => {
      const entry = map.get(id(key));
      return entry && Buffer.from(entry[1]); // a copy: the caller owns it
    },
    exists: (key) => map.has(id(key)),
    remove,
    count: () => map.size, // unsorted: only ever asked for the whole table
    scan: () => [], // only sorted engines are asked for key ranges
    // The resume token is the insertion number of the last entry handed out: an entry that
    // stays for the whole walk is seen exactly once, whatever is put or removed meanwhile.
    scanUnordered: (token, limit) => {
      const after = token === undefined ? -1 : token.readDoubleLE(0);
      let i = 0;
      for (let hi = order.length; i < hi; ) {
        const mid = (i + hi) >>> 1;
        if (order[mid]![0] <= after) i = mid + 1;
        else hi = mid;
      }
      const entries: Buffer[] = [];
      let last = after;
      for (; i < order.length && entries.length < 2 * limit; i++) {
        const [n, k] = order[i]!;
        const entry = map.get(k);
        if (entry === undefined || entry[0] !== n) continue; // removed since
        entries.push(Buffer.from(k, 'latin1'), Buffer.from(entry[1]));
        last = n;
      }
      if (i === order.length) return { entries };
      const next = Buffer.alloc(8);
      next.writeDoubleLE(last);
      return { entries, next };
    },
    batch: (ops) => {
      for (const op of ops) op.type === 'put' ? put(op.key, op.value!) : remove(op.key);
    },
    close: () => map.clear(),
  };
}

export const plugin: EnginePlugin = {
  name: 'mymap',
  contractVersion: CONTRACT_VERSION,
  packageName: 'pmemkv-engine-mymap',
  threadModel: 'serialized',
  capabilities: {
    persistent: false,
    concurrent: false,
    sorted: false,
    iterators: true,
    reverse: false,
    transactions: false,
    defrag: false,
  },
  configSchema: { type: 'object', properties: {} },
  open: openMyMap,
};
export default plugin;
