/**
 * The iterators of PmemkvLevel (entries, keys, values): thin shells over a RangeReader, which
 * holds the position and reads the engine in chunks (see range-reader.ts for what an iterator
 * sees of concurrent writes). abstract-level checks arguments, limits, busy and closed states
 * and decodes; these only read and format.
 *
 * Every method completes its engine work synchronously (pmemkv reads take microseconds) and
 * returns a settled promise; nothing stays open between calls, so `close()` has nothing to wait
 * for.
 */
import { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } from 'abstract-level';
import type { Database } from '@pmemkv/core';
import { decoderFor, RangeReader, type Encoded } from './range-reader';

type Options = Readonly<Record<string, unknown>>;
type AnyDb = any; // the owning PmemkvLevel, typed loosely as abstract-level's own classes are
type Entry = [Encoded | undefined, Encoded | undefined];

export class PmemkvIterator extends AbstractIterator<AnyDb, Encoded, Encoded> {
  readonly #reader: RangeReader;
  readonly #key: ((b: Buffer) => Encoded) | null;
  readonly #value: ((b: Buffer) => Encoded) | null;

  constructor(db: AnyDb, store: Database<Buffer, Buffer>, options: Options) {
    super(db, options as never);
    this.#reader = new RangeReader(store, options, this);
    this.#key = options.keys === false ? null : decoderFor(options.keyEncoding);
    this.#value = options.values === false ? null : decoderFor(options.valueEncoding);
  }

  /** The pair as the private API returns it, made in place (each pair from core is fresh). */
  readonly #entry = (kv: [Buffer, Buffer]): Entry => {
    const entry = kv as unknown as Entry;
    entry[0] = this.#key === null ? undefined : this.#key(kv[0]);
    entry[1] = this.#value === null ? undefined : this.#value(kv[1]);
    return entry;
  };

  async _next(): Promise<Entry | undefined> {
    const kv = this.#reader.next();
    return kv === undefined ? undefined : this.#entry(kv);
  }

  async _nextv(size: number): Promise<Entry[]> {
    return this.#reader.take(size, this.#entry);
  }

  async _all(): Promise<Entry[]> {
    return this.#reader.take(this.limit - this.count, this.#entry);
  }

  _seek(target: Encoded): void {
    this.#reader.seek(target);
  }

  async _close(): Promise<void> {
    this.#reader.close();
  }
}

export class PmemkvKeyIterator extends AbstractKeyIterator<AnyDb, Encoded> {
  readonly #reader: RangeReader;
  readonly #key: (b: Buffer) => Encoded;

  constructor(db: AnyDb, store: Database<Buffer, Buffer>, options: Options) {
    super(db, options as never);
    this.#reader = new RangeReader(store, options, this);
    this.#key = decoderFor(options.keyEncoding);
  }

  async _next(): Promise<Encoded | undefined> {
    const kv = this.#reader.next();
    return kv === undefined ? undefined : this.#key(kv[0]);
  }

  async _nextv(size: number): Promise<Encoded[]> {
    return this.#reader.take(size, (kv) => this.#key(kv[0]));
  }

  async _all(): Promise<Encoded[]> {
    return this.#reader.take(this.limit - this.count, (kv) => this.#key(kv[0]));
  }

  _seek(target: Encoded): void {
    this.#reader.seek(target);
  }

  async _close(): Promise<void> {
    this.#reader.close();
  }
}

export class PmemkvValueIterator extends AbstractValueIterator<AnyDb, Encoded, Encoded> {
  readonly #reader: RangeReader;
  readonly #value: (b: Buffer) => Encoded;

  constructor(db: AnyDb, store: Database<Buffer, Buffer>, options: Options) {
    super(db, options as never);
    this.#reader = new RangeReader(store, options, this);
    this.#value = decoderFor(options.valueEncoding);
  }

  async _next(): Promise<Encoded | undefined> {
    const kv = this.#reader.next();
    return kv === undefined ? undefined : this.#value(kv[1]);
  }

  async _nextv(size: number): Promise<Encoded[]> {
    return this.#reader.take(size, (kv) => this.#value(kv[1]));
  }

  async _all(): Promise<Encoded[]> {
    return this.#reader.take(this.limit - this.count, (kv) => this.#value(kv[1]));
  }

  _seek(target: Encoded): void {
    this.#reader.seek(target);
  }

  async _close(): Promise<void> {
    this.#reader.close();
  }
}
