/**
 * DO NOT IMPORT FROM OUTSIDE @pmemkv/core (not public API).
 *
 * Writes: what `Database`, `DatabasePromises`, transactions and chained batches share about
 * writing batches to one open engine: the sync and async application of encoded operations,
 * group commit of async writes (group-commit.ts) on engines with atomic batches, and the open
 * transactions and chained batches, aborted when the database closes.
 */
import type { BatchOp } from '../contract';
import { PmemkvError, toPmemkvError } from '../errors';
import { AsyncChainedBatch, ChainedBatch, Transaction, type OperationBuffer, type OperationSink } from '../transaction';
import type { Access } from './access';
import { batchAsync, batchSync } from './batch-encoding';
import { GroupCommit } from './group-commit';
import { offTurn } from './ops';

export class Writes<K, V> implements OperationSink {
  readonly #acc: Access<K, V>;
  readonly #open = new Set<OperationBuffer>();
  /** Present on engines whose async batches are atomic: then async writes are grouped. */
  readonly #group: GroupCommit | undefined;

  constructor(acc: Access<K, V>) {
    this.#acc = acc;
    this.#group = acc.caps.transactions && acc.hasAsync ? new GroupCommit(() => acc.handle().async!) : undefined;
  }

  applySync(ops: BatchOp[]): void {
    this.#acc.refuseSync('batch');
    const h = this.#acc.handle();
    try {
      batchSync(h, ops);
    } catch (err) {
      throw toPmemkvError(err);
    }
  }

  applyAsync(ops: BatchOp[]): Promise<void> {
    try {
      if (this.#group !== undefined) return this.#group.submit(ops).catch((err: unknown) => Promise.reject(toPmemkvError(err)));
      const h = this.#acc.handle();
      return offTurn(this.#acc, 'batch', h.async && (() => batchAsync(h.async!, ops)), () => batchSync(h, ops)).catch((err: unknown) => Promise.reject(toPmemkvError(err)));
    } catch (err) {
      return Promise.reject(toPmemkvError(err));
    }
  }

  /** Whether async puts and batches go through group commit. */
  get grouped(): boolean {
    return this.#group !== undefined;
  }

  release(buffer: OperationBuffer): void {
    this.#open.delete(buffer);
  }

  transaction(): Transaction<K, V> {
    this.#acc.handle();
    if (!this.#acc.caps.transactions) {
      throw new PmemkvError('NOT_SUPPORTED', `transaction() is not available on the ${this.#acc.engine} engine: its batches are not atomic (capabilities.transactions is false); use db.batch(), applied one operation at a time`);
    }
    return this.#track(new Transaction(this.#acc, this));
  }

  chainedBatch(): ChainedBatch<K, V> {
    this.#acc.refuseSync('batch');
    this.#acc.handle();
    return this.#track(new ChainedBatch(this.#acc, this));
  }

  asyncChainedBatch(): AsyncChainedBatch<K, V> {
    this.#acc.handle();
    return this.#track(new AsyncChainedBatch(this.#acc, this));
  }

  /** The database closes: every transaction and chained batch still open is aborted. */
  abortAll(): void {
    for (const buffer of [...this.#open]) buffer.abortByClose();
    this.#open.clear();
  }

  #track<T extends OperationBuffer>(buffer: T): T {
    this.#open.add(buffer);
    return buffer;
  }
}

/** Operations that wait in JS (grouped writes) own their bytes: the caller may reuse its Buffers at once. */
export function ownOps(ops: BatchOp[]): BatchOp[] {
  return ops.map((op) => {
    const key = typeof op.key === 'string' ? op.key : Buffer.from(op.key);
    if (op.type === 'del') return { type: 'del', key };
    return { type: 'put', key, value: typeof op.value === 'string' ? op.value : Buffer.from(op.value!) };
  });
}
