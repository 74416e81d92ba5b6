/**
 * Keys and values for the fuzz campaign: random binary keys of 0 to 300 bytes mixed with the
 * keys engines get wrong (empty, `\0`, `\xff`, runs of them, and prefixes of each other), or
 * keys of exactly the engine's fixed size; values from empty to 64 KiB, mostly small.
 */
import type { Rng } from '../random';

const SPECIAL: readonly Buffer[] = [
  Buffer.alloc(0),
  Buffer.from([0]),
  Buffer.from([0, 0]),
  Buffer.from([0xff]),
  Buffer.from([0xff, 0xff]),
  Buffer.from([0xff, 0xff, 0xff, 0xff]),
  Buffer.from([0, 0xff]),
  Buffer.from([0xff, 0]),
  Buffer.from('a'),
  Buffer.from('a\0'),
  Buffer.from('ab'),
  Buffer.from('abc'),
  Buffer.from('abc\xff', 'latin1'),
  Buffer.from('b'),
];

export interface KeyShape {
  readonly fixedSize?: number;
  readonly maxKeySize?: number;
}

export class KeyMaker {
  readonly #rng: Rng;
  readonly #shape: KeyShape;
  /** Keys made so far, so that new keys can be prefixes or extensions of old ones. */
  readonly #made: Buffer[] = [];

  constructor(rng: Rng, shape: KeyShape) {
    this.#rng = rng;
    this.#shape = shape;
  }

  #fit(key: Buffer): Buffer {
    const { fixedSize, maxKeySize } = this.#shape;
    if (fixedSize !== undefined) {
      if (key.length === fixedSize) return key;
      const out = Buffer.alloc(fixedSize, key.length > 0 ? key[key.length - 1]! : 0);
      key.copy(out, 0, 0, Math.min(key.length, fixedSize));
      return out;
    }
    return maxKeySize !== undefined && key.length > maxKeySize ? key.subarray(0, maxKeySize) : key;
  }

  #fresh(): Buffer {
    const r = this.#rng;
    const x = r.next();
    if (x < 0.2) return r.pick(SPECIAL);
    if (x < 0.45 && this.#made.length > 0) {
      const base = r.pick(this.#made);
      if (r.chance(0.5)) return base.subarray(0, r.int(base.length + 1));
      return Buffer.concat([base, r.chance(0.5) ? Buffer.from([r.pick([0, 0xff, 0x61])]) : r.bytes(r.between(1, 8))]);
    }
    // Small alphabets collide, so prefixes and equal keys come up often.
    const len = r.chance(0.85) ? r.between(0, 24) : r.between(25, 300);
    const out = r.bytes(len);
    if (r.chance(0.5)) for (let i = 0; i < len; i++) out[i] = [0, 1, 0x61, 0x62, 0xfe, 0xff][out[i]! % 6]!;
    return out;
  }

  /** A key not necessarily present in the database. */
  key(): Buffer {
    const k = this.#fit(this.#fresh());
    if (this.#made.length < 2000) this.#made.push(k);
    else this.#made[this.#rng.int(this.#made.length)] = k;
    return k;
  }

  value(): Buffer {
    const r = this.#rng;
    if (this.#shape.fixedSize !== undefined) return r.bytes(this.#shape.fixedSize);
    const x = r.next();
    const len = x < 0.1 ? 0 : x < 0.8 ? r.between(1, 100) : x < 0.995 ? r.between(101, 4096) : r.between(4097, 65536);
    const out = r.bytes(Math.min(len, 64));
    return len <= 64 ? out : Buffer.concat([out, Buffer.alloc(len - 64, out[0]!)]);
  }
}
