/**
 * Temporary directories for campaign pools: PMEMKV_TEST_DIR, else /dev/shm (tmpfs survives a
 * process kill, which the crash campaign needs), else the OS temp dir. The caller removes them.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempBase(): string {
  const fromEnv = process.env.PMEMKV_TEST_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

export function makeTempDir(label: string): string {
  return mkdtempSync(join(tempBase(), `pmemkv-rel-${label.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}-`));
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Bytes as printable text for failure lines: ASCII as is, the rest as \xHH. */
export function showBytes(bytes: Buffer): string {
  let out = '';
  for (const c of bytes) out += c >= 0x20 && c < 0x7f && c !== 0x5c && c !== 0x22 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return `"${out}"`;
}
