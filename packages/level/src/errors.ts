/**
 * One mapping from pmemkv's errors to abstract-level's: every failure a PmemkvLevel method
 * raises is a ModuleError with a LEVEL_* code, and the PmemkvError that caused it (with its
 * own `code` and `status`) is kept as `cause`. Codes never change between major versions;
 * messages may.
 *
 *   pmemkv code        LEVEL_* code              when
 *   POOL_LOCKED        LEVEL_LOCKED              another process holds the pool open
 *   OUT_OF_MEMORY      LEVEL_IO_ERROR            the pool is full; nothing of the write changed
 *   NOT_SUPPORTED      LEVEL_NOT_SUPPORTED       the engine lacks the capability
 *   INVALID_ARGUMENT   LEVEL_INVALID_KEY         a key the engine refuses (reads, deletes, key checks)
 *                      LEVEL_INVALID_VALUE       a write the engine refuses (keys are checked first)
 *   anything else      LEVEL_IO_ERROR            e.g. UNKNOWN_ERROR from a damaged pool
 *
 * Opening wraps whatever `_open` throws in LEVEL_DATABASE_NOT_OPEN itself (abstract-level);
 * that error's `cause` is the PmemkvError, or LEVEL_LOCKED (whose `cause` is the PmemkvError).
 */
import { PmemkvError } from '@pmemkv/core';
import ModuleError from 'module-error';

/** What a failed call was doing: decides between LEVEL_INVALID_KEY and LEVEL_INVALID_VALUE. */
export type OpKind = 'read' | 'write';

function codeOf(err: unknown): unknown {
  return err !== null && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The LEVEL_* error for a pmemkv failure of a data method; `err` becomes its `cause`. */
export function levelError(err: unknown, kind: OpKind): ModuleError {
  const code = codeOf(err);
  let levelCode: string;
  switch (code) {
    case 'POOL_LOCKED':
      levelCode = 'LEVEL_LOCKED';
      break;
    case 'NOT_SUPPORTED':
      levelCode = 'LEVEL_NOT_SUPPORTED';
      break;
    case 'INVALID_ARGUMENT':
      levelCode = kind === 'write' ? 'LEVEL_INVALID_VALUE' : 'LEVEL_INVALID_KEY';
      break;
    default:
      levelCode = 'LEVEL_IO_ERROR';
  }
  return new ModuleError(messageOf(err), { code: levelCode, cause: err as Error });
}

/**
 * The cause to hand to abstract-level when opening fails: the PmemkvError itself, except a
 * locked pool, which becomes LEVEL_LOCKED (as classic-level reports a locked LevelDB), and a
 * pool kept in another key order, whose engine message would suggest a comparator PmemkvLevel
 * cannot use (the engine's error stays as its cause).
 */
export function openFailure(err: unknown): Error {
  const code = codeOf(err);
  if (code === 'POOL_LOCKED') return new ModuleError(messageOf(err), { code: 'LEVEL_LOCKED', cause: err as Error });
  if (code === 'COMPARATOR_MISMATCH') {
    return new PmemkvError(
      'COMPARATOR_MISMATCH',
      `the pool keeps its keys in another order than bytewise, and PmemkvLevel needs bytewise order (abstract-level ranges are lexicographic): open this pool with @pmemkv/core instead (${messageOf(err)})`,
      { cause: err },
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** A key the engine cannot hold, found before the engine is called. */
export function invalidKey(message: string): ModuleError {
  return new ModuleError(message, { code: 'LEVEL_INVALID_KEY' });
}
