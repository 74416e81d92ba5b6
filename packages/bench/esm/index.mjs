// ES module entry: the CommonJS build's exports, by name (one copy of the module per process).
export * from '../dist/index.js';
