// The SDK's journal (journal.h): builds and runs the native test program test/journal_test.cc,
// which drives it through Pool (no N-API in between), including child processes killed with
// SIGKILL in the middle of commits.
import { expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const source = path.join(__dirname, 'journal_test.cc');
const binary = path.join(root, 'build', 'test', 'journal_test');

test.each([
  ['persistent memory (PMEM_IS_PMEM_FORCE=1: flushes and fences)', '1'],
  ['an ordinary file (no force: msyncs, payloads checked by checksum)', undefined],
])('journal_test.cc passes on %s (commits durable, logged commits redone on open, format 1 converted, damage refused, all or nothing under SIGKILL)', (_medium, force) => {
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  const cc = spawnSync(process.env.CXX ?? 'g++', ['-std=c++17', '-O2', '-Wall', '-Wextra', '-Werror', `-I${path.join(root, 'include')}`, source, '-lpmemobj', '-lpmem', '-o', binary], {
    encoding: 'utf8',
  });
  expect({ status: cc.status, stderr: cc.stderr }).toEqual({ status: 0, stderr: '' });
  const env = { ...process.env };
  delete env.PMEM_IS_PMEM_FORCE;
  if (force !== undefined) env.PMEM_IS_PMEM_FORCE = force;
  const run = spawnSync(binary, [], { encoding: 'utf8', timeout: 120_000, env });
  expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  expect(run.stdout).toMatch(/40 kills after \d+ acknowledged commits, \d+ of them found commits in the log/);
  expect(run.stdout).toMatch(/6 tests, 0 failed checks/);
});
