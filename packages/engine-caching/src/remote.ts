/**
 * The remote tier as the caching handle sees it: three operations on already-prefixed binary
 * keys, and the retry loop that turns a remote that cannot be reached into one clear error.
 *
 * Every Buffer a remote returns is owned by the caller. A remote is used from the JS thread that
 * opened the database; its operations may be in flight concurrently and are answered in any order.
 */
import { PmemkvError } from '@pmemkv/core';

/** How a failed attempt is handled: try again (`retry`), stop with UNKNOWN_ERROR (`fatal`), or refuse the input (`invalid`). */
export type FailureKind = 'retry' | 'fatal' | 'invalid';

export interface Failure {
  readonly kind: FailureKind;
  /** What the user should hear, as the end of a sentence ("the server refused the credentials ..."). */
  readonly reason?: string;
  /** The remote's own reason (the command error, or the connection error behind it). */
  readonly cause: unknown;
}

export interface Remote {
  /** `redis 127.0.0.1:6379`: names the server in messages. */
  readonly name: string;
  /** The largest remote key (prefix included) this remote can store, and whether an empty one is allowed. */
  readonly maxKeyBytes: number;
  readonly emptyKeyAllowed: boolean;
  /**
   * Whether a SET the server refuses as invalid (INVALID_ARGUMENT) removes the key's old value
   * on the server: memcached does so (a value too large for it), so the caller must drop its
   * local copy to stay a copy of what the server holds.
   */
  readonly refusedSetRemovesKey: boolean;
  /** One attempt each; a rejection is classified by `classify`. */
  get(key: Buffer): Promise<Buffer | undefined>;
  set(key: Buffer, value: Buffer | string): Promise<void>;
  /** `true` when the remote held the key. */
  del(key: Buffer): Promise<boolean>;
  classify(err: unknown): Failure;
  /** Drops the connection and stops reconnecting. Operations in flight fail. Idempotent. */
  close(): void;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') return (err as { message: string }).message;
  return String(err);
}

/** Milliseconds to wait before attempt `n + 1` (n >= 1): 50, 100, 200, ... up to 1 s. */
function backoff(n: number): number {
  return Math.min(50 * 2 ** (n - 1), 1000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `op` against `remote` up to `attempts` times, waiting a little longer after each failure
 * that may go away (a refused or dropped connection, a timeout).
 * @throws PmemkvError INVALID_ARGUMENT when the remote refuses the input itself (a value too large
 *   for memcached), else UNKNOWN_ERROR with the remote's reason as `cause`, after `attempts` tries
 *   or at once for a failure no retry can fix (refused credentials).
 */
export async function withAttempts<T>(remote: Remote, what: string, attempts: number, op: () => Promise<T>): Promise<T> {
  let last: Failure | undefined;
  for (let n = 1; n <= attempts; n++) {
    try {
      return await op();
    } catch (err) {
      last = remote.classify(err);
      if (last.kind === 'invalid') {
        throw new PmemkvError('INVALID_ARGUMENT', `caching: the ${remote.name} server refused to ${what}: ${last.reason ?? describeError(last.cause)}`, { cause: last.cause });
      }
      if (last.kind === 'fatal') break;
      if (n < attempts) await sleep(backoff(n));
    }
  }
  const tries = last?.kind === 'fatal' ? '' : ` after ${attempts} attempt${attempts === 1 ? '' : 's'}`;
  const reason = last?.reason ?? describeError(last?.cause);
  throw new PmemkvError(
    'UNKNOWN_ERROR',
    `caching: could not ${what} on the ${remote.name} server${tries} (${reason}); the local copy is unchanged, and the database reconnects by itself: retry once the server is reachable`,
    { cause: last?.cause },
  );
}
