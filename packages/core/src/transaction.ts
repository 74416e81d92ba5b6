/**
 * Transactions (pmemkv's tx API) and the chained batch (level's `db.batch()`), both buffers of
 * operations that reach the engine in one `batch` call:
 *
 *   const tx = db.transaction();          // engines with capabilities.transactions
 *   tx.put('a', '1').remove('b');
 *   tx.commit();                          // atomic and durable when it returns; or tx.abort()
 *   await db.transaction().put('c', '3').promises.commit();
 *
 *   db.batch().put('a', '1').del('b').write();          // any engine
 *   await db.promises.batch().put('a', '1').write();
 *
 * Nothing is visible to readers before commit/write: operations are kept in the JS object
 * (keys and values checked and encoded when added, copied when they are Buffers). A commit is
 * all or nothing, also across a crash, on engines with `transactions`; a chained batch on an
 * engine without them is applied in order, one operation at a time (as `db.batch(ops)`).
 *
 * A transaction or batch that was committed, written, aborted or closed refuses further use
 * (INVALID_ARGUMENT), as does one whose commit failed (nothing of it was applied then). Closing
 * the database aborts every transaction and chained batch still open on it.
 *
 * Thread-safety: as its Database: it belongs to the JS thread that opened the database.
 */
import type { BatchOp } from './contract';
import { invalidArgument, toPmemkvError } from './errors';
import type { Access } from './internal/access';

type KeyInput = string | Buffer | Uint8Array;
type State = 'open' | 'committed' | 'aborted' | 'closed by the database';

/** What a transaction or chained batch needs of its database. */
export interface OperationSink {
  /** Applies the operations now (sync). */
  applySync(ops: BatchOp[]): void;
  /** Applies the operations off the JS thread. */
  applyAsync(ops: BatchOp[]): Promise<void>;
  /** Forgets `buffer` (it ended); the database aborts the ones still registered when it closes. */
  release(buffer: OperationBuffer): void;
}

/** The part transactions and chained batches share: checked, encoded, buffered operations. */
export abstract class OperationBuffer {
  #acc: Access<unknown, unknown>;
  #sink: OperationSink;
  #ops: BatchOp[] = [];
  #state: State = 'open';
  readonly #kind: string;

  /** @internal */
  constructor(acc: Access<unknown, unknown>, sink: OperationSink, kind: string) {
    this.#acc = acc;
    this.#sink = sink;
    this.#kind = kind;
  }

  /** Number of operations buffered. */
  get length(): number {
    return this.#ops.length;
  }

  /** @internal */
  protected add(op: 'put' | 'del', key: unknown, value?: unknown): void {
    this.#check();
    const i = this.#ops.length;
    const k = copy(this.#acc.key(key, `${this.#kind}[${i}].key`));
    if (op === 'del') this.#ops.push({ type: 'del', key: k });
    else this.#ops.push({ type: 'put', key: k, value: copy(this.#acc.value(value)) });
  }

  /** @internal */
  protected dropAll(): void {
    this.#check();
    this.#ops = [];
  }

  /** @internal Ends the buffer with `state` and hands back its operations. */
  protected take(state: State): BatchOp[] {
    this.#check();
    this.#acc.handle();  // a closed database: INVALID_ARGUMENT before anything ends
    const ops = this.#ops;
    this.#end(state);
    return ops;
  }

  /** @internal Ends the buffer and applies its operations off the JS thread. */
  protected applyAsync(): Promise<void> {
    let ops: BatchOp[];
    try {
      ops = this.take('committed');
    } catch (err) {
      return Promise.reject(toPmemkvError(err));
    }
    return ops.length === 0 ? Promise.resolve() : this.#sink.applyAsync(ops);
  }

  /** @internal Ends the buffer and applies its operations now. */
  protected applySync(): void {
    const ops = this.take('committed');
    if (ops.length !== 0) this.#sink.applySync(ops);
  }

  /** @internal */
  protected end(state: State): void {
    if (this.#state === 'open') this.#end(state);
  }

  /** @internal The database closed with this buffer open: it is aborted. */
  abortByClose(): void {
    if (this.#state === 'open') this.#end('closed by the database');
  }

  #end(state: State): void {
    this.#state = state;
    this.#ops = [];
    this.#sink.release(this);
  }

  #check(): void {
    if (this.#state === 'open') return;
    const again = this.#kind === 'transaction' ? 'db.transaction()' : 'db.batch()';
    const why = this.#state === 'closed by the database' ? 'was aborted when its database was closed' : `was ${this.#state}`;
    throw invalidArgument(`this ${this.#kind} ${why}: start a new one with ${again}`);
  }
}

/** A transaction: see the module comment. `db.transaction()` creates one. */
export class Transaction<K = string, V = string> extends OperationBuffer {
  /** The async twin of `commit`. */
  readonly promises: { commit(): Promise<void> };

  /** @internal */
  constructor(acc: Access<K, V>, sink: OperationSink) {
    super(acc as Access<unknown, unknown>, sink, 'transaction');
    this.promises = { commit: (): Promise<void> => this.applyAsync() };
  }

  /** Buffers a put of `key`. @throws PmemkvError INVALID_ARGUMENT (bad key or value, ended transaction). */
  put(key: KeyInput, value: V | string | Buffer | Uint8Array): this {
    this.add('put', key, value);
    return this;
  }

  /** Buffers a remove of `key` (a missing key is not an error). */
  remove(key: KeyInput): this {
    this.add('del', key);
    return this;
  }

  /**
   * Applies every buffered operation atomically; durable when it returns. On failure (e.g.
   * OUT_OF_MEMORY) nothing was applied, and the transaction is over either way.
   */
  commit(): void {
    this.applySync();
  }

  /** Discards the buffered operations and ends the transaction. Idempotent. */
  abort(): void {
    this.end('aborted');
  }
}

/** What both chained batches share: `put`, `del`, `clear` and `close`. */
abstract class ChainedBatchBase<V> extends OperationBuffer {
  put(key: KeyInput, value: V | string | Buffer | Uint8Array): this {
    this.add('put', key, value);
    return this;
  }

  del(key: KeyInput): this {
    this.add('del', key);
    return this;
  }

  /** Drops the operations buffered so far; the batch stays open. */
  clear(): this {
    this.dropAll();
    return this;
  }

  /** Ends the batch without writing. Idempotent. */
  close(): void {
    this.end('aborted');
  }
}

/** The chained batch of `db.batch()` (level's): `put`, `del`, `clear`, then `write()` or `close()`. */
export class ChainedBatch<K = string, V = string> extends ChainedBatchBase<V> {
  /** @internal */
  constructor(acc: Access<K, V>, sink: OperationSink) {
    super(acc as Access<unknown, unknown>, sink, 'batch');
  }

  /** Applies the operations (atomically on engines with `transactions`) and ends the batch. */
  write(): void {
    this.applySync();
  }
}

/** The chained batch of `db.promises.batch()`: as ChainedBatch, but `write()` returns a Promise. */
export class AsyncChainedBatch<K = string, V = string> extends ChainedBatchBase<V> {
  /** @internal */
  constructor(acc: Access<K, V>, sink: OperationSink) {
    super(acc as Access<unknown, unknown>, sink, 'batch');
  }

  /** Applies the operations off the JS thread; resolves when they are durable. */
  write(): Promise<void> {
    return this.applyAsync();
  }
}

/** Buffers own their bytes: a caller may reuse its Buffer right after put() returns. */
function copy<T extends string | Buffer>(bytes: T): T {
  return (typeof bytes === 'string' ? bytes : Buffer.from(bytes)) as T;
}
