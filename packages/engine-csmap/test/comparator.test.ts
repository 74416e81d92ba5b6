// Comparators: a pool created with `comparator: 'reverse-bytewise'` keeps that order for every
// range call (counts, get* callbacks, entries/keys/values both ways, limits), stores it, and
// refuses a reopen with another comparator (COMPARATOR_MISMATCH naming both); a reopen
// without the key uses the stored one. An unknown name is INVALID_ARGUMENT before any pool is
// touched.
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import { PmemkvError, type Database } from '@pmemkv/core';
import { openCsmap, usePoolDir } from './helpers';

// Keys chosen so that prefixes, empty keys and high bytes all matter.
const KEYS = ['', 'a', 'aa', 'ab', 'abc', 'b', 'ba', 'c', 'c\u0000', 'd', 'z', '\u00ff'].map((k) => Buffer.from(k, 'latin1'));

/** -1, 0, 1 in reverse-bytewise order. */
const reverseCompare = (a: Buffer, b: Buffer) => Buffer.compare(b, a);
const ordered = [...KEYS].sort(reverseCompare);
const show = (ks: Buffer[]) => ks.map((k) => k.toString('latin1'));

function collect(run: (cb: (k: Buffer) => void) => unknown): string[] {
  const out: Buffer[] = [];
  run((k) => {
    out.push(k);
  });
  return show(out);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof PmemkvError ? err.code : `not a PmemkvError: ${String(err)}`;
  }
  return undefined;
}

