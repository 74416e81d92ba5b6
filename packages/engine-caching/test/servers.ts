/**
 * Real remote servers for the tests: a redis-server or memcached of our own on a free loopback
 * port, started before the tests that need it and stopped afterwards (also when a test fails;
 * a process exit kills whatever is still running). No server is shared between test files.
 */
import { afterAll, beforeAll } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

export type RemoteKind = 'redis' | 'memcached';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RemoteServer {
  readonly kind: RemoteKind;
  readonly #extraArgs: readonly string[];
  #port = 0;
  #child: ChildProcess | undefined;

  constructor(kind: RemoteKind, extraArgs: readonly string[] = []) {
    this.kind = kind;
    this.#extraArgs = extraArgs;
  }

  get port(): number {
    if (this.#port === 0) throw new Error('the server was never started');
    return this.#port;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Starts the server (on its previous port when it ran before) and waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.#child !== undefined) throw new Error(`${this.kind} is already running`);
    for (let tries = 0; ; tries++) {
      const port = this.#port !== 0 ? this.#port : await freePort();
      const child = spawn(this.#command(), this.#args(port), { stdio: ['ignore', 'ignore', 'pipe'] });
      live.add(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      let exited = false;
      child.once('exit', () => {
        exited = true;
        live.delete(child);
      });
      const deadline = Date.now() + 10_000;
      while (!exited && Date.now() < deadline && !(await accepts(port))) await sleep(20);
      if (!exited && Date.now() < deadline) {
        this.#port = port;
        this.#child = child;
        return;
      }
      child.kill('SIGKILL');
      // A fresh port may have been taken in between: try another; a fixed port must come free.
      if (tries >= 20) throw new Error(`${this.kind} did not start on port ${port}: ${stderr.trim()}`);
      await sleep(50);
    }
  }

  /** SIGKILLs the server (no shutdown of its own) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#child = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
  }

  /**
   * SIGSTOP: the server keeps its connections open but answers nothing until resume().
   * Resolves once every thread of the server has stopped: a thread that was running when the
   * signal was sent stops only at its next entry into the kernel, and could still answer.
   */
  async pause(): Promise<void> {
    const child = this.#child;
    if (child?.pid === undefined) return;
    child.kill('SIGSTOP');
    const tasks = `/proc/${child.pid}/task`;
    const stopped = (): boolean =>
      readdirSync(tasks).every((t) => {
        const stat = readFileSync(`${tasks}/${t}/stat`, 'utf8');
        const state = stat[stat.lastIndexOf(')') + 2]; // "pid (comm) S ...": T is stopped, t traced
        return state === 'T' || state === 't';
      });
    for (let i = 0; i < 500 && !stopped(); i++) await new Promise((r) => setTimeout(r, 2));
    if (!stopped()) throw new Error(`${this.kind} did not stop within 1 s of SIGSTOP`);
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    await this.kill();
  }

  #command(): string {
    return this.kind === 'redis' ? 'redis-server' : 'memcached';
  }

  #args(port: number): string[] {
    if (this.kind === 'redis') {
      return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.#extraArgs];
    }
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0 ? ['-u', 'root'] : [];
    return ['-p', String(port), '-U', '0', '-l', '127.0.0.1', ...asRoot, ...this.#extraArgs];
  }
}

/** Starts a server for the current test file and stops it after the file's tests. */
export function useServer(kind: RemoteKind, extraArgs: readonly string[] = []): RemoteServer {
  const server = new RemoteServer(kind, extraArgs);
  beforeAll(() => server.start());
  afterAll(() => server.stop());
  return server;
}
