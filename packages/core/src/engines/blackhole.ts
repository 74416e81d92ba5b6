/**
 * blackhole: accepts everything and keeps nothing (pmemkv's blackhole). Puts and removes
 * succeed, reads find nothing, counts are 0, walks and iteration are empty (its unordered walk
 * ends at the first chunk). Useful to measure the cost of the API itself and as a config-free
 * stand-in.
 */
import { CONTRACT_VERSION, type EngineHandle, type EnginePlugin } from '../contract';

function openBlackhole(): EngineHandle {
  return {
    put() {},
    get() {
      return undefined;
    },
    getInto() {
      return -1;
    },
    exists() {
      return false;
    },
    remove() {
      // pmemkv's blackhole reports OK for every remove.
      return true;
    },
    count() {
      return 0;
    },
    scan() {
      return [];
    },
    scanUnordered() {
      return { entries: [] };
    },
    batch() {},
    close() {},
  };
}

export const blackhole: EnginePlugin = {
  name: 'blackhole',
  contractVersion: CONTRACT_VERSION,
  packageName: '@pmemkv/core',
  threadModel: 'thread-safe',
  capabilities: {
    persistent: false,
    concurrent: true,
    sorted: false,
    iterators: true,
    reverse: false,
    transactions: false,
    defrag: false,
  },
  configSchema: { type: 'object', properties: {} },
  open: openBlackhole,
};
