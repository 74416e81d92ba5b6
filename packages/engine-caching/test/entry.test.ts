// The local copy format (src/entry.ts): header layout, expiry arithmetic, and values that are
// not local copies reading as expired.
import { describe, expect, test } from '@jest/globals';
import { encodeEntry, entryValue, HEADER_BYTES, isFresh } from '../src/entry';

describe('local copy format', () => {
  const now = Date.UTC(2026, 0, 1);

  test('the header is the tag 0xC1, the 48-bit little-endian time and a zero byte, then the value', () => {
    const stored = encodeEntry(Buffer.from([1, 2, 0, 3]), now);
    expect(HEADER_BYTES).toBe(8);
    expect(stored[0]).toBe(0xc1);
    expect(stored.readUIntLE(1, 6)).toBe(now);
    expect(stored[7]).toBe(0);
    expect([...entryValue(stored)]).toEqual([1, 2, 0, 3]);
    expect(entryValue(encodeEntry('é', now)).toString('utf8')).toBe('é');
    expect(entryValue(encodeEntry(Buffer.alloc(0), now)).length).toBe(0);
  });

  test('a copy is fresh for ttl milliseconds after it was stored; ttl 0 is forever', () => {
    const stored = encodeEntry('v', now);
    expect(isFresh(stored, now, 1000)).toBe(true);
    expect(isFresh(stored, now + 999, 1000)).toBe(true);
    expect(isFresh(stored, now + 1000, 1000)).toBe(false);
    expect(isFresh(stored, now + 10 ** 12, 0)).toBe(true);
  });

  test('a copy stored more than a minute in the future (the clock went back) is expired under a ttl', () => {
    expect(isFresh(encodeEntry('v', now + 59_000), now, 1000)).toBe(true);
    expect(isFresh(encodeEntry('v', now + 61_000), now, 1000)).toBe(false);
  });

  test('values that are not local copies are never fresh', () => {
    for (const foreign of [Buffer.alloc(0), Buffer.from('short'), Buffer.from('plain value, no header'), Buffer.from([0xc1, 0, 0, 0, 0, 0, 0, 1, 9])]) {
      expect(isFresh(foreign, now, 0)).toBe(false);
      expect(isFresh(foreign, now, 1000)).toBe(false);
    }
  });
});
