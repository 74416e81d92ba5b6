/**
 * Damaged pools: copies of a real, closed pool of the engine, each changed in one way. Three
 * kinds (see table.ts for the expectations):
 *   - libpmemobj structures it checks itself (pool header, descriptor): flips there, and
 *     truncations, must give the damaged-pool error;
 *   - libpmemobj structures it does not check on open (lanes, heap, root offset): `internal`;
 *   - the engine's own persistent structures (root header for every engine; cmap's buckets,
 *     segments and entries; tree3's leaves, slots and pairs), pointed outside the pool, into
 *     the pool header, at each other or in loops: the damaged-pool error, since an engine
 *     must check every persistent offset and size before following it and bound every walk.
 */
import { copyFileSync, truncateSync } from 'node:fs';
import { Rng } from '../random';
import {
  DESCRIPTOR_CHECKSUM_AT,
  HEAP_OFFSET_AT,
  LANES_OFFSET_AT,
  NLANES_AT,
  POOL_HEADER_SIZE,
  PoolBytes,
  ROOT_OFFSET_AT,
  ROOT_SIZE_AT,
} from './pool-bytes';
import type { Expect } from './table';

export interface Damage {
  readonly label: string;
  readonly expect: Expect;
  /** Changes the copy; returns false when the structure to damage was not found (the case is then reported as not built). */
  readonly apply: (pool: PoolBytes, path: string) => boolean;
}

const DAMAGED: Expect = { kind: 'damaged' };
const INTERNAL: Expect = { kind: 'internal' };
const FAR = 2 ** 40;

const flip = (label: string, offset: number, expect: Expect): Damage => ({
  label: `${label}: bits of byte ${offset} inverted`,
  expect,
  apply: (p) => {
    p.flip(offset);
    return true;
  },
});

function generic(seed: number, size: number): Damage[] {
  const out: Damage[] = [];
  // The pool header's checksum covers bytes [0, 2048) and its last 8 bytes hold it; [2048, 4024)
  // is unused and not checksummed, [4024, 4088) is the shutdown state with a checksum of its own.
  for (const off of [8, 12, 16, 24, 40, 56, 72, 104, 120, 128, 136, 512, 1024, 2047, 4088]) out.push(flip('pool header', off, DAMAGED));
  for (const off of [2048, 3000, 4000]) out.push(flip('pool header (unused, not checksummed)', off, INTERNAL));
  for (const off of [4024, 4060]) out.push(flip('pool header (shutdown state)', off, INTERNAL));
  out.push(flip('pool descriptor (layout name)', POOL_HEADER_SIZE + 3, DAMAGED));
  for (const off of [LANES_OFFSET_AT, NLANES_AT, HEAP_OFFSET_AT, 5200, 6000, DESCRIPTOR_CHECKSUM_AT]) out.push(flip('pool descriptor', off, DAMAGED));
  out.push(flip('root offset', ROOT_OFFSET_AT + 1, INTERNAL));
  out.push({ label: 'root offset pointed past the end of the pool', expect: INTERNAL, apply: (p) => (p.setU64(ROOT_OFFSET_AT, FAR), true) });
  out.push({ label: 'root size set to 8 bytes', expect: DAMAGED, apply: (p) => (p.setU64(ROOT_SIZE_AT, 8), true) });
  for (const off of [0, 64, 3072 * 5 + 100, 3072 * 1023 + 8, 1 << 20]) {
    out.push({ label: `lane bytes at lanes + ${off} inverted`, expect: INTERNAL, apply: (p) => (p.flip(p.u64(LANES_OFFSET_AT) + off), true) });
  }
  for (const off of [0, 16, 1024, 4096, 4096 + 64]) {
    out.push({ label: `heap bytes at heap + ${off} inverted`, expect: INTERNAL, apply: (p) => (p.flip(p.u64(HEAP_OFFSET_AT) + off), true) });
  }
  const rng = new Rng(seed);
  for (let i = 0; i < 14; i++) {
    const at = rng.next();
    out.push({
      label: `heap byte at ${(at * 100).toFixed(1)}% of the heap inverted`,
      expect: INTERNAL,
      apply: (p) => {
        const heap = p.u64(HEAP_OFFSET_AT);
        p.flip(heap + Math.floor(at * (p.size - heap)));
        return true;
      },
    });
  }
  for (const length of [size - 1, size - 4096, 6 * 1024 * 1024, 4 * 1024 * 1024, 1024 * 1024, 8192, 4096]) {
    out.push({ label: `truncated to ${length} bytes`, expect: DAMAGED, apply: (p, path) => (p.close(), truncateSync(path, length), true) });
  }
  const root = (p: PoolBytes) => p.u64(ROOT_OFFSET_AT);
  // The layout name says the pool is this engine's: another magic in its root is damage.
  out.push({ label: 'root magic number replaced', expect: DAMAGED, apply: (p) => (p.write(root(p), Buffer.from('NOTMAGIC')), true) });
  out.push({ label: 'root layout version set to 99', expect: { kind: 'error', codes: ['INVALID_ARGUMENT'], contains: ['version'] }, apply: (p) => (p.setU64(root(p) + 8, 99), true) });
  out.push({ label: 'root magic number zeroed (the rest kept)', expect: DAMAGED, apply: (p) => (p.setU64(root(p), 0), true) });
  return out;
}

