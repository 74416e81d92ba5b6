/**
 * Keys and values shaped for the engine under test: engines with `fixedSize` (every key and
 * value exactly N bytes) get exactly N bytes, engines with `maxKeySize` never get longer keys.
 * Random keys favour a few byte values (0x00, 0x01, 'A', 0x7f, 0x80, 0xfe, 0xff) and short
 * lengths, so that a few hundred of them include the empty key, keys that are prefixes of each
 * other, and keys that differ only in a trailing zero byte.
 */
import type { Capabilities } from '../index';
import type { Random } from './random';

const FAVOURED = [0x00, 0x01, 0x41, 0x7f, 0x80, 0xfe, 0xff];
/** Longest random key (bytes) when the engine allows it. */
const RANDOM_KEY_MAX = 8;

export class KeyShape {
  /** Every key and value has exactly this many bytes, when set. */
  readonly fixed: number | undefined;
  /** Largest key the engine takes. */
  readonly maxKey: number;

  constructor(caps: Capabilities) {
    this.fixed = caps.fixedSize;
    this.maxKey = caps.fixedSize ?? caps.maxKeySize ?? Infinity;
  }

  /** Whether the engine takes keys of `n` bytes. */
  allowsKey(n: number): boolean {
    return this.fixed !== undefined ? n === this.fixed : n <= this.maxKey;
  }

  /** Whether the engine takes values of `n` bytes. */
  allowsValue(n: number): boolean {
    return this.fixed === undefined || n === this.fixed;
  }

  /** `text` as a key: padded with '_' or cut to the fixed size, cut to maxKey. ASCII only. */
  key(text: string): string {
    if (this.fixed !== undefined) return text.padEnd(this.fixed, '_').slice(0, this.fixed);
    return Number.isFinite(this.maxKey) ? text.slice(0, this.maxKey) : text;
  }

  /** `text` as a value: padded with '.' or cut to the fixed size. ASCII only. */
  value(text: string): string {
    return this.fixed !== undefined ? text.padEnd(this.fixed, '.').slice(0, this.fixed) : text;
  }

  /** `bytes` as a key: zero-padded or cut to the fixed size, cut to maxKey. */
  keyBytes(bytes: Buffer): Buffer {
    const n = this.fixed ?? Math.min(bytes.length, this.maxKey);
    const out = Buffer.alloc(n);
    bytes.copy(out, 0, 0, Math.min(n, bytes.length));
    return out;
  }

  /** `bytes` as a value: zero-padded or cut to the fixed size. */
  valueBytes(bytes: Buffer): Buffer {
    if (this.fixed === undefined) return Buffer.from(bytes);
    const out = Buffer.alloc(this.fixed);
    bytes.copy(out, 0, 0, Math.min(this.fixed, bytes.length));
    return out;
  }

  /** A random key for model checks. */
  randomKey(rng: Random): Buffer {
    const n = this.fixed ?? rng.int(Math.min(RANDOM_KEY_MAX, this.maxKey) + 1);
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = rng.chance(0.6) ? rng.pick(FAVOURED) : rng.uint32() & 0xff;
    return out;
  }

  /** A random value (up to `maxLength` bytes; exactly `fixed` on fixed-size engines). */
  randomValue(rng: Random, maxLength = 64): Buffer {
    return rng.bytes(this.fixed ?? rng.int(maxLength + 1));
  }

  /**
   * Probe keys for range checks: every stored key, each with a zero byte appended (its
   * immediate successor) and with its last byte dropped (a prefix), the empty key, an
   * all-0xff key, and `extra` random keys; only keys the engine accepts.
   */
  probes(rng: Random, stored: readonly Buffer[], extra: number): Buffer[] {
    const out = new Map<string, Buffer>();
    const add = (k: Buffer) => {
      if (this.allowsKey(k.length)) out.set(k.toString('latin1'), k);
    };
    for (const k of stored) {
      add(k);
      add(Buffer.concat([k, Buffer.from([0])]));
      if (k.length > 0) add(k.subarray(0, k.length - 1));
    }
    add(Buffer.alloc(0));
    add(Buffer.alloc(this.fixed ?? Math.min(RANDOM_KEY_MAX + 1, this.maxKey), 0xff));
    for (let i = 0; i < extra; i++) add(this.randomKey(rng));
    return [...out.values()];
  }
}
