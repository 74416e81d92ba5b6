/**
 * Why a prebuilt addon failed to load, and what the user should do about it: one place for the
 * messages of the install script (install.js), of `nativeEngine` (plugin.ts) and of this
 * package's own binding (index.ts).
 *
 * Prebuilds are built on Debian 12 (glibc 2.36, GCC 12) and link libpmemobj.so.1 dynamically.
 * They need: linux-x64, glibc >= 2.34, libstdc++ of GCC >= 12 (GLIBCXX_3.4.30) and libpmemobj1
 * with its dependencies (libpmem1, libndctl6, libdaxctl1).
 */

/** What a load failure means for the user. */
export type LoadFailure =
  /** A PMDK shared library is missing: install the runtime package; rebuilding would not help. */
  | 'missing-pmdk'
  /** The system's C or C++ runtime is older than the prebuild needs: build from source. */
  | 'old-runtime'
  /** No prebuild for this platform, architecture or Node-API version: build from source. */
  | 'no-prebuild'
  | 'other';

/** The apt package that provides libpmemobj at run time (Debian and Ubuntu). */
export const PMDK_RUNTIME_PACKAGE = 'libpmemobj1';
/** What building an addon from source needs, as an apt-get line (Debian and Ubuntu). */
export const BUILD_PACKAGES = 'g++ make python3 libpmemobj-dev';

export function classifyLoadFailure(message: string): LoadFailure {
  if (/lib(pmemobj|pmem|ndctl|daxctl)\.so[.\d]*: cannot open shared object file/.test(message)) return 'missing-pmdk';
  if (/version `(GLIBC|GLIBCXX|CXXABI)_[\d.]+' not found/.test(message)) return 'old-runtime';
  if (/No native build was found/.test(message)) return 'no-prebuild';
  return 'other';
}

/** What to do about a failure to load the addon of `packageName`, as one sentence. */
export function loadFailureHint(message: string, packageName: string): string {
  switch (classifyLoadFailure(message)) {
    case 'missing-pmdk':
      return `libpmemobj is not installed: install it (Debian/Ubuntu: apt-get install ${PMDK_RUNTIME_PACKAGE}; Fedora/RHEL: dnf install libpmemobj)`;
    case 'old-runtime':
      return `the prebuilt addon needs glibc >= 2.34 and the libstdc++ of GCC >= 12; on an older system build ${packageName} from source (apt-get install ${BUILD_PACKAGES}, then npm rebuild ${packageName} --build-from-source)`;
    case 'no-prebuild':
      return `no prebuilt addon matches this platform (prebuilds: linux-x64 glibc); build ${packageName} from source (apt-get install ${BUILD_PACKAGES}, then npm rebuild ${packageName} --build-from-source)`;
    default:
      return `reinstall ${packageName}, or build it from source (apt-get install ${BUILD_PACKAGES}, then npm rebuild ${packageName} --build-from-source)`;
  }
}

/** The message of the error thrown when the addon of `packageName` cannot be loaded. */
export function loadFailureMessage(err: unknown, packageName: string): string {
  const message = err instanceof Error ? err.message : String(err);
  return `the native addon of ${packageName} cannot be loaded (${message}): ${loadFailureHint(message, packageName)}`;
}
