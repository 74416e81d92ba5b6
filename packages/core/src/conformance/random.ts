/**
 * A small seeded pseudo-random generator (xorshift32 with a splitmix-style seed scramble), so
 * that every randomized check of the conformance suite can be replayed from its seed.
 *
 * Not for cryptography; the sequence for a given seed is part of no API and may change.
 */

/** Scrambles a 32-bit value so that nearby seeds give unrelated sequences. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** FNV-1a of a string, to derive per-test seeds from names. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Random {
  #state: number;

  constructor(seed: number) {
    // xorshift32 must never hold 0.
    this.#state = mix32(seed >>> 0) || 0x9e3779b9;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.uint32() / 0x100000000;
  }

  /** An integer in [0, n). REQUIRES: n >= 1. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi] (both included). */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** `n` uniformly random bytes. */
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.uint32() & 0xff;
    return out;
  }
}

/**
 * The suite's base seed: PMEMKV_CONFORMANCE_SEED when set (to replay a failure), else random.
 * Every randomized test derives its own generator from this seed and its name, so a test
 * replays the same way whatever else runs.
 */
export function baseSeed(): number {
  const fromEnv = process.env.PMEMKV_CONFORMANCE_SEED;
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (Number.isSafeInteger(n) && n >= 0) return n >>> 0;
    throw new Error(`PMEMKV_CONFORMANCE_SEED must be a non-negative integer, got ${JSON.stringify(fromEnv)}`);
  }
  return Math.floor(Math.random() * 0x100000000) >>> 0;
}