/** cmap (engine-cmap/src/layout.h): Root { magic, version, bucket_count, reserved[5], segments[48] (PMEMoid) }; Entry { next (PMEMoid), hash, key_size u32, value_size u32 }. */
function cmap(): Damage[] {
  const root = (p: PoolBytes) => p.u64(ROOT_OFFSET_AT);
  const segment0 = (p: PoolBytes) => p.u64(root(p) + 64 + 8);
  /** Offsets of the bucket head links of segment 0 that are not null. */
  const heads = (p: PoolBytes): number[] => {
    const seg = segment0(p);
    const out: number[] = [];
    const table = p.read(seg, 1024 * 16);
    for (let b = 0; b < 1024; b++) if (table.readBigUInt64LE(b * 16 + 8) !== 0n) out.push(seg + b * 16);
    return out;
  };
  const firstEntry = (p: PoolBytes) => p.u64(heads(p)[0]! + 8);
  /** The link (16 bytes: pool uuid, offset) of the second entry of some chain of two or more. */
  const chainOfTwo = (p: PoolBytes): [number, number] | undefined => {
    for (const h of heads(p)) {
      const first = p.u64(h + 8);
      const second = p.u64(first + 8);
      if (second !== 0) return [first, second];
    }
    return undefined;
  };
  const d = (label: string, apply: (p: PoolBytes) => boolean): Damage => ({ label: `cmap: ${label}`, expect: DAMAGED, apply });
  return [
    d('bucket_count set to 2^62', (p) => (p.setU64(root(p) + 16, 2n ** 62n), true)),
    d('bucket_count set to 5 (below the base 1024)', (p) => (p.setU64(root(p) + 16, 5), true)),
    d('segment 0 pointed past the end of the pool', (p) => (p.setU64(root(p) + 72, FAR), true)),
    d('segment 0 pointed at the last 64 bytes of the pool', (p) => (p.setU64(root(p) + 72, p.size - 64), true)),
    d('segment 0 pointed into the pool header', (p) => (p.setU64(root(p) + 72, 64), true)),
    d('a bucket head pointed past the end of the pool', (p) => (p.setU64(heads(p)[0]! + 8, FAR), true)),
    d('a bucket head pointed into the pool header', (p) => (p.setU64(heads(p)[0]! + 8, 8), true)),
    d('a bucket head pointed at the last 16 bytes of the pool', (p) => (p.setU64(heads(p)[0]! + 8, p.size - 16), true)),
    d('an entry key_size set to 2^32 - 1', (p) => (p.setU32(firstEntry(p) + 24, 0xffffffff), true)),
    d('an entry value_size set to 2^32 - 1', (p) => (p.setU32(firstEntry(p) + 28, 0xffffffff), true)),
    d('an entry key_size set past its allocation (1 MiB)', (p) => (p.setU32(firstEntry(p) + 24, 1 << 20), true)),
    d('an entry next pointed at itself (a chain that loops)', (p) => {
      const e = firstEntry(p);
      p.write(e, p.read(heads(p)[0]!, 16));
      return true;
    }),
    d('the second entry of a chain pointed back at the first (a loop of two)', (p) => {
      const pair = chainOfTwo(p);
      if (!pair) return false;
      const [first, second] = pair;
      p.write(second, p.read(first, 8)); // pool uuid of first.next, a valid link
      p.setU64(second + 8, first);
      return true;
    }),
    d('an entry next pointed past the end of the pool', (p) => (p.setU64(firstEntry(p) + 8, FAR), true)),
  ];
}

