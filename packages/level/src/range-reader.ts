/**
 * RangeReader: the position of one abstract-level iterator in a key range, read from a pmemkv
 * database in bounded chunks.
 *
 * No engine cursor is held between calls: entries come from core's iteration, which asks the
 * engine for at most 16, then 64, 256 and 1024 entries per call and resumes after the last key
 * it handed out (an exclusive bound), so an iterator may live across any number of async gaps
 * and concurrent writes. It is not a snapshot: a chunk is read at one moment, and a key put or
 * removed after the chunk holding its position was read is seen or missed accordingly; a key
 * present throughout is seen exactly once, in order.
 *
 * `seek(target)` moves to the first key >= target (<= target in reverse) within the range of
 * the iterator's options, forwards or backwards, and drops the chunk read so far.
 *
 * Thread-safety: as the database it reads, it belongs to the JS thread that opened it.
 */
import type { Database, IterateOptions } from '@pmemkv/core';
import { levelError } from './errors';

/** Keys and values as the private API receives and returns them (formats buffer, view, utf8). */
export type Encoded = string | Buffer | Uint8Array;

interface Bound {
  readonly key: Buffer;
  readonly inclusive: boolean;
}

/** Bytes of an encoded key, without copying a Buffer or a view. */
export function bytesOf(key: Encoded): Buffer {
  if (typeof key === 'string') return Buffer.from(key, 'utf8');
  if (Buffer.isBuffer(key)) return key;
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

function given(value: unknown): value is Encoded {
  return value !== undefined && value !== null;
}

/** The lower or upper bound of abstract-level range options: gte wins over gt, lte over lt. */
function bound(options: Readonly<Record<string, unknown>>, inclusive: string, exclusive: string): Bound | undefined {
  if (given(options[inclusive])) return { key: bytesOf(options[inclusive]), inclusive: true };
  if (given(options[exclusive])) return { key: bytesOf(options[exclusive]), inclusive: false };
  return undefined;
}

/** The tighter of two lower bounds (`sign` 1) or upper bounds (`sign` -1). */
function tighter(a: Bound | undefined, b: Bound, sign: 1 | -1): Bound {
  if (a === undefined) return b;
  const c = Buffer.compare(a.key, b.key) * sign;
  if (c !== 0) return c > 0 ? a : b;
  return a.inclusive ? b : a;
}

/** What a reader needs of the iterator that owns it: how many entries may still be handed out. */
export interface Budget {
  readonly count: number;
  readonly limit: number;
}

export class RangeReader {
  readonly #db: Database<Buffer, Buffer>;
  readonly #reverse: boolean;
  readonly #budget: Budget;
  /** The range of the iterator's options; a seek target narrows it, never widens it. */
  readonly #rangeLower: Bound | undefined;
  readonly #rangeUpper: Bound | undefined;
  /** Where the next walk starts: the range, narrowed by the last seek. */
  #lower: Bound | undefined;
  #upper: Bound | undefined;
  #source: Iterator<[Buffer, Buffer]> | undefined;

  /** `options` are the range options of the private API (gt, gte, lt, lte, reverse), encoded. */
  constructor(db: Database<Buffer, Buffer>, options: Readonly<Record<string, unknown>>, budget: Budget) {
    this.#db = db;
    this.#reverse = options.reverse === true;
    this.#budget = budget;
    this.#rangeLower = this.#lower = bound(options, 'gte', 'gt');
    this.#rangeUpper = this.#upper = bound(options, 'lte', 'lt');
  }

  /** The next entry, or `undefined` at the end of the range. */
  next(): [Buffer, Buffer] | undefined {
    try {
      const step = this.#open().next();
      return step.done === true ? undefined : step.value;
    } catch (err) {
      throw levelError(err, 'read');
    }
  }

  /** Up to `size` entries (fewer only at the end of the range), each as `map` makes it. */
  take<T>(size: number, map: (entry: [Buffer, Buffer]) => T): T[] {
    const out: T[] = [];
    try {
      const source = this.#open();
      while (out.length < size) {
        const step = source.next();
        if (step.done === true) break;
        out.push(map(step.value));
      }
    } catch (err) {
      throw levelError(err, 'read');
    }
    return out;
  }

  seek(target: Encoded): void {
    const at: Bound = { key: bytesOf(target), inclusive: true };
    if (this.#reverse) this.#upper = tighter(this.#rangeUpper, at, -1);
    else this.#lower = tighter(this.#rangeLower, at, 1);
    this.#source = undefined;
  }

  close(): void {
    this.#source = undefined;
  }

  /** The walk from the current position, started at the first read after construction or seek. */
  #open(): Iterator<[Buffer, Buffer]> {
    if (this.#source !== undefined) return this.#source;
    const range: IterateOptions = { reverse: this.#reverse };
    const { count, limit } = this.#budget;
    if (limit !== Infinity) range.limit = Math.max(0, limit - count);
    const lower = this.#lower;
    const upper = this.#upper;
    if (lower !== undefined) {
      if (lower.inclusive) range.gte = lower.key;
      else range.gt = lower.key;
    }
    if (upper !== undefined) {
      if (upper.inclusive) range.lte = upper.key;
      else range.lt = upper.key;
    }
    this.#source = this.#db.entries(range);
    return this.#source;
  }
}

/** Turns stored bytes into the private API's output format. */
export function decoderFor(format: unknown): (bytes: Buffer) => Encoded {
  return format === 'utf8' ? utf8 : same;
}

const utf8 = (bytes: Buffer): string => bytes.toString('utf8');
const same = (bytes: Buffer): Buffer => bytes;
