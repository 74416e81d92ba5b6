/**
 * DO NOT IMPORT FROM OUTSIDE @pmemkv/core (not public API).
 *
 * The bound get path, for handles that have `readKeyArea`, `newValuePool` and `getBound` (the
 * engines built on @pmemkv/native-pmemobj). Only numbers cross into native code: the key is
 * written into the handle's key area (memory the handle owns and JS views), the engine copies
 * the value straight into the current value pool, and a `buffer`-encoded value is returned as a
 * view of that pool, the way `Buffer.allocUnsafe` hands out views of Node's pool. So a get
 * costs the lookup, one copy of the value and one small object; no Buffer is allocated per key.
 *
 * Pools: each is POOL_BYTES, carved front to back at 8-byte aligned offsets, and replaced
 * when less than ROOM is left, so a value of up to ROOM bytes always fits. A value that did
 * not fit (longer than what was left) is not copied; the caller reads it another way. Values
 * of other encodings are decoded (copied) out of the pool at offset 0, which is then reused.
 * A returned Buffer keeps its pool alive, as a Buffer of Node's pool does.
 *
 * Thread-safety: belongs to the JS thread of its Access.
 */
import type { Bytes, EngineHandle } from '../contract';
import type { Codec } from '../encodings';

/** A handle with the bound get path (contract.ts, EngineHandle.getBound). */
type BoundHandle = Required<Pick<EngineHandle, 'readKeyArea' | 'newValuePool' | 'getBound'>>;

/** Returned by `BoundReads.get` when this path cannot read the key (the caller reads it another way). */
export const NOT_TAKEN: unique symbol = Symbol('not taken');

const POOL_BYTES = 64 * 1024;
const ROOM = 4096;

function isBound(h: EngineHandle): h is EngineHandle & BoundHandle {
  return typeof h.readKeyArea === 'function' && typeof h.newValuePool === 'function' && typeof h.getBound === 'function';
}

export class BoundReads {
  readonly #h: BoundHandle;
  readonly #keyArea: Buffer;
  /** Strings of up to this many UTF-16 units always fit the key area (at most 3 UTF-8 bytes each). */
  readonly #maxStringKey: number;
  /** Whether values are handed out as views of the pool (the `buffer` encoding). */
  readonly #views: boolean;
  #pool: ArrayBuffer;
  /** A Buffer over the whole current pool, for codecs that copy. */
  #poolBuffer: Buffer;
  #offset = 0;

  /** The bound path of `h`, or `undefined` when the handle does not have one. */
  static of(h: EngineHandle, values: Codec<unknown>): BoundReads | undefined {
    return isBound(h) ? new BoundReads(h, values) : undefined;
  }

  private constructor(h: BoundHandle, values: Codec<unknown>) {
    this.#h = h;
    this.#keyArea = h.readKeyArea();
    this.#maxStringKey = Math.floor(this.#keyArea.length / 3);
    this.#views = values.name === 'buffer';
    this.#pool = h.newValuePool(POOL_BYTES);
    this.#poolBuffer = Buffer.from(this.#pool);
  }

  /** The value of `key` decoded by `values`, `undefined` when missing, or NOT_TAKEN. */
  get(key: Bytes, values: Codec<unknown>): unknown {
    const area = this.#keyArea;
    let length: number;
    if (typeof key === 'string') {
      if (key.length > this.#maxStringKey) return NOT_TAKEN;
      length = area.write(key);
    } else {
      length = key.length;
      if (length > area.length) return NOT_TAKEN;
      area.set(key);
    }
    if (!this.#views) {
      const n = this.#h.getBound(length, 0);
      if (n < 0) return undefined;
      return n <= POOL_BYTES ? values.decode(this.#poolBuffer, n, 0) : NOT_TAKEN;
    }
    if (POOL_BYTES - this.#offset < ROOM) this.#replacePool();
    const offset = this.#offset;
    const n = this.#h.getBound(length, offset);
    if (n < 0) return undefined;
    if (n > POOL_BYTES - offset) return NOT_TAKEN;
    this.#offset = (offset + n + 7) & ~7;
    return Buffer.from(this.#pool, offset, n);
  }

  #replacePool(): void {
    this.#pool = this.#h.newValuePool(POOL_BYTES);
    this.#poolBuffer = Buffer.from(this.#pool);
    this.#offset = 0;
  }
}
