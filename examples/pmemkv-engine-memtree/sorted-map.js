'use strict';
/**
 * A sorted map of byte keys to byte values in DRAM: a sorted array of keys with binary search.
 *
 * Keys are held as latin1 strings (one UTF-16 code unit per byte, each below 256), so JS string
 * comparison is exactly bytewise (memcmp) order with a shorter prefix first.
 * Ownership: `put` copies the value; every Buffer handed out is a fresh copy.
 * Cost: get O(log n); put and remove of a new key O(n) (array splice), fine for an example.
 */

/** `Bytes` (a Buffer, or a string standing for its UTF-8) as a latin1 key string. */
function keyId(bytes) {
  return (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).toString('latin1');
}

function copyBytes(bytes) {
  return typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes);
}

class SortedMap {
  #keys = [];
  #values = new Map();

  get size() {
    return this.#keys.length;
  }

  /** First index whose key is >= id (> id when `after`). */
  #bound(id, after) {
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = this.#keys[mid];
      if (k < id || (after && k === id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  put(key, value) {
    const id = keyId(key);
    if (!this.#values.has(id)) this.#keys.splice(this.#bound(id, false), 0, id);
    this.#values.set(id, copyBytes(value));
  }

  get(key) {
    const v = this.#values.get(keyId(key));
    return v === undefined ? undefined : Buffer.from(v);
  }

  has(key) {
    return this.#values.has(keyId(key));
  }

  remove(key) {
    const id = keyId(key);
    if (!this.#values.delete(id)) return false;
    this.#keys.splice(this.#bound(id, false), 1);
    return true;
  }

  /** Index span [from, to) of a KeyRange ({ lower, lowerInclusive, upper, upperInclusive }). */
  #span(range) {
    let from = 0;
    let to = this.#keys.length;
    if (range && range.lower !== undefined) from = this.#bound(keyId(range.lower), !range.lowerInclusive);
    if (range && range.upper !== undefined) to = this.#bound(keyId(range.upper), range.upperInclusive === true);
    return [from, Math.max(from, to)];
  }

  count(range) {
    const [from, to] = this.#span(range);
    return to - from;
  }

  /** Up to `limit` entries of `range` as copies, flat [k0, v0, k1, v1, ...], descending when `reverse`. */
  scan(range, reverse, limit) {
    const [from, to] = this.#span(range);
    const n = Math.min(to - from, limit);
    const out = [];
    for (let j = 0; j < n; j++) {
      const id = this.#keys[reverse ? to - 1 - j : from + j];
      out.push(Buffer.from(id, 'latin1'), Buffer.from(this.#values.get(id)));
    }
    return out;
  }
}

module.exports = { SortedMap };
