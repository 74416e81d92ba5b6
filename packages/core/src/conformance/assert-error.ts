/**
 * Assertions on the errors of the public API: every failure must be a `PmemkvError` (the
 * class of the core instance under test) with the expected `code` and the matching numeric
 * `status`; promise methods must reject, never throw synchronously.
 */
import { PmemkvError, Status, type ErrorCode } from '../index';

function describeThrown(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${code !== undefined ? ` (code ${String(code)})` : ''}: ${err.message}`;
  }
  return `a non-Error value: ${String(err)}`;
}

function checkError(err: unknown, code: ErrorCode, what: string, messageParts: readonly string[]): PmemkvError {
  if (!(err instanceof PmemkvError)) {
    throw new Error(`${what}: expected a PmemkvError with code ${code}, got ${describeThrown(err)}`);
  }
  if (err.code !== code) {
    throw new Error(`${what}: expected code ${code}, got ${err.code}: ${err.message}`);
  }
  if (err.status !== Status[code]) {
    throw new Error(`${what}: code ${code} must carry status ${Status[code]}, got ${String(err.status)}`);
  }
  for (const part of messageParts) {
    if (!err.message.includes(part)) {
      throw new Error(`${what}: the message should mention ${JSON.stringify(part)}; it is ${JSON.stringify(err.message)}`);
    }
  }
  return err;
}

/**
 * Runs `fn` and checks that it throws a PmemkvError with `code` whose message contains every
 * one of `messageParts`. Iterators are drained, so lazily failing iteration counts as throwing.
 */
export function expectCode(what: string, fn: () => unknown, code: ErrorCode, ...messageParts: string[]): PmemkvError {
  let result: unknown;
  try {
    result = fn();
    if (result !== null && typeof result === 'object' && Symbol.iterator in result && typeof result !== 'string') {
      result = [...(result as Iterable<unknown>)];
    }
  } catch (err) {
    return checkError(err, code, what, messageParts);
  }
  throw new Error(`${what}: expected a PmemkvError with code ${code}, but it returned ${JSON.stringify(result)}`);
}

/**
 * Calls `fn`, which must return a promise (not throw), and checks that the promise rejects with
 * a PmemkvError with `code`. An async iterator is drained instead.
 */
export async function expectRejection(what: string, fn: () => unknown, code: ErrorCode, ...messageParts: string[]): Promise<PmemkvError> {
  let pending: unknown;
  try {
    pending = fn();
  } catch (err) {
    throw new Error(`${what}: a promise method must reject, but it threw synchronously: ${describeThrown(err)}`);
  }
  let result: unknown;
  try {
    if (pending !== null && typeof pending === 'object' && Symbol.asyncIterator in pending) {
      const all: unknown[] = [];
      for await (const item of pending as AsyncIterable<unknown>) all.push(item);
      result = all;
    } else if (pending instanceof Promise) {
      result = await pending;
    } else {
      throw new Error(`${what}: expected a promise or an async iterator, got ${String(pending)}`);
    }
  } catch (err) {
    return checkError(err, code, what, messageParts);
  }
  throw new Error(`${what}: expected a rejection with code ${code}, but it resolved to ${JSON.stringify(result)}`);
}
