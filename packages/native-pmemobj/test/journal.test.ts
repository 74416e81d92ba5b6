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

test('journal_test.cc passes (commits durable, a committed journal redone on open, damage refused, all or nothing under SIGKILL)', () => {
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  const cc = spawnSync(process.env.CXX ?? 'g++', ['-std=c++17', '-O2', '-Wall', '-Wextra', '-Werror', `-I${path.join(root, 'include')}`, source, '-lpmemobj', '-lpmem', '-o', binary], {
    encoding: 'utf8',
  });
  expect({ status: cc.status, stderr: cc.stderr }).toEqual({ status: 0, stderr: '' });
  const run = spawnSync(binary, [], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, PMEM_IS_PMEM_FORCE: '1' } });
  expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  expect(run.stdout).toMatch(/40 kills, \d+ of them found a commit in flight/);
  expect(run.stdout).toMatch(/5 tests, 0 failed checks/);
});
