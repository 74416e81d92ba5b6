/**
 * An in-memory sorted map of byte keys to byte values, for the test engines.
 *
 * Keys are held as latin1 strings: each byte becomes one UTF-16 code unit below 256, so JS
 * string order is exactly bytewise (memcmp) order, a shorter prefix first. The sorted key list
 * is rebuilt lazily after inserts and removes.
 *
 * Ownership: `put` copies; values handed out are copies.
 */
import type { Bytes, KeyRange } from '../../src/contract';

export function toBuffer(bytes: Bytes): Buffer {
  return typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
}

function id(bytes: Bytes): string {
  return toBuffer(bytes).toString('latin1');
}

export class SortedStore {
  readonly #map = new Map<string, Buffer>();
  #sorted: string[] | null = [];

  get size(): number {
    return this.#map.size;
  }

  put(key: Bytes, value: Bytes): void {
    const k = id(key);
    if (!this.#map.has(k)) this.#sorted = null;
    this.#map.set(k, Buffer.from(toBuffer(value)));
  }

  /** The stored value itself (not a copy): callers copy before handing it out. */
  peek(key: Bytes): Buffer | undefined {
    return this.#map.get(id(key));
  }

  remove(key: Bytes): boolean {
    const removed = this.#map.delete(id(key));
    if (removed) this.#sorted = null;
    return removed;
  }

  clear(): void {
    this.#map.clear();
    this.#sorted = [];
  }

  #keys(): string[] {
    if (this.#sorted === null) this.#sorted = [...this.#map.keys()].sort();
    return this.#sorted;
  }

  /** First index whose key is >= k (or > k when `after`). */
  #bound(k: string, after: boolean): number {
    const keys = this.#keys();
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const key = keys[mid]!;
      if (key < k || (after && key === k)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index range [from, to) of `range` in the sorted keys. */
  span(range: KeyRange | undefined): [number, number] {
    const keys = this.#keys();
    let from = 0;
    let to = keys.length;
    if (range?.lower !== undefined) from = this.#bound(id(range.lower), !range.lowerInclusive);
    if (range?.upper !== undefined) to = this.#bound(id(range.upper), range.upperInclusive === true);
    return [from, Math.max(from, to)];
  }

  count(range: KeyRange | undefined): number {
    const [from, to] = this.span(range);
    return to - from;
  }

  /** Up to `limit` entries of `range` as copies, flat `[k0, v0, k1, v1, ...]`. */
  scan(range: KeyRange | undefined, reverse: boolean, limit: number): Buffer[] {
    const keys = this.#keys();
    const [from, to] = this.span(range);
    const out: Buffer[] = [];
    const n = Math.min(to - from, limit);
    for (let j = 0; j < n; j++) {
      const k = keys[reverse ? to - 1 - j : from + j]!;
      out.push(Buffer.from(k, 'latin1'), Buffer.from(this.#map.get(k)!));
    }
    return out;
  }

  /** Every entry in key order (the stored values themselves). */
  *entries(): Generator<[Buffer, Buffer]> {
    for (const k of this.#keys()) yield [Buffer.from(k, 'latin1'), this.#map.get(k)!];
  }
}
