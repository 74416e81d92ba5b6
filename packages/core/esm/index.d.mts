// Types of the ES module entry (esm/index.mjs): the named exports of the CommonJS build, and
// the whole module as the default export, exactly as esm/index.mjs re-exports them.
import core from '../dist/index.js';

export * from '../dist/index.js';
export default core;
