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

function put(out: Buffer, at: number, b: Bytes, n: number): number {
  out.writeUInt32LE(n, at);
  at += 4;
  if (typeof b === 'string') out.write(b, at, n, 'utf8');
  else b.copy(out, at);
  return at + n;
}

export function encodeBatch(ops: readonly BatchOp[]): Buffer {
  let total = 4;
  const sizes = new Array<number>(ops.length * 2);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const k = size(op.key);
    const v = op.type === 'put' ? size(op.value!) : 0;
    sizes[2 * i] = k;
    sizes[2 * i + 1] = v;
    total += 1 + 4 + k + (op.type === 'put' ? 4 + v : 0);
  }
  const out = Buffer.allocUnsafe(total);
  out.writeUInt32LE(ops.length, 0);
  let at = 4;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    out[at++] = op.type === 'put' ? PUT : DEL;
    at = put(out, at, op.key, sizes[2 * i]!);
    if (op.type === 'put') at = put(out, at, op.value!, sizes[2 * i + 1]!);
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
