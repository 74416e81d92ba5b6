// ES module entry: re-exports the CommonJS build (one copy of the addon per process).
import cjs from '../dist/index.js';

export default cjs.default;
export const plugin = cjs.plugin;
