// ES module entry: re-exports the CommonJS build (one copy of the addon per process).
import cjs from '../dist/index.js';

export const { libraryVersion, isPmem, checkPool, poolInfo, includeDir } = cjs;
