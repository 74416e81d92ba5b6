// Types of the ES module entry esm/conformance.mjs: the CommonJS build's exports, by name.
import conformance from '../dist/conformance/index.js';

export * from '../dist/conformance/index.js';
export default conformance;
