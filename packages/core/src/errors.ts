/**
 * Errors: every failure of the public API is a `PmemkvError` whose `code` is one of pmemkv's
 * status names and whose `status` is pmemkv's number for it. Codes and numbers never change
 * between major versions; messages may.
 */

/** pmemkv's statuses (libpmemkv 1.x numbering, 0..12) and this project's extensions (13..). Public API: never renumber. */
export const Status = Object.freeze({
  OK: 0,
  UNKNOWN_ERROR: 1,
  NOT_FOUND: 2,
  NOT_SUPPORTED: 3,
  INVALID_ARGUMENT: 4,
  CONFIG_PARSING_ERROR: 5,
  CONFIG_TYPE_ERROR: 6,
  STOPPED_BY_CB: 7,
  OUT_OF_MEMORY: 8,
  WRONG_ENGINE_NAME: 9,
  TRANSACTION_SCOPE_ERROR: 10,
  DEFRAG_ERROR: 11,
  COMPARATOR_MISMATCH: 12,
  /** Not in pmemkv: the pool is held open by another process (libpmemobj locks an open pool). */
  POOL_LOCKED: 13,
} as const);

export type StatusName = keyof typeof Status;
/** The codes a `PmemkvError` can carry (every status but OK). */
export type ErrorCode = Exclude<StatusName, 'OK'>;

export class PmemkvError extends Error {
  /** pmemkv's status name, e.g. `'OUT_OF_MEMORY'`. Stable across versions. */
  readonly code: ErrorCode;
  /** The numeric status (pmemkv's 1..12, or an extension from 13). */
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PmemkvError';
    this.code = code;
    this.status = Status[code];
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value !== 'OK' && Object.prototype.hasOwnProperty.call(Status, value);
}

/**
 * Turns whatever an engine threw into a `PmemkvError`: errors that carry a status `code` keep
 * it and their message; anything else (a bug in an engine) becomes UNKNOWN_ERROR with the
 * original as `cause`.
 */
export function toPmemkvError(err: unknown): PmemkvError {
  if (err instanceof PmemkvError) return err;
  // Errors thrown by native addons belong to the main realm, so `instanceof Error` is false for
  // them inside a vm context (jest, REPL contexts): look at the shape, not the prototype.
  if (err !== null && typeof err === 'object') {
    const { code, message } = err as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : String(err);
    if (isErrorCode(code)) return new PmemkvError(code, text);
    return new PmemkvError('UNKNOWN_ERROR', `engine failed: ${text}`, { cause: err });
  }
  return new PmemkvError('UNKNOWN_ERROR', `engine failed: ${String(err)}`, { cause: err });
}

export function invalidArgument(message: string): PmemkvError {
  return new PmemkvError('INVALID_ARGUMENT', message);
}
