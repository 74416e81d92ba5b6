// ESM entry: the same plugin object as the CommonJS build.
import cjs from '../dist/index.js';
export default cjs.default;
export const plugin = cjs.plugin;
