// pool.h on paths that hold no pool: every open is INVALID_ARGUMENT, never a signal or a hang,
// and leaves the file as it was; bytes read from a file are escaped in messages; a pool held
// by another process is POOL_LOCKED.
//
// Each open runs in a child process with a timeout, so a crash (SIGBUS from mapping a short
// file) or a hang (a FIFO opened for reading) is a failed test, not the end of the run.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { EngineAddon, FIXTURE_ADDON, MiB, loadFixture, makeTempDir, removeTempDir, thrown } from './helpers';

const BINDING = path.join(__dirname, '..', 'dist', 'index.js');
const CHILD_TIMEOUT_MS = 10_000;

let dir: string;
let fixture: EngineAddon;

beforeAll(() => {
  dir = makeTempDir();
  fixture = loadFixture();
});
afterAll(() => {
  try {
    expect(fixture.livePaths()).toEqual([]);
  } finally {
    removeTempDir(dir);
  }
});

interface ChildResult {
  code?: string;
  status?: number;
  message?: string;
  opened?: boolean;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stderr: string;
}

/** Runs `call` (an expression using `addon`, `binding` and `arg`) in a child process. */
function inChild(call: string, arg: unknown): ChildResult {
  const script = `
    const addon = require(${JSON.stringify(FIXTURE_ADDON)});
    const binding = require(${JSON.stringify(BINDING)});
    const arg = JSON.parse(process.argv[1]);
    let out;
    try { const r = ${call}; if (r && typeof r.close === 'function') r.close(); out = { opened: true }; }
    catch (e) { out = { code: e.code, status: e.status, message: e.message }; }
    process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', script, JSON.stringify(arg)], {
    encoding: 'utf8',
    timeout: CHILD_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  const parsed = r.status === 0 && r.stdout !== '' ? (JSON.parse(r.stdout) as Partial<ChildResult>) : {};
  return { ...parsed, signal: r.signal, timedOut, stderr: r.stderr };
}

/** What must not change: type, mode, size, device numbers, target, and a hash of the bytes. */
function fingerprint(p: string): Record<string, unknown> {
  const l = fs.lstatSync(p);
  const out: Record<string, unknown> = { mode: l.mode, size: l.size, rdev: l.rdev, mtimeMs: l.mtimeMs };
  if (l.isSymbolicLink()) {
    out.target = fs.readlinkSync(p);
    out.resolved = fingerprint(path.resolve(path.dirname(p), fs.readlinkSync(p)));
  } else if (l.isFile()) {
    out.sha256 = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  } else if (l.isDirectory()) {
    out.entries = fs.readdirSync(p).sort();
  }
  return out;
}

const FLAGS: Record<string, Record<string, unknown>> = {
  'no create flag': {},
  create_if_missing: { size: 8 * MiB, create_if_missing: true },
  create_or_error_if_exists: { size: 8 * MiB, create_or_error_if_exists: true },
};

interface BadFile {
  name: string;
  make: () => string;
  /** What the message says, without and with create_if_missing. */
  says: RegExp;
  /** What create_or_error_if_exists says (a regular file exists: "already exists"). */
  saysExclusive?: RegExp;
}

const exists = /already exists/;
const BAD_FILES: BadFile[] = [
  {
    name: 'a 0-byte file',
    make: () => write('empty', Buffer.alloc(0)),
    says: /is not a pmemkv pool: it is 0 bytes, shorter than the smallest libpmemobj pool \(PMEMOBJ_MIN_POOL, 8388608 bytes\)/,
    saysExclusive: exists,
  },
  {
    name: 'a 100-byte file',
    make: () => write('short', randomBytes(100)),
    says: /is not a pmemkv pool: it is 100 bytes, shorter than/,
    saysExclusive: exists,
  },
  {
    name: 'a file of 9 MiB of random bytes',
    make: () => write('random', randomBytes(9 * MiB)),
    says: /is not a pmemkv pool: it begins with ".*", not with libpmemobj's signature "PMEMOBJ\\x00"/,
    saysExclusive: exists,
  },
  { name: 'a FIFO', make: () => mkfifo('fifo'), says: /is a FIFO \(named pipe\)/ },
  { name: '/dev/null', make: () => '/dev/null', says: /^pool file \/dev\/null is a character device/ },
  { name: '/dev/zero', make: () => '/dev/zero', says: /^pool file \/dev\/zero is a character device/ },
  {
    name: 'a directory',
    make: () => {
      const d = path.join(dir, 'a-directory');
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'inside'), 'x');
      return d;
    },
    says: /is a directory/,
  },
  {
    name: 'a symbolic link to a FIFO',
    make: () => {
      const link = path.join(dir, 'link-to-fifo');
      fs.symlinkSync(mkfifo('linked-fifo'), link);
      return link;
    },
    says: /link-to-fifo \(a symbolic link to ".*linked-fifo"\) is a FIFO \(named pipe\)/,
  },
];

function write(name: string, bytes: Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes, { mode: 0o640 });
  return p;
}

function mkfifo(name: string): string {
  const p = path.join(dir, name);
  execFileSync('mkfifo', ['-m', '0620', p]);
  return p;
}

describe('a path that holds no pool', () => {
  for (const bad of BAD_FILES) {
    describe(bad.name, () => {
      let file: string;
      beforeAll(() => {
        file = bad.make();
      });

      for (const [flagName, flags] of Object.entries(FLAGS)) {
        test(`${flagName}: INVALID_ARGUMENT in a child that neither crashes nor hangs; the file is unchanged`, () => {
          const before = fingerprint(file);
          const r = inChild('addon.open(arg)', { path: file, ...flags });
          expect({ signal: r.signal, timedOut: r.timedOut, stderr: r.stderr }).toEqual({ signal: null, timedOut: false, stderr: '' });
          expect([r.code, r.status]).toEqual(['INVALID_ARGUMENT', 4]);
          const says = flagName === 'create_or_error_if_exists' && bad.saysExclusive ? bad.saysExclusive : bad.says;
          expect(r.message).toMatch(says);
          expect(r.message).toMatch(/^[\x20-\x7e]*$/);
          expect(fingerprint(file)).toEqual(before);
        });
      }

      test('checkPool and poolInfo refuse it the same way, without crashing or hanging', () => {
        const before = fingerprint(file);
        for (const call of ['binding.checkPool(arg)', 'binding.poolInfo(arg)']) {
          const r = inChild(call, file);
          expect({ call, signal: r.signal, timedOut: r.timedOut }).toEqual({ call, signal: null, timedOut: false });
          expect([r.code, r.message]).toEqual(['INVALID_ARGUMENT', expect.stringMatching(bad.says)]);
        }
        expect(fingerprint(file)).toEqual(before);
      });
    });
  }

  test('a symbolic link to nowhere is not replaced by a pool', () => {
    const link = path.join(dir, 'dangling');
    fs.symlinkSync(path.join(dir, 'no-such-target'), link);
    const e = thrown(() => fixture.open({ path: link, size: 8 * MiB, create_if_missing: true }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/dangling \(a symbolic link to ".*no-such-target"\) names a file that does not exist/);
    expect(fs.existsSync(path.join(dir, 'no-such-target'))).toBe(false);
  });

  test('a symbolic link to a pool opens the pool', () => {
    const target = path.join(dir, 'linked.pool');
    const db = fixture.open({ path: target, size: 8 * MiB, create_if_missing: true });
    db.put('k', 'v');
    db.close();
    const link = path.join(dir, 'link-to-pool');
    fs.symlinkSync(target, link);
    const again = fixture.open({ path: link });
    expect(again.get('k')?.toString()).toBe('v');
    again.close();
  });
});

describe('bytes read from a file are escaped in messages', () => {
  test('the first bytes of a foreign file', () => {
    const file = write('foreign', Buffer.concat([Buffer.from([0x64, 0xf3, 0x8c, 0x22, 0x5c, 0x0a]), Buffer.alloc(9 * MiB)]));
    const e = thrown(() => fixture.open({ path: file }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('it begins with "d\\xf3\\x8c\\"\\\\\\x0a\\x00\\x00", not with');
    expect(e.message).toMatch(/^[\x20-\x7e]*$/);
  });

  test('the layout name of a pool header', () => {
    // A libpmemobj signature followed by a layout name of raw bytes (and no valid descriptor
    // checksum: a damaged pool, whose message quotes the layout it holds).
    const bytes = Buffer.alloc(9 * MiB);
    bytes.write('PMEMOBJ\0', 0, 'latin1');
    Buffer.from([0x64, 0xf3, 0x8c, 0x01, 0x7f]).copy(bytes, 4096);
    const file = write('odd-layout', bytes);
    const e = thrown(() => fixture.open({ path: file, create_if_missing: true, size: 8 * MiB }));
    expect(e.code).toBe('UNKNOWN_ERROR');
    expect(e.message).toContain('is damaged (its pool descriptor, which holds the layout name "d\\xf3\\x8c\\x01\\x7f", fails its checksum)');
    expect(e.message).toMatch(/^[\x20-\x7e]*$/);
  });

  test("libpmemobj's own messages (a poolset whose layout is raw bytes)", () => {
    const part = path.join(dir, 'set-part');
    const set = path.join(dir, 'odd.set');
    fs.writeFileSync(set, `PMEMPOOLSET\n16M ${part}\n`);
    execFileSync('pmempool', ['create', 'obj', '--layout', Buffer.from([0x78, 0xf3, 0x01]).toString('latin1'), set]);
    const e = thrown(() => fixture.open({ path: set }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/^[\x20-\x7e]*$/);
    expect(e.message).toContain('\\x01');
  });
});

describe('a pool held open by another process', () => {
  test('is POOL_LOCKED (13) in this one, with the path in the message; free again once the holder exits', async () => {
    const file = path.join(dir, 'held.pool');
    const holder = spawn(
      process.execPath,
      ['-e', `const db = require(${JSON.stringify(FIXTURE_ADDON)}).open({ path: process.argv[1], size: ${8 * MiB}, create_if_missing: true });
        process.stdout.write('ready\\n'); process.stdin.on('end', () => { db.close(); process.exit(0); }); process.stdin.resume();`, file],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        holder.on('exit', (code) => reject(new Error(`the holder exited early (${String(code)})`)));
      });
      for (const flags of [{}, { create_if_missing: true, size: 8 * MiB }]) {
        const e = thrown(() => fixture.open({ path: file, ...flags }));
        expect([e.code, e.status]).toEqual(['POOL_LOCKED', 13]);
        expect(e.message).toContain(`pool file ${file} is in use`);
      }
    } finally {
      holder.stdin.end();
      await new Promise((resolve) => holder.on('close', resolve));
    }
    fixture.open({ path: file }).close();
  });
});
