// ES module entry: the CommonJS build, re-exported by name.
import cjs from '../dist/index.js';

export const { PmemkvLevel, PmemkvIterator, PmemkvKeyIterator, PmemkvValueIterator, DEFAULT_ENGINE } = cjs;
export default cjs;
