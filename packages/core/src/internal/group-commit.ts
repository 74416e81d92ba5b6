/**
 * DO NOT IMPORT FROM OUTSIDE @pmemkv/core (not public API).
 *
 * Group commit of async writes: on an engine with atomic batches (`capabilities.transactions`)
 * and async twins, `db.promises.put` and `db.promises.batch` calls that arrive while an earlier
 * group is being persisted wait, and go to the engine together as one batch (one transaction,
 * one persist) once that group is durable. Each promise resolves when its own group is durable,
 * so the durability promised is the same as for a single write, and the cost of persisting is
 * shared. The first write to arrive when nothing is in flight goes at once, alone.
 *
 * A group that fails (e.g. OUT_OF_MEMORY) changed nothing; its writes are then retried one by
 * one, so that each promise settles with its own outcome, as it would have without grouping.
 *
 * Order: writes of one group are applied in the order they were called; a later group after an
 * earlier one. Like every async write, a group may land after a sync write issued later.
 */
import type { AsyncEngineHandle, BatchOp } from '../contract';
import { batchAsync } from './batch-encoding';

interface Pending {
  readonly ops: BatchOp[];
  resolve(): void;
  reject(err: unknown): void;
}

export class GroupCommit {
  #waiting: Pending[] = [];
  #inFlight = false;
  readonly #handle: () => AsyncEngineHandle;

  /** `handle` gives the open handle's async twins (it throws when the database is closed). */
  constructor(handle: () => AsyncEngineHandle) {
    this.#handle = handle;
  }

  /** Applies `ops` (one write's operations) in the next group; resolves once that group is durable. */
  submit(ops: BatchOp[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ ops, resolve, reject });
      if (!this.#inFlight) this.#flush();
    });
  }

  #flush(): void {
    const group = this.#waiting;
    if (group.length === 0) return;
    this.#waiting = [];
    this.#inFlight = true;
    this.#commit(group).finally(() => {
      this.#inFlight = false;
      this.#flush();
    });
  }

  async #commit(group: Pending[]): Promise<void> {
    let handle: AsyncEngineHandle;
    try {
      handle = this.#handle();
    } catch (err) {
      for (const p of group) p.reject(err);
      return;
    }
    const ops = group.length === 1 ? group[0]!.ops : group.flatMap((p) => p.ops);
    try {
      await batchAsync(handle, ops);
      for (const p of group) p.resolve();
      return;
    } catch (err) {
      if (group.length === 1) {
        group[0]!.reject(err);
        return;
      }
    }
    for (const p of group) {
      try {
        await batchAsync(handle, p.ops);
        p.resolve();
      } catch (err) {
        p.reject(err);
      }
    }
  }
}
