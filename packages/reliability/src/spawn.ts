/**
 * Child processes speaking a line protocol on stdout. Every campaign runs engine code only in
 * children, so a signal, an abort or a hang of an engine is an observed outcome (a failure
 * line), never the end of the campaign.
 */
import { spawn } from 'node:child_process';

export interface ChildControl {
  /** SIGKILLs the child now (idempotent). */
  kill(): void;
}

export interface ChildEnd {
  /** `'SIGKILL'`, another signal name, `exit code N`, or `hung: ...` when the timeout killed it. */
  readonly exit: string;
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly stderr: string;
}

export interface SpawnOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Kills the child (and reports it as hung) when it runs longer than this. */
  readonly timeoutMs: number;
  /** Called for each complete stdout line, in order. */
  readonly onLine?: (line: string, control: ChildControl) => void;
}

/** Runs `node script ...args`; resolves when the child has ended, however it ended. */
export function runChild(script: string, args: readonly string[], options: SpawnOptions): Promise<ChildEnd> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PMEM_IS_PMEM_FORCE: process.env.PMEM_IS_PMEM_FORCE ?? '1', ...options.env },
    });
    let timedOut = false;
    let killed = false;
    const control: ChildControl = {
      kill: () => {
        if (!killed) {
          killed = true;
          child.kill('SIGKILL');
        }
      },
    };
    const timer = setTimeout(() => {
      timedOut = true;
      control.kill();
    }, options.timeoutMs);
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        options.onLine?.(line, control);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 20_000) stderr += chunk;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const exit = timedOut ? `hung: killed after ${options.timeoutMs} ms` : (signal ?? `exit code ${String(code)}`);
      resolve({ exit, signal, code, timedOut, stderr });
    });
  });
}

/** The first line of a child's stderr that says something, for failure lines. */
export function stderrHint(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const useful = lines.find((l) => /error|abort|assert|fault|fatal/i.test(l)) ?? lines[0];
  return useful === undefined ? '' : `; stderr: ${useful.slice(0, 300)}`;
}
