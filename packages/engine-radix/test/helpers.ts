// Test helpers of the radix package: temporary pool directories, opening a pool with Buffer
// encodings, a seeded PRNG, and a check of the whole database against a sorted model.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, registerEngine, type Database } from '@pmemkv/core';
import plugin from '../src/index';

registerEngine(plugin);

export type BufferDb = Database<Buffer, Buffer>;

/** A fresh directory for pools (under /dev/shm when it exists); remove it with removeDir. */
export function makeDir(): string {
  return fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'pmemkv-radix-'));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export function openRadix(poolPath: string, size = 64 * 1024 * 1024): BufferDb {
  const encodings = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
  return open('radix', { path: poolPath, size, create_if_missing: 1 }, encodings);
}

/** xorshift32: deterministic for a seed. */
export class Rng {
  #x: number;
  constructor(seed: number) {
    this.#x = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.#x;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#x = x >>> 0;
    return this.#x;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

const hex = (b: Buffer) => (b.length > 24 ? `${b.subarray(0, 24).toString('hex')}... (${b.length} bytes)` : b.toString('hex'));

/**
 * Differences between the database and `model` (key hex -> [key, value]): full walks in both
 * directions, countAll, a get of every key, and ranges of each kind of bound at model keys (up
 * to 48 of them), at the bytes just around them and at `probes`. Empty when equal.
 */
export function differences(db: BufferDb, model: Map<string, [Buffer, Buffer]>, probes: Buffer[] = []): string[] {
  const sorted = [...model.values()].sort((a, b) => Buffer.compare(a[0], b[0]));
  const out: string[] = [];
  const walk = [...db.entries()];
  const same = (got: [Buffer, Buffer][], want: [Buffer, Buffer][]) =>
    got.length === want.length && got.every(([k, v], i) => k.equals(want[i]![0]) && v.equals(want[i]![1]));
  if (!same(walk, sorted)) out.push(`forward walk: ${walk.map((e) => hex(e[0])).join(',')} != ${sorted.map((e) => hex(e[0])).join(',')}`);
  const back = [...db.entries({ reverse: true })];
  if (!same(back, [...sorted].reverse())) out.push(`reverse walk: ${back.map((e) => hex(e[0])).join(',')}`);
  if (db.countAll() !== sorted.length) out.push(`countAll ${db.countAll()} != ${sorted.length}`);
  for (const [k, v] of sorted) {
    const got = db.get(k);
    if (got === undefined || !got.equals(v)) out.push(`get ${hex(k)}: ${got === undefined ? 'absent' : hex(got)}`);
  }
  // Up to 48 model keys, evenly spread, as bounds (and the probes).
  const step = Math.max(1, Math.ceil(sorted.length / 48));
  const bounds = [...sorted.filter((_, i) => i % step === 0).map((e) => e[0]), ...probes];
  for (const b of bounds) {
    for (const bound of [b, Buffer.concat([b, Buffer.from([0])]), b.subarray(0, Math.max(0, b.length - 1))]) {
      const cmp = (k: Buffer) => Buffer.compare(k, bound);
      const checks: [string, [Buffer, Buffer][], [Buffer, Buffer][], number][] = [
        ['gt', [...db.entries({ gt: bound })], sorted.filter((e) => cmp(e[0]) > 0), db.countAbove(bound)],
        ['gte', [...db.entries({ gte: bound })], sorted.filter((e) => cmp(e[0]) >= 0), db.countEqualAbove(bound)],
        ['lt reverse', [...db.entries({ lt: bound, reverse: true })], sorted.filter((e) => cmp(e[0]) < 0).reverse(), db.countBelow(bound)],
        ['lte reverse', [...db.entries({ lte: bound, reverse: true })], sorted.filter((e) => cmp(e[0]) <= 0).reverse(), db.countEqualBelow(bound)],
      ];
      for (const [name, got, want, count] of checks) {
        if (!same(got, want)) out.push(`${name} ${hex(bound)}: ${got.map((e) => hex(e[0])).join(',')} != ${want.map((e) => hex(e[0])).join(',')}`);
        if (count !== want.length) out.push(`count ${name} ${hex(bound)}: ${count} != ${want.length}`);
      }
    }
  }
  return out;
}
