// Test helpers of the stree package: temporary pool directories and opening stree with
// Buffer keys and values, shared by the stree-specific tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { open, registerEngine, type Database } from '@pmemkv/core';
import plugin from '../src/index';

registerEngine(plugin);

export type BufferDb = Database<Buffer, Buffer>;

/** A fresh directory for pools (under /dev/shm when it exists); remove it with removeDir. */
export function makeDir(): string {
  return fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'pmemkv-stree-'));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export function openStree(poolPath: string, extra: Record<string, unknown> = {}): BufferDb {
  const encodings = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
  return open('stree', { path: poolPath, size: 128 * 1024 * 1024, create_if_missing: 1, ...extra }, encodings);
}
