/**
 * @pmemkv/native-pmemobj: libpmemobj facts for tools and tests (library version, pmem
 * detection, pool consistency check and pool info), and `includeDir`, the C++ engine SDK
 * headers every engine addon compiles against (see the package README).
 *
 * Every function is synchronous and stateless; all are safe in worker threads. Failures throw
 * an Error with `code` 'INVALID_ARGUMENT' (and `status` 4) carrying libpmemobj's message.
 */
import * as path from 'node:path';
import { loadFailureMessage } from './addon-load';

/** What `poolInfo` reports about a pool file. */
export interface PoolInfo {
  /** The layout name the pool was created with (`pmemkv_<engine>` for pmemkv pools). */
  readonly layout: string;
  /** The pool's size in bytes (the size of its file). */
  readonly size: number;
  /**
   * Bytes allocated to live objects, root object included (usable sizes; the allocator's own
   * headers and free space are not counted). Absent when the pool is open, in this process or
   * another, because libpmemobj then refuses a second open.
   */
  readonly used?: number;
  /** Number of live objects besides the root object. Absent exactly when `used` is. */
  readonly objects?: number;
}

interface Binding {
  libraryVersion(): string;
  isPmem(path: string): boolean;
  checkPool(path: string, layout?: string): boolean;
  poolInfo(path: string): PoolInfo;
}

function loadBinding(): Binding {
  try {
    return require('node-gyp-build')(path.join(__dirname, '..')) as Binding;
  } catch (err) {
    throw new Error(loadFailureMessage(err, '@pmemkv/native-pmemobj'), { cause: err });
  }
}

const binding = loadBinding();

/**
 * The libpmemobj API version this addon was built for, e.g. `"2.4"` (PMDK 1.12 ships 2.4),
 * after checking that the libpmemobj loaded at run time provides it.
 * @throws Error when the loaded libpmemobj is older than the one the addon was built for.
 */
export function libraryVersion(): string {
  return binding.libraryVersion();
}

/**
 * Whether libpmem treats a mapping of the existing file at `path` as persistent memory (then
 * flushes are CPU cache flushes instead of msync). True on DAX file systems, and for any file
 * when the process started with `PMEM_IS_PMEM_FORCE=1`.
 * @throws Error when the file cannot be mapped (missing, empty, a directory).
 */
export function isPmem(path: string): boolean {
  return binding.isPmem(path);
}

/**
 * Checks the consistency of the pool at `path` (pmemobj_check), also checking its layout
 * name when `layout` is given. The pool must not be open (in this process or another).
 * @returns true when consistent, false when libpmemobj found it inconsistent.
 * @throws Error when the pool cannot be checked: missing, not a pool, in use, wrong layout.
 */
export function checkPool(path: string, layout?: string): boolean {
  return binding.checkPool(path, layout);
}

/**
 * Layout name and size of the single-file pool at `path`, read from its header, plus `used`
 * and `objects` when the pool is not open anywhere. Reading `used` opens the pool for a moment
 * (like any open, that completes recovery of interrupted transactions) and walks every object.
 * @throws Error when `path` is not a single-file libpmemobj pool (poolsets are not read).
 */
export function poolInfo(path: string): PoolInfo {
  return binding.poolInfo(path);
}

/** The directory of the C++ engine SDK headers (`#include <pmemkv/engine.h>`), as `include.js`. */
export const includeDir: string = path.join(__dirname, '..', 'include');
