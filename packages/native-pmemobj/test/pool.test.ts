// pool.h through the fixture engine: pmemkv's create/open flag rules, sizes, layouts, modes.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { EngineAddon, FIXTURE_ADDON, MiB, loadFixture, makeTempDir, pmempoolCreate, removeTempDir, thrown } from './helpers';

let dir: string;
let fixture: EngineAddon;
let n = 0;
const fresh = (): string => path.join(dir, `p${n++}.pool`);

beforeAll(() => {
  dir = makeTempDir();
  fixture = loadFixture();
});
afterAll(() => {
  expect(fixture.livePaths()).toEqual([]);
  removeTempDir(dir);
});

describe('create_if_missing', () => {
  test('creates a missing pool with mode 0600, then reopens it with its data', () => {
    const file = fresh();
    const db = fixture.open({ path: file, size: 8 * MiB, create_if_missing: true });
    db.put('k', 'v');
    db.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(file).size).toBe(8 * MiB);
    const again = fixture.open({ path: file, size: 8 * MiB, create_if_missing: true });
    expect(again.get('k')?.toString()).toBe('v');
    again.close();
  });

  test('accepts 1 and 0 for the flags, as pmemkv configs do', () => {
    const file = fresh();
    fixture.open({ path: file, size: 8 * MiB, create_if_missing: 1, create_or_error_if_exists: 0 }).close();
    expect(fs.existsSync(file)).toBe(true);
  });
});

