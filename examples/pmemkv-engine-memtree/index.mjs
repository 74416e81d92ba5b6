// ES module entry: the CommonJS plugin, as the default export and as `plugin`.
import cjs from './index.js';

export const plugin = cjs.plugin;
export default plugin;
