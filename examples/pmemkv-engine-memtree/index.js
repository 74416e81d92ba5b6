'use strict';
/**
 * pmemkv-engine-memtree: the `memtree` engine, a volatile sorted map in DRAM, written in plain
 * JavaScript against @pmemkv/core's engine contract (its published types and CONTRACT_VERSION
 * only). Installed next to @pmemkv/core, `open('memtree')` finds it by name through the
 * `pmemkv-engine-<name>` convention: no registerEngine call.
 *
 * Every open starts empty and nothing survives close (capabilities.persistent is false).
 * Sorted bytewise, both directions. One handle belongs to the JS thread that opened it and each
 * open has its own map, so the thread model is 'serialized'. A batch is applied in one JS turn,
 * so no other call sees part of it (capabilities.transactions).
 */
const { CONTRACT_VERSION } = require('@pmemkv/core');
const { SortedMap } = require('./sorted-map');
const { name: packageName, version } = require('./package.json');

function closedError() {
  return Object.assign(new Error('the memtree handle is closed'), { code: 'INVALID_ARGUMENT' });
}

/** A handle over a fresh SortedMap (the EngineHandle of @pmemkv/core's contract). */
function openHandle() {
  let map = new SortedMap();
  const live = () => {
    if (map === null) throw closedError();
    return map;
  };
  return {
    put: (key, value) => live().put(key, value),
    get: (key) => live().get(key),
    exists: (key) => live().has(key),
    remove: (key) => live().remove(key),
    count: (range) => live().count(range),
    scan: (range, reverse, limit) => live().scan(range, reverse, limit),
    batch: (ops) => {
      const m = live();
      for (const op of ops) {
        if (op.type === 'put') m.put(op.key, op.value);
        else m.remove(op.key);
      }
    },
    close: () => {
      map = null;
    },
  };
}

/** @type {import('@pmemkv/core').EnginePlugin} */
const plugin = Object.freeze({
  name: 'memtree',
  contractVersion: CONTRACT_VERSION,
  packageName,
  version,
  threadModel: 'serialized',
  capabilities: Object.freeze({
    persistent: false,
    concurrent: false,
    sorted: true,
    iterators: true,
    reverse: true,
    transactions: true,
    defrag: false,
  }),
  configSchema: { type: 'object', properties: {} },
  open: () => openHandle(),
});

// The shape TypeScript's CommonJS output has: `require(...).default` and `.plugin`.
Object.defineProperty(exports, '__esModule', { value: true });
exports.default = plugin;
exports.plugin = plugin;
