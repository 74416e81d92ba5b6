/**
 * Runs a writer child process and kills it with SIGKILL at a chosen moment: the mechanism of
 * every crash test. The child speaks a line protocol on stdout: `ready` once its pool is open,
 * `ack <n>` after operation n (0, 1, 2, ...) has returned, `done` when it ran out of work.
 * The kill lands `killAfterMs` after `ready`; a child that never gets ready within 30 s is
 * killed and reported as not ready.
 */
import { spawn } from 'node:child_process';

export interface KilledChildRun {
  /** Sequence number of the last acknowledged operation, -1 when none. */
  readonly lastAck: number;
  /** The child ran out of work and exited by itself. */
  readonly finished: boolean;
  readonly ready: boolean;
  readonly stderr: string;
  /** `'SIGKILL'` when the kill landed, else how the child ended. */
  readonly exit: string;
}

/** Spawns `node script ...args` and SIGKILLs it `killAfterMs` after it printed `ready`. */
export function runAndKill(script: string, args: readonly string[], killAfterMs: number): Promise<KilledChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PMEM_IS_PMEM_FORCE: process.env.PMEM_IS_PMEM_FORCE ?? '1' },
    });
    let lastAck = -1;
    let ready = false;
    let finished = false;
    let pending = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    const readyTimer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line === 'ready') {
          ready = true;
          clearTimeout(readyTimer);
          killTimer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        } else if (line === 'done') {
          finished = true;
        } else if (line.startsWith('ack ')) {
          const seq = Number(line.slice(4));
          if (seq !== lastAck + 1) reject(new Error(`the child acknowledged ${seq} after ${lastAck}`));
          lastAck = seq;
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(readyTimer);
      if (killTimer) clearTimeout(killTimer);
      resolve({ lastAck, finished, ready, stderr, exit: signal ?? `exit code ${String(code)}` });
    });
  });
}