describe('create_or_error_if_exists', () => {
  test('creates a missing pool', () => {
    const file = fresh();
    const db = fixture.open({ path: file, size: 8 * MiB, create_or_error_if_exists: true });
    expect(db.count(undefined)).toBe(0);
    db.close();
  });

  test('refuses an existing file and says what to do', () => {
    const file = fresh();
    fixture.open({ path: file, size: 8 * MiB, create_if_missing: true }).close();
    const e = thrown(() => fixture.open({ path: file, size: 8 * MiB, create_or_error_if_exists: true }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.status).toBe(4);
    expect(e.message).toContain(file);
    expect(e.message).toContain('already exists');
    expect(e.message).toContain('create_if_missing');
  });
});

describe('no create flag', () => {
  test('opens an existing pool', () => {
    const file = fresh();
    fixture.open({ path: file, size: 8 * MiB, create_if_missing: true }).close();
    const db = fixture.open({ path: file });
    expect(db.count(undefined)).toBe(0);
    db.close();
  });

  test('a missing file is INVALID_ARGUMENT pointing at create_if_missing', () => {
    const file = fresh();
    const e = thrown(() => fixture.open({ path: file, size: 8 * MiB }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/pool file .* does not exist: pass create_if_missing/);
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('bad combinations', () => {
  test('both create flags name both keys', () => {
    const e = thrown(() =>
      fixture.open({ path: fresh(), size: 8 * MiB, create_if_missing: true, create_or_error_if_exists: true }),
    );
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('create_if_missing');
    expect(e.message).toContain('create_or_error_if_exists');
  });

  test('no path', () => {
    const e = thrown(() => fixture.open({ size: 8 * MiB, create_if_missing: true }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('path');
  });

  test('a path in a missing directory', () => {
    const e = thrown(() => fixture.open({ path: path.join(dir, 'no', 'such.pool'), size: 8 * MiB, create_if_missing: true }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('no/such.pool');
  });
});

describe('size', () => {
  test('is required to create', () => {
    const e = thrown(() => fixture.open({ path: fresh(), create_if_missing: true }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('config.size is required');
  });

  test('must be at least 8 MiB', () => {
    const e = thrown(() => fixture.open({ path: fresh(), size: 8 * MiB - 1, create_if_missing: true }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain(String(8 * MiB - 1));
    expect(e.message).toContain('8 MiB');
  });

  test('reaches libpmemobj intact above 4 GiB (more than tmpfs holds: no space, nothing left behind)', () => {
    for (const size of [2 ** 36 + 4096, 2 ** 53]) {
      const file = fresh();
      const e = thrown(() => fixture.open({ path: file, size, create_if_missing: true }));
      // tmpfs refuses the whole allocation at once; the message carries the exact byte count.
      expect(e.code).toBe('OUT_OF_MEMORY');
      expect(e.message).toContain(`of ${size} bytes`);
      expect(e.message).toContain(`${size}: No space left on device`);
      expect(fs.existsSync(file)).toBe(false);
    }
  });

  test('must be a whole number up to 2^53', () => {
    for (const size of [2 ** 53 + 2, 1.5, -1, '8388608', Number.NaN]) {
      const e = thrown(() => fixture.open({ path: fresh(), size, create_if_missing: true }));
      expect(e.code).toBe('CONFIG_TYPE_ERROR');
      expect(e.status).toBe(6);
    }
  });

  test('may be a BigInt', () => {
    const db = fixture.open({ path: fresh(), size: BigInt(8 * MiB), create_if_missing: true });
    db.close();
  });
});

describe('layout', () => {
  test("another engine's pool is refused, naming both engines", () => {
    const file = fresh();
    pmempoolCreate(file, 'pmemkv_cmap');
    const e = thrown(() => fixture.open({ path: file, create_if_missing: true }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('cmap engine (layout "pmemkv_cmap")');
    expect(e.message).toContain('fixture engine (layout "pmemkv_fixture")');
    expect(e.message).toContain('layout mismatch');
  });

  test('a file that is not a pool is refused before libpmemobj opens it, and left as it was', () => {
    const file = fresh();
    fs.writeFileSync(file, Buffer.alloc(8 * MiB, 1));
    const e = thrown(() => fixture.open({ path: file, create_if_missing: true }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe(
      `pool file ${file} is not a pmemkv pool: it begins with "\\x01\\x01\\x01\\x01\\x01\\x01\\x01\\x01", ` +
        `not with libpmemobj's signature "PMEMOBJ\\x00"; the file is left as it is: remove it, or give another path`,
    );
    expect(fs.readFileSync(file).equals(Buffer.alloc(8 * MiB, 1))).toBe(true);
  });

  test("a pool header libpmemobj refuses is a damaged pool, with libpmemobj's reason", () => {
    const file = fresh();
    pmempoolCreate(file, 'pmemkv_fixture');
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(64, 0xab), 0, 64, 128);  // inside the checksummed pool header
    fs.closeSync(fd);
    const e = thrown(() => fixture.open({ path: file }));
    expect(e.code).toBe('UNKNOWN_ERROR');
    expect(e.message).toMatch(/^the pool at .* is damaged \(libpmemobj refuses it: .+\): check it with `pmempool check`/);
  });
});

describe('a pool open elsewhere', () => {
  test('another process gets POOL_LOCKED saying the pool is in use', () => {
    const file = fresh();
    const db = fixture.open({ path: file, size: 8 * MiB, create_if_missing: true });
    const script = `try { require(${JSON.stringify(FIXTURE_ADDON)}).open({ path: ${JSON.stringify(file)} }); }
      catch (e) { process.stdout.write(JSON.stringify([e.code, e.message])); }`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    db.close();
    const [code, message] = JSON.parse(r.stdout) as [string, string];
    expect(code).toBe('POOL_LOCKED');
    expect(message).toContain(`pool file ${file} is in use`);
  });
});

describe('atomic creation', () => {
  const creatingFiles = () => fs.readdirSync(dir).filter((f) => f.includes('.pmemkv-creating.'));

  test('a created pool appears under its name complete, and no temporary file is left', () => {
    const file = fresh();
    fixture.open({ path: file, size: 8 * MiB, create_if_missing: true }).close();
    expect(fs.readFileSync(file).subarray(0, 7).toString()).toBe('PMEMOBJ');
    expect(creatingFiles()).toEqual([]);
  });

  test("the temporary file of a creation whose process is gone is removed by the next creation of that path", () => {
    const file = fresh();
    // A process that exited: its pid is free (and not reused within this test).
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const abandoned = path.join(dir, `.${path.basename(file)}.pmemkv-creating.${dead.stdout}.0`);
    fs.writeFileSync(abandoned, '');
    const live = path.join(dir, `.${path.basename(file)}.pmemkv-creating.${process.pid}.999`);
    fs.writeFileSync(live, '');  // this process is alive: its file is not touched
    fixture.open({ path: file, size: 8 * MiB, create_if_missing: true }).close();
    expect(fs.existsSync(abandoned)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
    fs.unlinkSync(live);
  });

  test('two processes creating the same new path at once: neither is killed, one pool results', async () => {
    for (let round = 0; round < 6; round++) {
      const file = fresh();
      const script = `const f = require(${JSON.stringify(FIXTURE_ADDON)});
        try { const db = f.open({ path: ${JSON.stringify(file)}, size: ${8 * MiB}, create_if_missing: true });
              db.put('k' + process.pid, 'v'); db.close(); process.stdout.write('ok'); }
        catch (e) { process.stdout.write(e.code); }`;
      const children = [0, 1].map(() => require('node:child_process').spawn(process.execPath, ['-e', script]));
      const results = children.map(
        (c: import('node:child_process').ChildProcess) =>
          new Promise<[string, number | null, string | null]>((resolve) => {
            let out = '';
            c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
            c.on('close', (code: number | null, signal: string | null) => resolve([out, code, signal]));
          }),
      );
      const rs = await Promise.all(results);
      {
        for (const [out, code, signal] of rs) {
          expect(signal).toBeNull();
          expect(code).toBe(0);
          expect(['ok', 'POOL_LOCKED']).toContain(out);
        }
        expect(rs.some(([out]) => out === 'ok')).toBe(true);
        const db = fixture.open({ path: file });
        expect(db.count(undefined)).toBe(rs.filter(([out]) => out === 'ok').length);
        db.close();
        expect(creatingFiles()).toEqual([]);
      }
    }
  });
});

describe('a failed open', () => {
  test('leaves a pool that libpmemobj refuses byte-for-byte as it was', () => {
    const file = fresh();
    const db = fixture.open({ path: file, size: 8 * MiB, create_if_missing: true });
    db.put('k', 'v');
    db.close();
    // Damage the heap's header (libpmemobj refuses the pool after it has written its open
    // markers into the first 8 KiB).
    const fd = fs.openSync(file, 'r+');
    const desc = Buffer.alloc(24);
    fs.readSync(fd, desc, 0, 24, 4096 + 1024);
    const heapOffset = Number(desc.readBigUInt64LE(16));
    fs.writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, heapOffset);
    fs.closeSync(fd);
    const before = fs.readFileSync(file);
    const e = thrown(() => fixture.open({ path: file }));
    expect(e.code).toBe('UNKNOWN_ERROR');
    expect(e.message).toContain('is damaged');
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});

describe('config values', () => {
  test('engine keys of the wrong type are CONFIG_TYPE_ERROR', () => {
    const e = thrown(() => fixture.open({ path: fresh(), size: 8 * MiB, create_if_missing: true, extra: () => 1 }));
    expect(e.code).toBe('CONFIG_TYPE_ERROR');
    expect(e.message).toContain('config.extra');
  });

  test('path of the wrong type is CONFIG_TYPE_ERROR', () => {
    expect(thrown(() => fixture.open({ path: 5, size: 8 * MiB })).code).toBe('CONFIG_TYPE_ERROR');
  });

  test('a config that is not an object is INVALID_ARGUMENT', () => {
    expect(thrown(() => (fixture.open as (c: unknown) => unknown)('nope')).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => (fixture.open as () => unknown)()).code).toBe('INVALID_ARGUMENT');
  });
});
