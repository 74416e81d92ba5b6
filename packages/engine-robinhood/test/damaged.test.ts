// A pool file is input too: a robinhood pool whose structure cannot be trusted is refused on
// open with UNKNOWN_ERROR ("the pool at P is damaged (...)"), never a signal, a wild read or a
// hang. The pools are damaged on purpose by rewriting bytes of a closed pool file (pool offsets
// are file offsets). Tables never wrap around, so no probe sequence can loop; what a damaged
// table can hold instead is an overfull one, a probe past the bound, or entries out of order.
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import { errorOf, layout, locateRoot, openRobinhood, usePoolDir, word } from './helpers';

/** A closed 1-shard pool holding 10 keys; returns its path and the offset of its table. */
function makePool(poolPath: string): { table: number; log2: number } {
  const db = openRobinhood(poolPath, { shards_number: 1 }, 16 * 1024 * 1024);
  for (let i = 1; i <= 10; i++) db.put(word(i), word(i * 10));
  db.close();
  const file = fs.readFileSync(poolPath);
  const { directory } = locateRoot(file);
  return { table: Number(file.readBigUInt64LE(directory)), log2: Number(file.readBigUInt64LE(directory + 8)) };
}

/** Rewrites the pool file with `patch` applied to its bytes. */
function patchFile(poolPath: string, patch: (file: Buffer) => void): void {
  const file = fs.readFileSync(poolPath);
  patch(file);
  fs.writeFileSync(poolPath, file);
}

function expectDamaged(poolPath: string, what: RegExp): void {
  const err = errorOf(() => openRobinhood(poolPath));
  expect({ code: err?.code, message: err?.message }).toEqual({ code: 'UNKNOWN_ERROR', message: expect.stringMatching(/is damaged/) });
  expect(err?.message).toMatch(what);
  expect(err?.message).toMatch(/pmempool check/);
}

describe('damaged pools', () => {
  const pools = usePoolDir();

  test('the pool as written opens and reads back (the baseline of the damage below)', () => {
    const poolPath = pools.pool();
    const { table, log2 } = makePool(poolPath);
    const file = fs.readFileSync(poolPath);
    expect(file.subarray(table, table + 8)).toEqual(layout.tableTag);
    expect(log2).toBeGreaterThanOrEqual(4);
    const db = openRobinhood(poolPath);
    for (let i = 1; i <= 10; i++) expect(db.get(word(i))).toEqual(word(i * 10));
    db.close();
  });

  test('a shard table offset outside the pool is refused', () => {
    const poolPath = pools.pool();
    makePool(poolPath);
    const size = fs.statSync(poolPath).size;
    patchFile(poolPath, (file) => file.writeBigUInt64LE(BigInt(size + 4096), locateRoot(file).directory));
    expectDamaged(poolPath, /shard 0: table offset 0x[0-9a-f]+ is outside the pool/);
  });

  test('a table offset that points at something else than its table is refused', () => {
    const poolPath = pools.pool();
    makePool(poolPath);
    patchFile(poolPath, (file) => {
      const { root, directory } = locateRoot(file);
      file.writeBigUInt64LE(BigInt(root), directory);
    });
    expectDamaged(poolPath, /does not hold this shard's table/);
  });

  test('a shard directory outside the pool is refused', () => {
    const poolPath = pools.pool();
    makePool(poolPath);
    patchFile(poolPath, (file) => file.writeBigUInt64LE(BigInt(file.length) * 2n, locateRoot(file).root + layout.rootDirectory));
    expectDamaged(poolPath, /directory at offset 0x[0-9a-f]+ is outside the pool/);
  });

  test('an overfull table (every slot in use, one long probe sequence) is refused, not probed forever', () => {
    const poolPath = pools.pool();
    const { table, log2 } = makePool(poolPath);
    const slots = 2 ** log2 + Math.min(2 ** log2, layout.maxDisplacement);
    patchFile(poolPath, (file) => {
      // Hashes 1, 2, 3, ...: all of them at home slot 0 of shard 0, in order, without gaps.
      for (let i = 0; i < slots; i++) file.writeBigUInt64LE(BigInt(i + 1), table + layout.tableHeader + i * layout.slotSize);
    });
    expectDamaged(poolPath, /overfull/);
  });

  test('a probe sequence longer than the bound is refused', () => {
    const poolPath = pools.pool();
    const db = openRobinhood(poolPath, { shards_number: 1 }, 16 * 1024 * 1024);
    for (let i = 1; i <= 200; i++) db.put(word(i), word(i));  // a table of at least 2^9 slots
    db.close();
    const file = fs.readFileSync(poolPath);
    const { directory } = locateRoot(file);
    const table = Number(file.readBigUInt64LE(directory));
    patchFile(poolPath, (f) => {
      for (let i = 0; i < layout.maxDisplacement + 2; i++) f.writeBigUInt64LE(BigInt(i + 1), table + layout.tableHeader + i * layout.slotSize);
    });
    expectDamaged(poolPath, /probe sequence of \d+ slots, longer than 65/);
  });

  test('entries out of hash order, an entry of another shard, and two duplicated entries are refused', () => {
    // With 2 shards, shard 0 owns the hashes below 2^63 and shard 1 the others.
    const cases: [string, (file: Buffer, slot0: number, base: bigint) => void, RegExp][] = [
      ['order', (f, s0, base) => {
        f.writeBigUInt64LE(base + 5n, s0);
        f.writeBigUInt64LE(base + 3n, s0 + layout.slotSize);
      }, /out of hash order/],
      ['shard', (f, s0, base) => f.writeBigUInt64LE(base === 0n ? 0xffffffffffffff00n : 5n, s0), /an entry of shard [01]/],
      ['pairs', (f, s0, base) => {
        for (const i of [0, 1, 3, 4]) f.writeBigUInt64LE(base + BigInt(i < 2 ? 7 : 9), s0 + i * layout.slotSize);
      }, /2 duplicated entries/],
    ];
    for (const [name, damage, what] of cases) {
      const poolPath = pools.pool(name);
      const db = openRobinhood(poolPath, { shards_number: 2 }, 16 * 1024 * 1024);
      db.put(word(1), word(1));
      db.close();
      patchFile(poolPath, (file) => {
        const { directory } = locateRoot(file);
        // The shard that holds the key has a table; the other has none yet.
        const shard = file.readBigUInt64LE(directory) !== 0n ? 0 : 1;
        const table = Number(file.readBigUInt64LE(directory + shard * layout.recordSize));
        for (let i = 0; i < 16; i++) file.writeBigUInt64LE(0n, table + layout.tableHeader + i * layout.slotSize);
        damage(file, table + layout.tableHeader, shard === 0 ? 0n : 1n << 63n);
      });
      expectDamaged(poolPath, what);
    }
  });
});
