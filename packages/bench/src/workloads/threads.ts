/**
 * A group of worker threads (src/worker.ts) that start one phase together: every worker opens
 * its store and prepares its keys, then all are released at once through a shared flag, so
 * thread start-up and store opening are never timed.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CONTROL_GO, CONTROL_STOP, type WorkerJob, type WorkerMessage } from '../worker';
import type { LoopResult } from './loop';

const WORKER_FILE = join(__dirname, '..', 'worker.js');

export class WorkerGroup {
  readonly #control = new SharedArrayBuffer(8);
  readonly #flags = new Int32Array(this.#control);
  readonly #workers: Worker[] = [];
  readonly #ready: Promise<void>[] = [];
  /** One per job, in job order: the worker's loop result. */
  readonly results: Promise<LoopResult>[] = [];

  constructor(jobs: readonly Omit<WorkerJob, 'control'>[]) {
    for (const job of jobs) {
      const worker = new Worker(WORKER_FILE, { workerData: { ...job, control: this.#control } satisfies WorkerJob });
      this.#workers.push(worker);
      let settled = false;
      let onReady!: () => void;
      let onFail!: (err: Error) => void;
      this.#ready.push(
        new Promise<void>((resolve, reject) => {
          onReady = resolve;
          onFail = reject;
        }),
      );
      this.results.push(
        new Promise<LoopResult>((resolve, reject) => {
          const fail = (err: Error) => {
            if (settled) return;
            settled = true;
            onFail(err);
            reject(err);
          };
          worker.on('message', (msg: WorkerMessage) => {
            if (msg.type === 'ready') onReady();
            else if (msg.type === 'done') {
              settled = true;
              resolve(msg.result);
            } else fail(new Error(`worker (${job.store.name}, ${job.task.kind}): ${msg.message}`));
          });
          worker.on('error', fail);
          worker.on('exit', (code) => fail(new Error(`worker (${job.store.name}, ${job.task.kind}) exited with code ${code} before reporting`)));
        }),
      );
      // A failure is also reported through `ready`; keep unobserved result rejections quiet.
      this.results[this.results.length - 1]!.catch(() => {});
    }
  }

  /** Resolves once every worker has opened its store; rejects if any failed. */
  async ready(): Promise<void> {
    await Promise.all(this.#ready);
  }

  /** Releases every worker at once. */
  go(): void {
    Atomics.store(this.#flags, CONTROL_GO, 1);
    Atomics.notify(this.#flags, CONTROL_GO);
  }

  /** Asks open-ended (writer) loops to finish. */
  stop(): void {
    Atomics.store(this.#flags, CONTROL_STOP, 1);
  }

  /** Waits for every worker thread to exit (after its results), or ends them on failure. */
  async close(): Promise<void> {
    await Promise.all(
      this.#workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.threadId === -1) return resolve();
            w.once('exit', () => resolve());
          }),
      ),
    );
  }

  /** Ends every worker now (on error or interruption). */
  async terminate(): Promise<void> {
    this.stop();
    this.go();
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
