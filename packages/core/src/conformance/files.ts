/**
 * Files that are not pools (persistent engines). Opening a path that holds no pool (a 0-byte
 * file, a 100-byte file, 9 MiB of random bytes, a FIFO, /dev/null, /dev/zero, a directory, a
 * symbolic link to a FIFO), without create flags, with create_if_missing and with
 * create_or_error_if_exists:
 * - is a PmemkvError INVALID_ARGUMENT whose message names the path and holds only printable
 *   ASCII (bytes read from the file are escaped);
 * - never kills the process with a signal and never hangs: each open runs in a child process
 *   with a timeout, so a crash or a hang fails the test instead of ending the run;
 * - leaves the file as it was: type, mode, size, device numbers, modification time and bytes
 *   (create_if_missing creates only a missing file; it never overwrites one).
 * A pool held open by another process is POOL_LOCKED (status 13) here, with and without
 * create flags, and opens again once that process has closed it.
 */
import { describe, expect } from '@jest/globals';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PmemkvError } from '../index';
import { type Suite, withoutCreateFlags } from './suite';

const CHILD_TIMEOUT_MS = 15_000;
const MiB = 1024 * 1024;

/** core's compiled entry point, for child processes (next to dist/conformance, or in dist/ when this runs from src/). */
function coreEntry(): string {
  for (const candidate of [join(__dirname, '..', 'index.js'), join(__dirname, '..', '..', 'dist', 'index.js')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`core's index.js is missing next to ${__dirname}: build @pmemkv/core first (pnpm run build)`);
}

/**
 * A child that opens `config` with core's `open` and prints the outcome as JSON; with `hold`,
 * prints `ready` once open and closes when its stdin ends.
 */
const CHILD_SCRIPT = `
const core = require(process.argv[1]);
const spec = JSON.parse(process.argv[2]);
if (spec.pluginModule !== undefined) {
  const mod = require(spec.pluginModule);
  core.registerEngine(mod.default ?? mod.plugin ?? mod);
}
if (spec.hold) {
  const db = core.open(spec.engine, spec.config);
  process.stdout.write('ready\\n');
  process.stdin.on('end', () => { db.close(); process.exit(0); });
  process.stdin.resume();
} else {
  let out;
  try {
    core.open(spec.engine, spec.config).close();
    out = { opened: true };
  } catch (e) {
    out = { name: e && e.name, code: e && e.code, status: e && e.status, message: String(e && e.message) };
  }
  process.stdout.write(JSON.stringify(out));
}`;

interface ChildSpec {
  engine: string;
  pluginModule?: string;
  config: Record<string, unknown>;
  hold?: boolean;
}

interface Outcome {
  opened?: boolean;
  name?: string;
  code?: string;
  status?: number;
  message?: string;
  /** How the child ended when it did not print an outcome: a signal, a timeout, an exit code. */
  died?: string;
}

function openInChild(spec: ChildSpec): Outcome {
  const r = spawnSync(process.execPath, ['-e', CHILD_SCRIPT, coreEntry(), JSON.stringify(spec)], {
    encoding: 'utf8',
    timeout: CHILD_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') return { died: `hung: killed after ${CHILD_TIMEOUT_MS} ms` };
  if (r.signal !== null) return { died: `killed by ${r.signal}: ${r.stderr.slice(0, 500)}` };
  if (r.status !== 0 || r.stdout === '') return { died: `exit code ${String(r.status)}: ${r.stderr.slice(0, 500)}` };
  return JSON.parse(r.stdout) as Outcome;
}

/** What opening must not change: type, mode, size, device numbers, mtime, link target, bytes. */
function fingerprint(p: string): Record<string, unknown> {
  const l = lstatSync(p);
  const out: Record<string, unknown> = { mode: l.mode, size: l.size, rdev: l.rdev, mtimeMs: l.mtimeMs };
  if (l.isSymbolicLink()) {
    out.target = readlinkSync(p);
    out.resolved = fingerprint(resolve(dirname(p), readlinkSync(p)));
  } else if (l.isFile()) {
    out.sha256 = createHash('sha256').update(readFileSync(p)).digest('hex');
  } else if (l.isDirectory()) {
    out.entries = readdirSync(p).sort();
  }
  return out;
}

interface BadFile {
  name: string;
  /** Makes the file in `dir`; returns its path. */
  make: (dir: string) => string;
}

function mkfifo(p: string): string {
  execFileSync('mkfifo', ['-m', '0620', p]);
  return p;
}

function regular(p: string, bytes: Buffer): string {
  writeFileSync(p, bytes, { mode: 0o640 });
  return p;
}

const BAD_FILES: readonly BadFile[] = [
  { name: 'a 0-byte file', make: (dir) => regular(join(dir, 'empty'), Buffer.alloc(0)) },
  { name: 'a 100-byte file', make: (dir) => regular(join(dir, 'short'), randomBytes(100)) },
  { name: 'a file of 9 MiB of random bytes', make: (dir) => regular(join(dir, 'random'), randomBytes(9 * MiB)) },
  { name: 'a FIFO', make: (dir) => mkfifo(join(dir, 'fifo')) },
  { name: '/dev/null', make: () => '/dev/null' },
  { name: '/dev/zero', make: () => '/dev/zero' },
  {
    name: 'a directory',
    make: (dir) => {
      const d = join(dir, 'directory');
      mkdirSync(d);
      writeFileSync(join(d, 'inside'), 'x');
      return d;
    },
  },
  {
    name: 'a symbolic link to a FIFO',
    make: (dir) => {
      const link = join(dir, 'link-to-fifo');
      symlinkSync(mkfifo(join(dir, 'linked-fifo')), link);
      return link;
    },
  },
];

const FLAGS: Readonly<Record<string, Record<string, unknown>>> = {
  'no create flag': {},
  create_if_missing: { create_if_missing: 1 },
  create_or_error_if_exists: { create_or_error_if_exists: 1 },
};

export function files(s: Suite): void {
  const spec = (config: Record<string, unknown>, hold = false): ChildSpec => ({
    engine: s.engine,
    ...(s.options.pluginModule !== undefined ? { pluginModule: s.options.pluginModule } : {}),
    config,
    ...(hold ? { hold } : {}),
  });

  describe('files that are not pools', () => {
    s.usePool();

    for (const bad of BAD_FILES) {
      s.test(
        `${bad.name}: INVALID_ARGUMENT with and without create flags, no signal, no hang, the file unchanged`,
        () => {
          const file = bad.make(s.pool.dir);
          const before = fingerprint(file);
          for (const [flagName, flags] of Object.entries(FLAGS)) {
            const config = { ...withoutCreateFlags(s.options.config(file)), ...flags };
            const got = openInChild(spec(config));
            const where = `${bad.name}, ${flagName}`;
            expect({ where, died: got.died, opened: got.opened }).toEqual({ where, died: undefined, opened: undefined });
            expect({ where, name: got.name, code: got.code, status: got.status }).toEqual({ where, name: 'PmemkvError', code: 'INVALID_ARGUMENT', status: 4 });
            expect({ where, message: got.message }).toEqual({ where, message: expect.stringContaining(file) });
            expect({ where, printable: /^[\x20-\x7e]*$/.test(got.message ?? '') }).toEqual({ where, printable: true });
            expect({ where, file: fingerprint(file) }).toEqual({ where, file: before });
          }
        },
        60_000,
      );
    }

    s.test(
      'a pool held open by another process is POOL_LOCKED here, and opens once that process closed it',
      async () => {
        const holder = spawn(process.execPath, ['-e', CHILD_SCRIPT, coreEntry(), JSON.stringify(spec(s.pool.config(), true))], {
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stderr = '';
        holder.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
        const closed = new Promise<void>((done) => holder.on('close', () => done()));
        try {
          await new Promise<void>((ready, fail) => {
            const timer = setTimeout(() => fail(new Error(`the holder did not open the pool within 30 s: ${stderr}`)), 30_000);
            holder.stdout.on('data', (d: Buffer) => {
              if (d.toString().includes('ready')) {
                clearTimeout(timer);
                ready();
              }
            });
            holder.on('exit', (code, signal) => {
              clearTimeout(timer);
              fail(new Error(`the holder exited before opening the pool (${signal ?? `exit code ${String(code)}`}): ${stderr}`));
            });
          });
          for (const config of [s.pool.reopenConfig(), withoutCreateFlags(s.pool.reopenConfig()), s.pool.config()]) {
            let refused: unknown;
            try {
              s.pool.open(config).close();
            } catch (err) {
              refused = err;
            }
            expect(refused).toBeInstanceOf(PmemkvError);
            const e = refused as PmemkvError;
            expect({ code: e.code, status: e.status, namesPath: e.message.includes(s.pool.path()) }).toEqual({ code: 'POOL_LOCKED', status: 13, namesPath: true });
          }
        } finally {
          holder.stdin.end();
          await closed;
        }
        s.pool.open(s.pool.reopenConfig()).close();
      },
      60_000,
    );
  });
}
