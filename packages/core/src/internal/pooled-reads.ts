/**
 * DO NOT IMPORT FROM OUTSIDE @pmemkv/core (not public API).
 *
 * The pooled get path, for handles that have `getPooled` (the engines built on
 * @pmemkv/native-pmemobj): the engine copies the value straight into a value pool, and a
 * `buffer`-encoded value is returned as a view of that pool, the way `Buffer.allocUnsafe` hands
 * out views of Node's pool. So a get costs the lookup, one copy of the value and one small
 * object, instead of an allocation and a second copy per value.
 *
 * Pools: ArrayBuffers of POOL_BYTES that V8 owns (a pool is freed by the garbage collector once
 * no view of it is left, as any Buffer's memory), carved front to back at 8-byte aligned
 * offsets and replaced when less than ROOM is left, so a value of up to ROOM bytes always
 * fits. A longer value that did not fit in what was left is read again into a Buffer of its
 * own (#exact). Values of other encodings are decoded (copied) out of one reused pool at offset
 * 0. A returned Buffer keeps its pool alive, as a Buffer of Node's pool does.
 *
 * Thread-safety: belongs to the JS thread of its Access.
 */
import { Buffer } from 'node:buffer';
import type { Bytes, EngineHandle } from '../contract';
import { isBufferCodec, type Codec } from '../encodings';

/** A handle with the pooled get path (contract.ts, EngineHandle.getPooled). */
type PooledHandle = Required<Pick<EngineHandle, 'getPooled'>>;

/** Returned by `PooledReads.get` when a value kept changing size under it (the caller reads it another way). */
export const NOT_TAKEN: unique symbol = Symbol('not taken');

const POOL_BYTES = 64 * 1024;
const ROOM = 4096;
const EXACT_TRIES = 3;

/**
 * A view of `length` bytes of `pool` at `offset`, as a Buffer. Node's own Buffers are
 * instances of the class `Buffer[Symbol.species]` names (what `Buffer.from(arrayBuffer, ...)`
 * constructs after its argument checks); constructing it directly skips those checks, which
 * cost about as much as the rest of a cached get's JS. Where that class is not exposed,
 * `Buffer.from`.
 */
type ViewConstructor = new (pool: ArrayBuffer, offset: number, length: number) => Buffer;
const species: unknown = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species];
const NodeBuffer: ViewConstructor | undefined =
  typeof species === 'function' && species !== Buffer && (species as { prototype: unknown }).prototype === Buffer.prototype
    ? (species as ViewConstructor)
    : undefined;
const view: (pool: ArrayBuffer, offset: number, length: number) => Buffer =
  NodeBuffer !== undefined ? (pool, offset, length) => new NodeBuffer(pool, offset, length) : (pool, offset, length) => Buffer.from(pool, offset, length);

function newPool(): ArrayBuffer {
  // Not zero-filled: every byte a view shows was written by the engine first.
  const b = Buffer.allocUnsafeSlow(POOL_BYTES);
  return b.byteOffset === 0 && b.buffer.byteLength === POOL_BYTES ? (b.buffer as ArrayBuffer) : new ArrayBuffer(POOL_BYTES);
}

export class PooledReads {
  readonly #h: PooledHandle;
  readonly #values: Codec<unknown>;
  /**
   * A Buffer over the pool for codecs that copy (their pool is never replaced), or undefined
   * when values are handed out as views of the pool (the `buffer` encoding).
   */
  readonly #poolBuffer: Buffer | undefined;
  #pool: ArrayBuffer;
  #offset = 0;

  /** The pooled path of `h`, or `undefined` when the handle does not have one. */
  static of(h: EngineHandle, values: Codec<unknown>): PooledReads | undefined {
    return typeof h.getPooled === 'function' ? new PooledReads(h as PooledHandle, values) : undefined;
  }

  private constructor(h: PooledHandle, values: Codec<unknown>) {
    this.#h = h;
    this.#values = values;
    this.#pool = newPool();
    this.#poolBuffer = isBufferCodec(values) ? undefined : Buffer.from(this.#pool);
  }

  /** The value of `key` decoded by the value codec, `undefined` when missing, or NOT_TAKEN. */
  get(key: Bytes): unknown {
    const copying = this.#poolBuffer;
    if (copying !== undefined) {
      const n = this.#h.getPooled(key, this.#pool, 0);
      if (n < 0) return undefined;
      if (n <= POOL_BYTES) return this.#values.decode(copying, n, 0);
      const own = this.#exact(key, n);
      return own === undefined || own === NOT_TAKEN ? own : this.#values.adopt(own);
    }
    if (POOL_BYTES - this.#offset < ROOM) this.#replacePool();
    const offset = this.#offset;
    const n = this.#h.getPooled(key, this.#pool, offset);
    if (n < 0) return undefined;
    if (n > POOL_BYTES - offset) return this.#exact(key, n);
    this.#offset = (offset + n + 7) & ~7;
    return view(this.#pool, offset, n);
  }

  /**
   * A value that did not fit where it was offered (longer than ROOM), read again into a Buffer
   * of its own length: one more lookup, no second copy, and no pool pinned by a large value.
   * Another thread may change the value in between; it is read until it fits, EXACT_TRIES
   * times at most (then NOT_TAKEN).
   */
  #exact(key: Bytes, length: number): Buffer | undefined | typeof NOT_TAKEN {
    let n = length;
    for (let i = 0; i < EXACT_TRIES; i++) {
      const own = Buffer.allocUnsafeSlow(n);
      const got = this.#h.getPooled(key, own.buffer as ArrayBuffer, own.byteOffset);
      if (got < 0) return undefined;
      if (got <= n) return got === n ? own : own.subarray(0, got);
      n = got;
    }
    return NOT_TAKEN;
  }

  #replacePool(): void {
    this.#pool = newPool();
    this.#offset = 0;
  }
}
