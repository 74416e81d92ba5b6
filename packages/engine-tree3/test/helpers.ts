// Test helpers of the tree3 package: temporary pool directories, a seeded PRNG and a sorted
// model of the keys, shared by the tree3-specific tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, registerEngine, type Database } from '@pmemkv/core';
import plugin from '../src/index';

registerEngine(plugin);

export type BufferDb = Database<Buffer, Buffer>;

/** A fresh directory for pools (under /dev/shm when it exists); remove it with removeDir. */
export function makeDir(): string {
  return fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'pmemkv-tree3-'));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export function openTree3(poolPath: string, size = 64 * 1024 * 1024): BufferDb {
  const encodings = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
  return open('tree3', { path: poolPath, size, create_if_missing: 1 }, encodings);
}

/** xorshift128+ over 32-bit halves: deterministic for a seed, fast enough for 10^6 draws. */
export class Rng {
  #a: number;
  #b: number;
  constructor(seed: number) {
    this.#a = seed >>> 0 || 0x9e3779b9;
    this.#b = Math.imul(seed ^ 0x85ebca6b, 0xc2b2ae35) >>> 0 || 0x27d4eb2f;
  }
  /** A uint32. */
  next(): number {
    let s1 = this.#a;
    const s0 = this.#b;
    this.#a = s0;
    s1 ^= s1 << 17;
    s1 ^= s1 >>> 7;
    s1 ^= s0 ^ (s0 >>> 16);
    this.#b = s1 >>> 0;
    return (this.#a + this.#b) >>> 0;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

/** Sorted distinct keys with their values, and the index arithmetic of range queries. */
export class SortedKeys {
  readonly keys: Buffer[];
  readonly values: Buffer[];
  constructor(entries: [Buffer, Buffer][]) {
    entries.sort((x, y) => Buffer.compare(x[0], y[0]));
    this.keys = entries.map((e) => e[0]);
    this.values = entries.map((e) => e[1]);
  }
  get size(): number {
    return this.keys.length;
  }
  /** Index of the first key >= k (inclusive) or > k (exclusive). */
  lowerIndex(k: Buffer, inclusive: boolean): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = Buffer.compare(this.keys[mid]!, k);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
