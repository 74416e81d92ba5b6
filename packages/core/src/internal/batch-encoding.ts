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
 * Strings are written as UTF-8. The Buffer is the engine's to copy; it is not reused.
 */
import type { AsyncEngineHandle, BatchOp, Bytes, EngineHandle } from '../contract';

const PUT = 1;
const DEL = 2;

function size(b: Bytes): number {
  return typeof b === 'string' ? Buffer.byteLength(b) : b.length;
}

function u32(out: Buffer, at: number, n: number): void {
  out[at] = n;
  out[at + 1] = n >>> 8;
  out[at + 2] = n >>> 16;
  out[at + 3] = n >>> 24;
}

/** Writes b's length and bytes at `at` (its length `n` was measured); returns the end. */
function put(out: Buffer, at: number, b: Bytes, n: number): number {
  u32(out, at, n);
  at += 4;
  if (typeof b === 'string') out.write(b, at, n, 'utf8');
  else out.set(b, at);  // TypedArray set: no call into C++ for short keys and values, unlike Buffer#copy
  return at + n;
}

export function encodeBatch(ops: readonly BatchOp[]): Buffer {
  let total = 4;
  const sizes = new Array<number>(ops.length * 2);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const k = size(op.key);
    sizes[2 * i] = k;
    if (op.type === 'put') {
      const v = size(op.value!);
      sizes[2 * i + 1] = v;
      total += 9 + k + v;
    } else {
      sizes[2 * i + 1] = 0;
      total += 5 + k;
    }
  }
  const out = Buffer.allocUnsafe(total);
  u32(out, 0, ops.length);
  let at = 4;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.type === 'put') {
      out[at++] = PUT;
      at = put(out, at, op.key, sizes[2 * i]!);
      at = put(out, at, op.value!, sizes[2 * i + 1]!);
    } else {
      out[at++] = DEL;
      at = put(out, at, op.key, sizes[2 * i]!);
    }
  }
  return out;
}

/** `handle.batch(ops)`, through one encoded Buffer when the handle takes it. */
export function batchSync(h: EngineHandle, ops: readonly BatchOp[]): void {
  if (h.batchEncoded !== undefined) h.batchEncoded(encodeBatch(ops));
  else h.batch(ops);
}

/** `handle.async.batch(ops)`, through one encoded Buffer when the handle takes it. */
export function batchAsync(h: AsyncEngineHandle, ops: readonly BatchOp[]): Promise<void> {
  return h.batchEncoded !== undefined ? h.batchEncoded(encodeBatch(ops)) : h.batch(ops);
}
