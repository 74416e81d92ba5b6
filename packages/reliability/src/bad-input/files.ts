/**
 * The files the bad-input table opens as pools (made by the parent, which runs no engine code):
 * files that are not pools, pools of another engine or layout, and damaged copies of the
 * engine's own base pool (damage.ts). Returns the table rows and the path of each file.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, mkdirSync, openSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { damagesFor, makeDamaged, type Damage } from './damage';
import type { Expect, FileCase } from './table';

const MiB = 1024 * 1024;
const INVALID: Expect = { kind: 'error', codes: ['INVALID_ARGUMENT'] };
const NONE = {};
const CIM = { create_if_missing: 1 };
const COE = { create_or_error_if_exists: 1 };

export interface PreparedFiles {
  readonly cases: FileCase[];
  readonly paths: Record<string, string>;
  /** Damaged files by key, to make a fresh copy before a check_on_open rerun. */
  readonly damaged: Record<string, Damage>;
  /** Cases whose damage did not apply to this pool (e.g. no chain of two entries). */
  readonly notBuilt: string[];
}

export interface PoolSources {
  /** The engine's own closed base pool. */
  readonly base: string;
  readonly size: number;
  /** A closed pool of another persistent engine, when there is one. */
  readonly otherEngine?: { readonly engine: string; readonly path: string };
}

function pmempoolCreate(path: string, layout: string): boolean {
  try {
    execFileSync('pmempool', ['create', '--layout', layout, '--size', String(8 * MiB), 'obj', path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function prepareFiles(dir: string, engine: string, sources: PoolSources, seed: number): PreparedFiles {
  const cases: FileCase[] = [];
  const paths: Record<string, string> = {};
  const damaged: Record<string, Damage> = {};
  const notBuilt: string[] = [];
  const add = (file: string, label: string, path: string, flags: Record<string, unknown>[], expect: Expect) => {
    paths[file] = path;
    cases.push({ file, label, flags, expect });
  };
  const regular = (name: string, bytes: Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, bytes, { mode: 0o640 });
    return p;
  };
  const fifo = (name: string) => {
    const p = join(dir, name);
    execFileSync('mkfifo', ['-m', '0620', p]);
    return p;
  };

  add('missing', 'a path that does not exist', join(dir, 'missing-pool'), [NONE], INVALID);
  const d = join(dir, 'a-directory');
  mkdirSync(d);
  writeFileSync(join(d, 'inside'), 'x');
  add('directory', 'a directory', d, [NONE, CIM, COE], INVALID);
  add('fifo', 'a FIFO', fifo('fifo'), [NONE, CIM, COE], INVALID);
  const link = join(dir, 'link-to-fifo');
  symlinkSync(fifo('linked-fifo'), link);
  add('fifo-link', 'a symbolic link to a FIFO', link, [NONE, CIM], INVALID);
  const dangling = join(dir, 'dangling-link');
  symlinkSync(join(dir, 'nowhere'), dangling);
  add('dangling', 'a dangling symbolic link', dangling, [NONE, CIM], INVALID);
  add('empty', 'a 0-byte file', regular('empty', Buffer.alloc(0)), [NONE, CIM, COE], INVALID);
  add('short', 'a 100-byte file', regular('short', randomBytes(100)), [NONE, CIM], INVALID);
  add('random4k', 'a 4 KiB file of random bytes', regular('random4k', randomBytes(4096)), [NONE], INVALID);
  add('random', 'a 9 MiB file of random bytes', regular('random', randomBytes(9 * MiB)), [NONE, CIM], INVALID);
  add('zeros', 'an 8 MiB file of zeroes', regular('zeros', Buffer.alloc(8 * MiB)), [NONE], INVALID);
  add('devnull', '/dev/null', '/dev/null', [NONE, CIM], INVALID);
  add('devzero', '/dev/zero', '/dev/zero', [NONE], INVALID);
  const headerOnly = join(dir, 'header-only');
  {
    const head = Buffer.alloc(8192);
    const fd = openSync(sources.base, 'r');
    readSync(fd, head, 0, head.length, 0);
    closeSync(fd);
    writeFileSync(headerOnly, head);
  }
  add('header-only', 'the first 8 KiB of a real pool (headers without a heap)', headerOnly, [NONE], { kind: 'damaged' });
  const existing = join(dir, 'existing-pool');
  copyFileSync(sources.base, existing);
  add('existing', 'an existing pool of this engine with create_or_error_if_exists', existing, [COE, { force_create: 1 }], { kind: 'error', codes: ['INVALID_ARGUMENT'], contains: ['exists'] });
  if (sources.otherEngine !== undefined) {
    const other = join(dir, 'other-engine-pool');
    copyFileSync(sources.otherEngine.path, other);
    add('other-engine', `a pool of the ${sources.otherEngine.engine} engine`, other, [NONE, CIM], { kind: 'error', codes: ['INVALID_ARGUMENT'], contains: ['layout'] });
  }
  for (const layout of ['another_layout', 'pmemkv', `pmemkv_${engine}_v2`]) {
    const p = join(dir, `layout-${layout}`);
    if (pmempoolCreate(p, layout)) add(`layout-${layout}`, `a libpmemobj pool with layout "${layout}"`, p, [NONE, CIM], { kind: 'error', codes: ['INVALID_ARGUMENT'], contains: ['layout'] });
    else notBuilt.push(`a pool with layout "${layout}" (pmempool create failed)`);
  }

  damagesFor(engine, seed, sources.size).forEach((damage, i) => {
    const file = `damaged-${i}`;
    const p = join(dir, file);
    let ok: boolean;
    try {
      ok = makeDamaged(sources.base, p, sources.size, damage);
    } catch {
      ok = false;
    }
    if (!ok) {
      notBuilt.push(damage.label);
      return;
    }
    damaged[file] = damage;
    add(file, `damaged pool: ${damage.label}`, p, [NONE], damage.expect);
  });
  return { cases, paths, damaged, notBuilt };
}

/** Makes a fresh damaged copy (an open may have changed the last one, e.g. by recovery). */
export function remakeDamaged(sources: PoolSources, path: string, damage: Damage): void {
  makeDamaged(sources.base, path, sources.size, damage);
}
