/**
 * The fuzz campaign's reference model: byte keys to byte values in bytewise order (memcmp, a
 * shorter prefix first), with pmemkv's bounds: above `>`, equalAbove `>=`, below `<`,
 * equalBelow `<=`, between the open interval. Range queries find their ends by binary search,
 * so a million operations stay cheap. Its own copy because core's SortedModel is exported only
 * from '@pmemkv/core/conformance', which loads jest.
 */

export type Entry = readonly [Buffer, Buffer];

export interface Bounds {
  readonly lower?: Buffer;
  readonly lowerInclusive?: boolean;
  readonly upper?: Buffer;
  readonly upperInclusive?: boolean;
}

export class Model {
  readonly #keys: Buffer[] = [];
  readonly #values: Buffer[] = [];

  get size(): number {
    return this.#keys.length;
  }

  /** First index whose key is >= key (or > key when `after`). */
  #bound(key: Buffer, after: boolean): number {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = Buffer.compare(this.#keys[mid]!, key);
      if (c < 0 || (after && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #index(key: Buffer): number {
    const i = this.#bound(key, false);
    return i < this.#keys.length && this.#keys[i]!.equals(key) ? i : -1;
  }

  get(key: Buffer): Buffer | undefined {
    const i = this.#index(key);
    return i < 0 ? undefined : this.#values[i];
  }

  put(key: Buffer, value: Buffer): void {
    const i = this.#bound(key, false);
    if (i < this.#keys.length && this.#keys[i]!.equals(key)) this.#values[i] = Buffer.from(value);
    else {
      this.#keys.splice(i, 0, Buffer.from(key));
      this.#values.splice(i, 0, Buffer.from(value));
    }
  }

  remove(key: Buffer): boolean {
    const i = this.#index(key);
    if (i < 0) return false;
    this.#keys.splice(i, 1);
    this.#values.splice(i, 1);
    return true;
  }

  /** The index range [from, to) of `bounds`; empty (from >= to) for an empty or inverted range. */
  span(bounds: Bounds): [number, number] {
    const from = bounds.lower === undefined ? 0 : this.#bound(bounds.lower, !bounds.lowerInclusive);
    const to = bounds.upper === undefined ? this.#keys.length : this.#bound(bounds.upper, !!bounds.upperInclusive);
    return [from, Math.max(from, to)];
  }

  count(bounds: Bounds = {}): number {
    const [from, to] = this.span(bounds);
    return to - from;
  }

  entries(bounds: Bounds = {}, reverse = false, limit = Infinity): Entry[] {
    const [from, to] = this.span(bounds);
    const out: Entry[] = [];
    for (let j = 0; j < to - from && out.length < limit; j++) {
      const i = reverse ? to - 1 - j : from + j;
      out.push([this.#keys[i]!, this.#values[i]!]);
    }
    return out;
  }

  keyAt(i: number): Buffer {
    return this.#keys[i]!;
  }
}
