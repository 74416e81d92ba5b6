// Types of the ES module entry (esm/index.mjs): the CommonJS build's exports, by name.
export * from '../dist/index.js';
