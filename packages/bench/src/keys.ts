/**
 * Keys, values and the seeded random orders every store replays identically.
 *
 * Keys are db_bench's: the decimal index, zero-padded to `keySize` bytes, so byte order equals
 * index order. A missing key is a present key with its last byte replaced by '.', which no
 * present key contains. Values are db_bench's half-compressible printable bytes, taken as
 * fixed-size windows of one seeded 1 MiB buffer.
 *
 * Buffers written by `KeyFormat.write` are reused by the caller between operations: every
 * store copies a key or value before its call returns.
 */

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 32-bit state words, period >= 2^32. */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = seed >>> 0;
    this.#d = (Math.floor(seed / 0x100000000) ^ 1) >>> 0;
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, n) for n <= 2^32 (bias below 2^-32 * n, irrelevant here). */
  below(n: number): number {
    return Math.floor((this.nextU32() / 0x100000000) * n);
  }
}

/** Seeds of the independent streams, so that every store sees the same sequence for a phase. */
export const Streams = {
  fillOrder: 1,
  deleteOrder: 2,
  values: 3,
  overwrite: 4,
  /** Base of the read streams: + run (repeated reads), + 500 + thread (scaling), + 1000 * (reader + 1) (readwhilewriting), - 1 (worker warm-up). */
  reads: 100,
  writer: 50,
} as const;

export function streamSeed(seed: number, stream: number): number {
  return (seed * 1_000_003 + stream * 7919) % 0x1fffffffffffff;
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rng = new Prng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** `n` indices drawn uniformly with replacement from [0, range). */
export function randomIndices(n: number, range: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  const rng = new Prng(seed);
  for (let i = 0; i < n; i++) out[i] = rng.below(range);
  return out;
}

const ZERO = 0x30;
const MISSING_MARK = 0x2e; // '.'

export class KeyFormat {
  constructor(readonly keySize: number) {}

  /** Writes the key of `index` into `out` (keySize bytes) and returns `out`. */
  write(index: number, out: Buffer): Buffer {
    let n = index;
    for (let p = this.keySize - 1; p >= 0; p--) {
      const q = Math.floor(n / 10);
      out[p] = ZERO + (n - q * 10);
      n = q;
    }
    return out;
  }

  /** Writes a key that is never present: the key of `index` with its last byte '.'. */
  writeMissing(index: number, out: Buffer): Buffer {
    this.write(index, out);
    out[this.keySize - 1] = MISSING_MARK;
    return out;
  }

  /** A fresh buffer holding the key of `index`. */
  make(index: number): Buffer {
    return this.write(index, Buffer.allocUnsafe(this.keySize));
  }

  scratch(): Buffer {
    return Buffer.alloc(this.keySize);
  }
}

const VALUE_POOL_BYTES = 1 << 20;
const VALUE_VIEWS = 1024;

/**
 * db_bench-style values: windows of one seeded buffer whose every 100-byte stretch is 50 random
 * printable bytes written twice (compressible to about half, as db_bench's default ratio 0.5).
 */
export class ValueSource {
  readonly #views: Buffer[];

  constructor(readonly valueSize: number, seed: number) {
    const bytes = Buffer.allocUnsafe(VALUE_POOL_BYTES + valueSize);
    const rng = new Prng(seed);
    for (let off = 0; off < bytes.length; off += 100) {
      const half = Math.min(50, bytes.length - off);
      for (let i = 0; i < half; i++) bytes[off + i] = 0x20 + rng.below(95);
      bytes.copy(bytes, off + half, off, off + half); // truncated at the end of `bytes`
    }
    this.#views = [];
    for (let i = 0; i < VALUE_VIEWS; i++) {
      const start = rng.below(VALUE_POOL_BYTES);
      this.#views.push(bytes.subarray(start, start + valueSize));
    }
  }

  /** The value of operation `i` (one of 1024 distinct windows). Owned by the source: never modify it. */
  at(i: number): Buffer {
    return this.#views[i & (VALUE_VIEWS - 1)]!;
  }
}
