// Type-checked (tsc, module nodenext) in the fresh application: the CommonJS view.
import core = require('@pmemkv/core');
import cmap = require('@pmemkv/engine-cmap');
import conformance = require('@pmemkv/core/conformance');
import includeDir = require('@pmemkv/native-pmemobj/include');

core.registerEngine(cmap.default);
core.registerEngine(cmap.plugin);
const db: core.Database<string, unknown> = core.open('cmap', { path: '/dev/shm/types-cjs.kv', size: 1 << 30 }, { valueEncoding: 'json' });
const run: typeof conformance.runConformanceSuite = conformance.runConformanceSuite;
const dir: string = includeDir;
export { db, run, dir };
