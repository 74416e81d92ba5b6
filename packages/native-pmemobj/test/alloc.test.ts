// The SDK's allocation classes (alloc.h): builds and runs the native test program
// test/alloc_test.cc, which drives libpmemobj directly through Pool (no N-API in between).
import { expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const source = path.join(__dirname, 'alloc_test.cc');
const binary = path.join(root, 'build', 'test', 'alloc_test');

test('alloc_test.cc passes (classes registered, small pools usable, mixed churn never full)', () => {
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  const cc = spawnSync(process.env.CXX ?? 'g++', ['-std=c++17', '-O2', '-Wall', '-Wextra', '-Werror', `-I${path.join(root, 'include')}`, source, '-lpmemobj', '-o', binary], {
    encoding: 'utf8',
  });
  expect({ status: cc.status, stderr: cc.stderr }).toEqual({ status: 0, stderr: '' });
  const run = spawnSync(binary, [], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, PMEM_IS_PMEM_FORCE: '1' } });
  expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  expect(run.stdout).toMatch(/\d+ tests, 0 failed checks/);
});
