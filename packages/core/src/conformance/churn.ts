/**
 * Mixed-size churn (persistent engines whose values may have any size): 100,000 operations
 * (scaled by `scale`) on a 64 MiB pool (the suite's config with `size` overridden) over 4,096
 * keys of 16 bytes: puts of values from 16 B to 64 KiB (half of them drawn log-uniformly, so
 * every size class is busy, half uniformly, so most bytes are in large values), overwrites
 * with another size, and removes, with the live key+value bytes kept at or below half the
 * pool. No operation may fail (in particular never OUT_OF_MEMORY: a pool half full of data
 * must not be full), and at the end, and again after a reopen, every live key reads back its
 * last value and countAll matches.
 *
 * This is what a storage engine's allocator must survive: libpmemobj's default allocation
 * classes reserve a run of up to 4 MiB per size class in use, so mixed sizes fill a pool that
 * is mostly empty; engines built on @pmemkv/native-pmemobj pass Pool::AllocFlags(n) to their
 * allocations to use the SDK's classes instead.
 */
import { describe, expect } from '@jest/globals';
import { PmemkvError, type Database } from '../index';
import { Random } from './random';
import type { Suite } from './suite';

const MiB = 1024 * 1024;
const POOL_SIZE = 64 * MiB;
const KEYS = 4096;
const KEY_BYTES = 16;
const MIN_VALUE = 16;
const MAX_VALUE = 64 * 1024;

/** The value of operation `seq` with `size` bytes: its sequence number, then bytes from `noise`. */
function valueOf(noise: Buffer, seq: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  const off = (seq * 7919) % (noise.length - size);
  noise.copy(out, 0, off, off + size);
  if (size >= 4) out.writeUInt32LE(seq >>> 0, 0);
  return out;
}

export function churn(s: Suite): void {
  if (s.shape.fixed !== undefined) return;  // every value has one size: nothing to mix
  const ops = s.n(100_000);

  describe('mixed-size churn', () => {
    s.usePool();

    s.test(
      `${ops} puts, overwrites and removes of 16 B to 64 KiB values on a 64 MiB pool, at most half full: never OUT_OF_MEMORY, every value intact`,
      (rng) => {
        const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
        const config = { ...s.pool.config(), size: POOL_SIZE };
        let db: Database<Buffer, Buffer> = s.pool.open(config, buffers);
        const noise = new Random(rng.uint32()).bytes(MAX_VALUE + 4096);
        const keyOf = (id: number) => s.shape.keyBytes(Buffer.from(`${id.toString(36).padStart(6, '0')}-churn-key`.slice(0, KEY_BYTES)));
        const keys = Array.from({ length: KEYS }, (_, id) => keyOf(id));
        const randomSize = () =>
          rng.chance(0.5)
            ? Math.floor(MIN_VALUE * (MAX_VALUE / MIN_VALUE) ** rng.next())
            : MIN_VALUE + rng.int(MAX_VALUE - MIN_VALUE + 1);
        const limit = POOL_SIZE / 2;
        // Model: the sequence number and size of each live key's last value (0 size: absent).
        const seqOf = new Array<number>(KEYS).fill(-1);
        const sizeOf = new Array<number>(KEYS).fill(0);
        let live = 0;
        let liveKeys = 0;
        let done = 0;
        let peak = 0;

        const fail = (what: string, err: unknown): never => {
          const e = err instanceof PmemkvError ? `${err.code}: ${err.message}` : String(err);
          throw new Error(
            `${what} failed at operation ${done} of ${ops} with ${live} bytes live in ${liveKeys} keys ` +
              `(${((100 * live) / POOL_SIZE).toFixed(1)} % of the ${POOL_SIZE / MiB} MiB pool; peak ${((100 * peak) / POOL_SIZE).toFixed(1)} %): ${e}`,
          );
        };
        const remove = (id: number) => {
          try {
            expect(db.remove(keys[id]!)).toBe(true);
          } catch (err) {
            fail(`remove of key ${id}`, err);
          }
          live -= KEY_BYTES + sizeOf[id]!;
          liveKeys--;
          sizeOf[id] = 0;
          seqOf[id] = -1;
          done++;
        };

        while (done < ops) {
          const id = rng.int(KEYS);
          const present = seqOf[id]! >= 0;
          if (present && rng.chance(0.3)) {
            remove(id);
            continue;
          }
          const size = randomSize();
          const old = present ? KEY_BYTES + sizeOf[id]! : 0;
          // Keep live data at or below half the pool: remove other keys first.
          while (live - old + KEY_BYTES + size > limit && done < ops) {
            const victim = rng.int(KEYS);
            if (victim !== id && seqOf[victim]! >= 0) remove(victim);
          }
          const seq = done;
          try {
            db.put(keys[id]!, valueOf(noise, seq, size));
          } catch (err) {
            fail(`put of ${size} B to key ${id}`, err);
          }
          live += KEY_BYTES + size - old;
          if (!present) liveKeys++;
          peak = Math.max(peak, live);
          seqOf[id] = seq;
          sizeOf[id] = size;
          done++;
        }

        const verify = (when: string) => {
          const wrong: string[] = [];
          for (let id = 0; id < KEYS; id++) {
            const got = db.get(keys[id]!);
            if (seqOf[id]! < 0) {
              if (got !== undefined) wrong.push(`key ${id} should be absent but holds ${got.length} B`);
            } else if (got === undefined || !got.equals(valueOf(noise, seqOf[id]!, sizeOf[id]!))) {
              wrong.push(`key ${id} should hold the ${sizeOf[id]} B of operation ${seqOf[id]}, found ${got === undefined ? 'nothing' : `${got.length} B`}`);
            }
          }
          expect({ when, wrong: wrong.slice(0, 10), count: db.countAll() }).toEqual({ when, wrong: [], count: liveKeys });
        };
        verify('after the churn');
        db.close();
        db = s.pool.open(s.pool.reopenConfig(), buffers);
        verify('after a reopen');
        db.close();
      },
      180_000,
    );
  });
}
