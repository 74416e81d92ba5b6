// KeyQueue: per-key issue order, concurrency across keys, failures that do not block the queue.
import { describe, expect, test } from '@jest/globals';
import { KeyQueue } from '../src/key-queue';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('KeyQueue', () => {
  test('tasks on one key run one after another in issue order, even when a later one would finish first', async () => {
    const q = new KeyQueue();
    const log: string[] = [];
    const slow = deferred();
    const first = q.run(Buffer.from('k'), async () => {
      log.push('first starts');
      await slow.promise;
      log.push('first ends');
    });
    const second = q.run('k', async () => {
      log.push('second runs');
    });
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual(['first starts']);
    slow.resolve();
    await Promise.all([first, second]);
    expect(log).toEqual(['first starts', 'first ends', 'second runs']);
    expect(q.busyKeys).toBe(0);
  });

  test('tasks on different keys run concurrently; keys are compared by bytes', async () => {
    const q = new KeyQueue();
    const slow = deferred();
    const log: string[] = [];
    const a = q.run(Buffer.from([0xff, 0]), () => slow.promise.then(() => void log.push('a')));
    const b = q.run(Buffer.from([0xfe, 0]), async () => void log.push('b'));
    await b;
    expect(log).toEqual(['b']);
    slow.resolve();
    await a;
    expect(log).toEqual(['b', 'a']);
  });

  test('a failed task rejects its own promise and the next task on the key still runs', async () => {
    const q = new KeyQueue();
    const failed = q.run('k', async () => {
      throw new Error('boom');
    });
    const next = q.run('k', async () => 42);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe(42);
    expect(q.busyKeys).toBe(0);
  });
});
