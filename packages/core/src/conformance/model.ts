/**
 * The reference model the suite checks engines against: a map of byte keys to byte values,
 * kept in bytewise order (Buffer.compare: memcmp order, a shorter prefix first), with the
 * bound semantics of pmemkv: above `>`, equalAbove `>=`, below `<`, equalBelow `<=`, between the
 * open interval; an empty or inverted range is empty.
 *
 * The model copies what it is given and hands out its own Buffers: callers must not mutate them.
 */

/** A range in model terms; an absent bound is unbounded on that side. */
export interface ModelRange {
  readonly lower?: Buffer;
  readonly lowerInclusive?: boolean;
  readonly upper?: Buffer;
  readonly upperInclusive?: boolean;
}

export type Entry = readonly [key: Buffer, value: Buffer];

function inRange(key: Buffer, range: ModelRange | undefined): boolean {
  if (range === undefined) return true;
  if (range.lower !== undefined) {
    const c = Buffer.compare(key, range.lower);
    if (c < 0 || (c === 0 && !range.lowerInclusive)) return false;
  }
  if (range.upper !== undefined) {
    const c = Buffer.compare(key, range.upper);
    if (c > 0 || (c === 0 && !range.upperInclusive)) return false;
  }
  return true;
}

export class SortedModel {
  /** Keys in ascending bytewise order; `#values` holds the value of `#keys[i]` at index i. */
  readonly #keys: Buffer[] = [];
  readonly #values: Buffer[] = [];

  /** Index of `key`, or -(insertion point) - 1 when absent. */
  #find(key: Buffer): number {
    let lo = 0;
    let hi = this.#keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = Buffer.compare(this.#keys[mid]!, key);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  get size(): number {
    return this.#keys.length;
  }

  put(key: Buffer | string, value: Buffer | string): void {
    const k = Buffer.from(key);
    const v = Buffer.from(value);
    const i = this.#find(k);
    if (i >= 0) {
      this.#values[i] = v;
    } else {
      this.#keys.splice(-i - 1, 0, k);
      this.#values.splice(-i - 1, 0, v);
    }
  }

  /** `true` when the key was there. */
  remove(key: Buffer | string): boolean {
    const i = this.#find(Buffer.from(key));
    if (i < 0) return false;
    this.#keys.splice(i, 1);
    this.#values.splice(i, 1);
    return true;
  }

  get(key: Buffer | string): Buffer | undefined {
    const i = this.#find(Buffer.from(key));
    return i >= 0 ? this.#values[i] : undefined;
  }

  has(key: Buffer | string): boolean {
    return this.#find(Buffer.from(key)) >= 0;
  }

  /** All keys in ascending order. */
  keys(): Buffer[] {
    return this.#keys.slice();
  }

  /** Entries of `range` in ascending order (descending when `reverse`), at most `limit` of them. */
  entries(range?: ModelRange, reverse = false, limit = Infinity): Entry[] {
    const out: Entry[] = [];
    const n = this.#keys.length;
    for (let j = 0; j < n && out.length < limit; j++) {
      const i = reverse ? n - 1 - j : j;
      const k = this.#keys[i]!;
      if (inRange(k, range)) out.push([k, this.#values[i]!]);
    }
    return out;
  }

  count(range?: ModelRange): number {
    if (range === undefined) return this.#keys.length;
    let c = 0;
    for (const k of this.#keys) if (inRange(k, range)) c++;
    return c;
  }
}

/** Shows bytes for failure messages: printable ASCII as is, everything else as \xHH. */
export function showBytes(bytes: Buffer | Uint8Array | string): string {
  const b = Buffer.from(bytes as Uint8Array);
  let out = '';
  for (const c of b) out += c >= 0x20 && c < 0x7f && c !== 0x5c && c !== 0x22 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return `"${out}"`;
}

/** Entries as printable [key, value] strings, so that jest's diffs stay readable. */
export function showEntries(entries: readonly (readonly [Buffer | Uint8Array | string, Buffer | Uint8Array | string])[]): string[] {
  return entries.map(([k, v]) => `${showBytes(k)} => ${v.length > 40 ? `${showBytes(Buffer.from(v as Uint8Array).subarray(0, 40))}... (${v.length} B)` : showBytes(v)}`);
}

/** Printable keys, for order comparisons. */
export function showKeys(keys: readonly (Buffer | Uint8Array | string)[]): string[] {
  return keys.map((k) => showBytes(k));
}
