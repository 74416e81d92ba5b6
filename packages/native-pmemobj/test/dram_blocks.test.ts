// The DRAM heap of volatile engines (dram_blocks.h, volatile.h): builds and runs the native test
// program test/dram_blocks_test.cc (no N-API in between).
import { expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const source = path.join(__dirname, 'dram_blocks_test.cc');
const binary = path.join(root, 'build', 'test', 'dram_blocks_test');

test('dram_blocks_test.cc passes (blocks intact and disjoint, reuse, cross-thread frees, limits, chunks kept for the next heap)', () => {
  fs.mkdirSync(path.dirname(binary), { recursive: true });
  const cc = spawnSync(process.env.CXX ?? 'g++', ['-std=c++17', '-O2', '-Wall', '-Wextra', '-Werror', `-I${path.join(root, 'include')}`, source, '-lpthread', '-o', binary], {
    encoding: 'utf8',
  });
  expect({ status: cc.status, stderr: cc.stderr }).toEqual({ status: 0, stderr: '' });
  const run = spawnSync(binary, [], { encoding: 'utf8', timeout: 120_000 });
  expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  expect(run.stdout).toMatch(/6 tests, 0 failed checks/);
}, 180_000);
