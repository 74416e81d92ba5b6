import cjs from '../dist/index.js';
export default cjs.default;
export const plugin = cjs.plugin;