describe('comparators', () => {
  const pools = usePoolDir();

  function filled(poolPath: string): Database<Buffer, Buffer> {
    const db = openCsmap(poolPath, { comparator: 'reverse-bytewise' });
    for (const k of [...KEYS].reverse()) db.put(k, Buffer.concat([Buffer.from('v:'), k]));
    return db;
  }

  test('reverse-bytewise orders every range call', () => {
    const db = filled(pools.pool());
    const pivot = Buffer.from('b');
    const lo = Buffer.from('c');  // in reverse order 'c' comes before 'b'
    const hi = Buffer.from('aa');
    const rank = (k: Buffer) => ordered.findIndex((o) => o.equals(k));
    const after = (k: Buffer) => ordered.filter((o) => reverseCompare(o, k) > 0);
    const before = (k: Buffer) => ordered.filter((o) => reverseCompare(o, k) < 0);
    expect(rank(pivot)).toBeGreaterThan(0);

    expect(show([...db.keys()])).toEqual(show(ordered));
    expect(show([...db.keys({ reverse: true })])).toEqual(show([...ordered].reverse()));
    expect(show([...db.keys({ limit: 3 })])).toEqual(show(ordered.slice(0, 3)));
    expect(show([...db.keys({ reverse: true, limit: 2 })])).toEqual(show([...ordered].reverse().slice(0, 2)));
    expect(show([...db.keys({ gt: lo, lte: hi })])).toEqual(show(after(lo).filter((k) => reverseCompare(k, hi) <= 0)));
    expect(show([...db.keys({ gte: lo, lt: hi, reverse: true })])).toEqual(
      show([lo, ...after(lo)].filter((k) => reverseCompare(k, hi) < 0).reverse()),
    );
    expect([...db.values({ lt: pivot })].map((v) => v.toString('latin1'))).toEqual(before(pivot).map((k) => `v:${k.toString('latin1')}`));
    expect([...db.entries({ gte: pivot, limit: 1 })].map(([k]) => k.toString('latin1'))).toEqual([pivot.toString('latin1')]);

    expect(db.countAll()).toBe(KEYS.length);
    expect(db.countAbove(pivot)).toBe(after(pivot).length);
    expect(db.countEqualAbove(pivot)).toBe(after(pivot).length + 1);
    expect(db.countBelow(pivot)).toBe(before(pivot).length);
    expect(db.countEqualBelow(pivot)).toBe(before(pivot).length + 1);
    expect(db.countBetween(lo, hi)).toBe(after(lo).filter((k) => reverseCompare(k, hi) < 0).length);
    expect(db.countBetween(hi, lo)).toBe(0);  // inverted in this order: empty

    expect(collect((cb) => db.getAll(cb))).toEqual(show(ordered));
    expect(collect((cb) => db.getAbove(pivot, cb))).toEqual(show(after(pivot)));
    expect(collect((cb) => db.getEqualAbove(pivot, cb))).toEqual(show([pivot, ...after(pivot)]));
    expect(collect((cb) => db.getBelow(pivot, cb))).toEqual(show(before(pivot)));
    expect(collect((cb) => db.getEqualBelow(pivot, cb))).toEqual(show([...before(pivot), pivot]));
    expect(collect((cb) => db.getBetween(lo, hi, cb))).toEqual(show(after(lo).filter((k) => reverseCompare(k, hi) < 0)));
    db.close();
  });

  test('a reopen rebuilds the order under both comparators, keys tying in their first 16 bytes included', () => {
    // Keys around 16 bytes long that share long prefixes and differ in zero bytes and at the end:
    // the open sorts on a 16-byte prefix and must fall through to the full comparison on ties.
    const base = Buffer.from('0123456789abcdef');
    const keys: Buffer[] = [Buffer.alloc(0), Buffer.alloc(16), Buffer.alloc(17), Buffer.alloc(15)];
    for (let n = 14; n <= 19; n++) {
      for (const tail of [0x00, 0x01, 0x7f, 0xff]) {
        const k = Buffer.alloc(n, 0);
        base.copy(k, 0, 0, Math.min(n, 16));
        k[n - 1] = tail;
        keys.push(k);
        const longer = Buffer.concat([k, Buffer.from([tail ^ 0x55, 0])]);
        keys.push(longer);
      }
    }
    const unique = [...new Map(keys.map((k) => [k.toString('hex'), k])).values()];
    for (const comparator of ['bytewise', 'reverse-bytewise'] as const) {
      const poolPath = pools.pool(`order-${comparator}`);
      const db = openCsmap(poolPath, { comparator });
      for (const [i, k] of [...unique].reverse().entries()) db.put(k, Buffer.from(String(i)));
      db.close();
      const again = openCsmap(poolPath, { comparator });
      const want = [...unique].sort((x, y) => (comparator === 'bytewise' ? Buffer.compare(x, y) : Buffer.compare(y, x)));
      expect([...again.keys()].map((k) => k.toString('hex'))).toEqual(want.map((k) => k.toString('hex')));
      expect([...again.keys({ reverse: true })].map((k) => k.toString('hex'))).toEqual(want.reverse().map((k) => k.toString('hex')));
      again.close();
    }
  });

  test('the comparator is stored: a reopen with another is COMPARATOR_MISMATCH naming both, without one uses it', () => {
    const poolPath = pools.pool();
    filled(poolPath).close();
    let error: unknown;
    try {
      openCsmap(poolPath, { comparator: 'bytewise' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PmemkvError);
    expect((error as PmemkvError).code).toBe('COMPARATOR_MISMATCH');
    expect((error as PmemkvError).status).toBe(12);
    expect((error as PmemkvError).message).toContain("'reverse-bytewise'");
    expect((error as PmemkvError).message).toContain("'bytewise'");

    const db = openCsmap(poolPath);
    expect(show([...db.keys()])).toEqual(show(ordered));
    db.put(Buffer.from('m'), Buffer.from('new'));
    expect(show([...db.keys({ limit: 4 })])).toEqual(show([...ordered, Buffer.from('m')].sort(reverseCompare).slice(0, 4)));
    db.close();
    const same = openCsmap(poolPath, { comparator: 'reverse-bytewise' });
    expect(same.countAll()).toBe(KEYS.length + 1);
    same.close();
  });

  test('a bytewise pool refuses reverse-bytewise; an unknown comparator is INVALID_ARGUMENT and creates nothing', () => {
    const poolPath = pools.pool();
    const db = openCsmap(poolPath);
    db.put(Buffer.from('k'), Buffer.from('v'));
    db.close();
    expect(codeOf(() => openCsmap(poolPath, { comparator: 'reverse-bytewise' }))).toBe('COMPARATOR_MISMATCH');
    const other = pools.pool('other');
    expect(codeOf(() => openCsmap(other, { comparator: 'natural' }))).toMatch(/INVALID_ARGUMENT|CONFIG_/);
    expect(fs.existsSync(other)).toBe(false);
  });
});
