// Types of the ES module entry (esm/index.mjs): its default export and `plugin` are the
// engine's plugin, the same object the CommonJS build exports as `default` and `plugin`.
import cjs from '../dist/index.js';

export declare const plugin: typeof cjs.plugin;
export default plugin;
