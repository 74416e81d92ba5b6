// The JS binding: library version, pmem detection, pool check and pool info.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { checkPool, includeDir, isPmem, libraryVersion, poolInfo } from '../src/index';
import { MiB, loadFixture, makeTempDir, pmempoolCreate, removeTempDir, thrown } from './helpers';

const packageRoot = path.join(__dirname, '..');
let dir: string;

beforeAll(() => {
  dir = makeTempDir();
});
afterAll(() => {
  removeTempDir(dir);
});

/** Runs `script` in a fresh node process (libpmem reads PMEM_IS_PMEM_FORCE once, at load). */
function runNode(script: string, env: NodeJS.ProcessEnv, args: string[] = ['-e']): string {
  const r = spawnSync(process.execPath, [...args, script], { env, encoding: 'utf8', cwd: packageRoot });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return r.stdout.trim();
}

describe('libraryVersion', () => {
  test('is the libpmemobj API version, major.minor', () => {
    const v = libraryVersion();
    expect(v).toMatch(/^\d+\.\d+$/);
    expect(Number(v.split('.')[0])).toBeGreaterThanOrEqual(2);
  });
});

describe('isPmem', () => {
  test('follows PMEM_IS_PMEM_FORCE, which libpmem reads at load', () => {
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, Buffer.alloc(64 * 1024));
    const script = `process.stdout.write(String(require('./dist/index.js').isPmem(${JSON.stringify(file)})))`;
    const { PMEM_IS_PMEM_FORCE: _, ...without } = process.env;
    expect(runNode(script, { ...without, PMEM_IS_PMEM_FORCE: '1' })).toBe('true');
    // No persistent memory on tmpfs or disk: without the override libpmem says no.
    expect(runNode(script, { ...without, PMEM_IS_PMEM_FORCE: '0' })).toBe('false');
  });

  test('a file that cannot be mapped is INVALID_ARGUMENT', () => {
    const e = thrown(() => isPmem(path.join(dir, 'missing')));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.status).toBe(4);
    expect(e.message).toContain('missing');
  });

  test('a path that is not a string is INVALID_ARGUMENT', () => {
    expect(thrown(() => isPmem(42 as unknown as string)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('checkPool', () => {
  test('a fresh pool is consistent, with or without its layout', () => {
    const file = path.join(dir, 'check.pool');
    pmempoolCreate(file, 'pmemkv_x');
    expect(checkPool(file)).toBe(true);
    expect(checkPool(file, 'pmemkv_x')).toBe(true);
  });

  test('another layout is an error naming both', () => {
    const file = path.join(dir, 'check-layout.pool');
    pmempoolCreate(file, 'pmemkv_x');
    const e = thrown(() => checkPool(file, 'pmemkv_y'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('pmemkv_x');
    expect(e.message).toContain('pmemkv_y');
  });

  test('a damaged pool is not consistent', () => {
    const file = path.join(dir, 'damaged.pool');
    pmempoolCreate(file, 'pmemkv_x');
    // Scribble over the heap header, which follows the lanes; the pool header stays intact.
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, 0x302000);
    fs.closeSync(fd);
    expect(checkPool(file)).toBe(false);
  });

  test('a file that is not a pool is an error', () => {
    const file = path.join(dir, 'not-a-pool');
    fs.writeFileSync(file, Buffer.alloc(8 * MiB));
    expect(thrown(() => checkPool(file)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('poolInfo', () => {
  test('reports layout, size and an empty heap for a fresh pool', () => {
    const file = path.join(dir, 'info.pool');
    pmempoolCreate(file, 'pmemkv_x', '9M');
    expect(poolInfo(file)).toEqual({ layout: 'pmemkv_x', size: 9 * MiB, used: 0, objects: 0 });
  });

  test('counts the objects an engine wrote, and leaves out `used` while the pool is open', () => {
    const fixture = loadFixture();
    const file = path.join(dir, 'info-fixture.pool');
    const db = fixture.open({ path: file, size: 8 * MiB, create_if_missing: true });
    db.put('a', Buffer.alloc(1000));
    db.put('b', Buffer.alloc(2000));
    const open = poolInfo(file);
    expect(open).toEqual({ layout: 'pmemkv_fixture', size: 8 * MiB });
    db.close();
    const info = poolInfo(file);
    expect(info.layout).toBe('pmemkv_fixture');
    expect(info.objects).toBe(2);
    // Two entries (16-byte header + key + value) and the 8-byte root, rounded up by the allocator.
    expect(info.used).toBeGreaterThanOrEqual(1017 + 2017 + 8);
    expect(info.used).toBeLessThan(8 * 1024);
  });

  test('a file that is not a pool is INVALID_ARGUMENT', () => {
    const file = path.join(dir, 'text');
    fs.writeFileSync(file, 'hello');
    const e = thrown(() => poolInfo(file));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain(`pool file ${file} is not a pmemkv pool: it is 5 bytes`);
  });

  test('a poolset is INVALID_ARGUMENT (only single-file pools are read)', () => {
    const file = path.join(dir, 'info.set');
    fs.writeFileSync(file, `PMEMPOOLSET\n16M ${path.join(dir, 'info.part')}\n`);
    const e = thrown(() => poolInfo(file));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('not a single-file libpmemobj pool');
  });
});

describe('includeDir', () => {
  test('holds the SDK headers and matches include.js', () => {
    for (const h of ['engine.h', 'status.h', 'pool.h', 'tx.h', 'glue.h', 'glue/registry.h'])
      expect(fs.existsSync(path.join(includeDir, 'pmemkv', h))).toBe(true);
    expect(require('../include.js')).toBe(includeDir);
  });
});

describe('ES module entry', () => {
  test('re-exports the CommonJS build', () => {
    const out = runNode(
      "import * as m from '@pmemkv/native-pmemobj'; process.stdout.write(JSON.stringify([m.libraryVersion(), m.includeDir]))",
      process.env,
      ['--input-type=module', '-e'],
    );
    expect(JSON.parse(out)).toEqual([libraryVersion(), includeDir]);
  });
});
