/**
 * KeyQueue: runs the remote-touching operations on one key one after another, in the order they
 * were issued, while operations on different keys run concurrently.
 *
 * Why: a read that misses fetches the remote value and then fills the local copy. Without an
 * order per key, a put issued after the fetch was sent could finish first, and the late fill
 * would leave the old value in the local tier after the put resolved. With it, a put waits for
 * the fill before it, and a read queued behind a put sees the put's local copy.
 *
 * Keys are compared by their bytes (a latin1 string holds one char per byte). An idle key holds
 * no memory.
 */
function keyId(key: Buffer | string): string {
  return typeof key === 'string' ? Buffer.from(key, 'utf8').toString('latin1') : key.toString('latin1');
}

export class KeyQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` after every task queued before it for `key`; settles as `task` does. */
  run<T>(key: Buffer | string, task: () => Promise<T>): Promise<T> {
    const id = keyId(key);
    const before = this.#tails.get(id);
    const result = before === undefined ? task() : before.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(id, tail);
    void tail.then(() => {
      if (this.#tails.get(id) === tail) this.#tails.delete(id);
    });
    return result;
  }

  /** Whether tasks for `key` are queued or running. */
  busy(key: Buffer | string): boolean {
    return this.#tails.has(keyId(key));
  }

  /** Number of keys with queued work. */
  get busyKeys(): number {
    return this.#tails.size;
  }
}
