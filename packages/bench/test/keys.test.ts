/** Key and value generation: fixed-size ordered keys, absent "missing" keys, reproducible orders. */
import { describe, expect, test } from '@jest/globals';
import { KeyFormat, permutation, Prng, randomIndices, ValueSource } from '../src/keys';

describe('KeyFormat', () => {
  test('writes zero-padded decimal keys whose byte order is index order', () => {
    const f = new KeyFormat(8);
    expect(f.make(0).toString('latin1')).toBe('00000000');
    expect(f.make(12345).toString('latin1')).toBe('00012345');
    const keys = [0, 9, 10, 99, 100, 12345678].map((i) => f.make(i));
    for (let i = 1; i < keys.length; i++) expect(Buffer.compare(keys[i - 1]!, keys[i]!)).toBe(-1);
  });

  test('a missing key differs from every present key of the same length', () => {
    const f = new KeyFormat(6);
    const missing = f.writeMissing(42, f.scratch());
    expect(missing.toString('latin1')).toBe('00004.');
    expect(missing.length).toBe(6);
    expect(/^\d+$/.test(missing.toString('latin1'))).toBe(false);
  });
});

describe('seeded orders', () => {
  test('the same seed gives the same sequence, another seed another', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const sa = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(sa);
  });

  test('permutation holds every index exactly once and is shuffled', () => {
    const p = permutation(1000, 3);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    let fixed = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === i) fixed++;
    expect(fixed).toBeLessThan(20);
    expect(permutation(1000, 3)).toEqual(p);
  });

  test('random indices stay in range and cover it', () => {
    const r = randomIndices(10000, 100, 5);
    expect(Math.max(...r)).toBe(99);
    expect(Math.min(...r)).toBe(0);
  });
});

describe('ValueSource', () => {
  test('values have the requested size and are reproducible per seed', () => {
    const v = new ValueSource(100, 11);
    expect(v.at(0).length).toBe(100);
    expect(v.at(1025)).toEqual(v.at(1));
    expect(new ValueSource(100, 11).at(5)).toEqual(v.at(5));
    expect(v.at(0).equals(v.at(1))).toBe(false);
    for (const byte of v.at(3)) expect(byte >= 0x20 && byte < 0x7f).toBe(true);
  });
});