/** tree3 (engine-tree3/src/layout.h): Root { magic, version, head, ... }; Leaf { next u64, hashes u8[48], slots u64[48] }; KVSlot { key_size u32, value_size u32, ... }. */
function tree3(): Damage[] {
  const root = (p: PoolBytes) => p.u64(ROOT_OFFSET_AT);
  const head = (p: PoolBytes) => p.u64(root(p) + 16);
  /** Indexes of live slots of a leaf. */
  const live = (p: PoolBytes, leaf: number): number[] => {
    const hashes = p.read(leaf + 8, 48);
    return [...hashes.keys()].filter((i) => hashes[i] !== 0);
  };
  const slotAt = (leaf: number, i: number) => leaf + 56 + 8 * i;
  const d = (label: string, apply: (p: PoolBytes) => boolean): Damage => ({ label: `tree3: ${label}`, expect: DAMAGED, apply });
  return [
    d('root head pointed past the end of the pool', (p) => (p.setU64(root(p) + 16, FAR), true)),
    d('root head pointed into the pool header', (p) => (p.setU64(root(p) + 16, 8), true)),
    d('root head pointed at the last 8 bytes of the pool', (p) => (p.setU64(root(p) + 16, p.size - 8), true)),
    d('a leaf next pointed at itself (a list that loops)', (p) => (p.setU64(head(p), head(p)), true)),
    d('the second leaf pointed back at the first (a loop of two)', (p) => {
      const second = p.u64(head(p));
      if (second === 0) return false;
      p.setU64(second, head(p));
      return true;
    }),
    d('a leaf next pointed past the end of the pool', (p) => (p.setU64(head(p), FAR), true)),
    d('a live slot pointed into the pool header', (p) => (p.setU64(slotAt(head(p), live(p, head(p))[0]!), 16), true)),
    d('a live slot pointed past the end of the pool', (p) => (p.setU64(slotAt(head(p), live(p, head(p))[0]!), FAR), true)),
    d('a live slot pointed at the last 4 bytes of the pool', (p) => (p.setU64(slotAt(head(p), live(p, head(p))[0]!), p.size - 4), true)),
    d('two slots sharing one pair', (p) => {
      const leaf = head(p);
      const slots = live(p, leaf);
      if (slots.length < 2) return false;
      const [a, b] = slots as [number, number];
      p.setU64(slotAt(leaf, b), p.u64(slotAt(leaf, a)));
      p.setU8(leaf + 8 + b, p.u8(leaf + 8 + a));
      return true;
    }),
    d('a slot marked live (fingerprint set) with a null pair', (p) => {
      const leaf = head(p);
      const used = new Set(live(p, leaf));
      const free = [...Array(48).keys()].find((i) => !used.has(i));
      if (free === undefined) {
        p.setU64(slotAt(leaf, [...used][0]!), 0);
        return true;
      }
      p.setU8(leaf + 8 + free, 0x5a);
      return true;
    }),
    d('a pair key_size set to 2^32 - 1', (p) => (p.setU32(p.u64(slotAt(head(p), live(p, head(p))[0]!)), 0xffffffff), true)),
    d('a pair value_size set to 2^32 - 1', (p) => (p.setU32(p.u64(slotAt(head(p), live(p, head(p))[0]!)) + 4, 0xffffffff), true)),
  ];
}

const ENGINE_DAMAGE: Readonly<Record<string, () => Damage[]>> = { cmap, tree3 };

export function damagesFor(engine: string, seed: number, size: number): Damage[] {
  return [...generic(seed, size), ...(ENGINE_DAMAGE[engine]?.() ?? [])];
}

/** Copies `base` to `path` and applies `damage`; false when the damage does not apply to this pool. */
export function makeDamaged(base: string, path: string, size: number, damage: Damage): boolean {
  copyFileSync(base, path);
  const p = new PoolBytes(path, size);
  try {
    return damage.apply(p, path);
  } finally {
    p.close();
  }
}
