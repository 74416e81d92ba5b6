// Types of the ES module entry esm/plugin.mjs: the CommonJS build's exports, by name.
export * from '../dist/plugin.js';
