/**
 * DO NOT IMPORT FROM OUTSIDE @pmemkv/core (not public API).
 *
 * Batches in one Buffer, for handles that take them (`batchEncoded`, native engines): reading a
 * JS array of objects across N-API costs several property reads per operation, far more than
 * writing the same bytes once in JS. Format (little-endian):
 *
 *   u32 count, then per operation: u8 kind (1 put, 2 del), u32 key length, key bytes,
 *   and for a put: u32 value length, value bytes.
 *
 * Strings are written as UTF-8. A synchronous batch is encoded into one reused Buffer (the
 * engine copies it during the call; contract.ts), an async one into a Buffer of its own.
 */
import { Buffer } from 'node:buffer';
import type { AsyncEngineHandle, BatchOp, Bytes, EngineHandle } from '../contract';

const PUT = 1;
const DEL = 2;

/** Batches of up to this many encoded bytes reuse one Buffer; a longer one gets its own. */
const SHARED_BYTES = 1 << 20;
let shared: Buffer | undefined;

function size(b: Bytes): number {
  return typeof b === 'string' ? Buffer.byteLength(b) : b.length;
}

function u32(out: Buffer, at: number, n: number): void {
  out[at] = n;
  out[at + 1] = n >>> 8;
  out[at + 2] = n >>> 16;
  out[at + 3] = n >>> 24;
}

/** Writes b's length and bytes at `at` (room was measured); returns the end. */
function put(out: Buffer, at: number, b: Bytes): number {
  if (typeof b === 'string') {
    const n = out.write(b, at + 4, 'utf8');  // exactly Buffer.byteLength(b): the room was measured so
    u32(out, at, n);
    return at + 4 + n;
  }
  u32(out, at, b.length);
  out.set(b, at + 4);  // TypedArray set: no call into C++ for short keys and values, unlike Buffer#copy
  return at + 4 + b.length;
}

/** The encoded size of `ops`. */
function encodedSize(ops: readonly BatchOp[]): number {
  let total = 4;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    total += op.type === 'put' ? 9 + size(op.key) + size(op.value!) : 5 + size(op.key);
  }
  return total;
}

function encodeInto(ops: readonly BatchOp[], out: Buffer): Buffer {
  u32(out, 0, ops.length);
  let at = 4;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.type === 'put') {
      out[at++] = PUT;
      at = put(out, at, op.key);
      at = put(out, at, op.value!);
    } else {
      out[at++] = DEL;
      at = put(out, at, op.key);
    }
  }
  return out;
}

/** `ops` in a Buffer of their own (the async path: the engine keeps it until it is done). */
export function encodeBatch(ops: readonly BatchOp[]): Buffer {
  return encodeInto(ops, Buffer.allocUnsafe(encodedSize(ops)));
}

/** `ops` in the shared Buffer when they fit, valid until the next call (the sync path). */
function encodeBatchShared(ops: readonly BatchOp[]): Buffer {
  const total = encodedSize(ops);
  if (total > SHARED_BYTES) return encodeInto(ops, Buffer.allocUnsafe(total));
  if (shared === undefined || shared.length < total) shared = Buffer.allocUnsafeSlow(Math.min(SHARED_BYTES, Math.max(total, 64 * 1024)));
  return encodeInto(ops, shared.subarray(0, total));
}

/** `handle.batch(ops)`, through one encoded Buffer when the handle takes it. */
export function batchSync(h: EngineHandle, ops: readonly BatchOp[]): void {
  if (h.batchEncoded !== undefined) h.batchEncoded(encodeBatchShared(ops));
  else h.batch(ops);
}

/** `handle.async.batch(ops)`, through one encoded Buffer when the handle takes it. */
export function batchAsync(h: AsyncEngineHandle, ops: readonly BatchOp[]): Promise<void> {
  return h.batchEncoded !== undefined ? h.batchEncoded(encodeBatch(ops)) : h.batch(ops);
}
