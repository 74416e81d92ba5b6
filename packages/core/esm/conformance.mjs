// ES module entry of @pmemkv/core/conformance: re-exports the CommonJS build, so the suite and
// the engine under test share core's one instance (one engine registry, one PmemkvError class).
import conformance from '../dist/conformance/index.js';

export const {
  runConformanceSuite,
  SortedModel,
  showBytes,
  showEntries,
  showKeys,
  Random,
  runAndKill,
  makeTempDir,
  removeTempDir,
  tempBase,
} = conformance;
export default conformance;
