// Built-in key comparators (comparator.h): builds and runs the native test program
// test/comparator_test.cc, which checks orders, ranges and the stored-name rules.
import { expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const source = path.join(__dirname, 'comparator_test.cc');
const binary = path.join(root, 'build', 'test', 'comparator_test');

test('comparator_test.cc passes (orders, ranges, config names, stored-name checks)', () => {
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  const cc = spawnSync(process.env.CXX ?? 'g++', ['-std=c++17', '-O2', '-Wall', '-Wextra', '-Werror', `-I${path.join(root, 'include')}`, source, '-lpmemobj', '-o', binary], {
    encoding: 'utf8',
  });
  expect({ status: cc.status, stderr: cc.stderr }).toEqual({ status: 0, stderr: '' });
  const run = spawnSync(binary, [], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, PMEM_IS_PMEM_FORCE: '1' } });
  expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  expect(run.stdout).toMatch(/\d+ tests, 0 failed checks/);
});
