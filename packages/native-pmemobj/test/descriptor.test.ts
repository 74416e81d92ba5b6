// An engine's identity is declared once, in its EngineDescriptor, and PMEMKV_REGISTER_ENGINE
// checks the declaration against the engine class at compile time: an engine that declares
// transactions without an atomic Batch (or sorted without a cursor, and so on) does not build.
// Each case compiles a small engine with g++ -fsyntax-only against the SDK headers.
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { makeTempDir, removeTempDir } from './helpers';

const nodeHeaders = ['/usr/include/node', path.join(process.execPath, '..', '..', 'include', 'node')].find((d) => fs.existsSync(path.join(d, 'node_api.h')));
const includes = [path.join(__dirname, '..', 'include'), require('node-addon-api').include_dir as string, ...(nodeHeaders ? [nodeHeaders] : [])];

function compile(descriptor: string, members: string): { ok: boolean; errors: string } {
  const dir = makeTempDir();
  try {
    const file = path.join(dir, 'engine.cc');
    fs.writeFileSync(
      file,
      `#include <pmemkv/glue.h>
class E final : public pmemkv::Engine {
 public:
  static pmemkv::Status Open(const pmemkv::Config&, std::unique_ptr<pmemkv::Engine>*) { return pmemkv::Status::OK(); }
  pmemkv::Status Put(pmemkv::Slice, pmemkv::Slice) override { return pmemkv::Status::OK(); }
  pmemkv::Status Get(pmemkv::Slice, pmemkv::ValueReceiver&) override { return pmemkv::Status::NotFound(); }
  pmemkv::Status Remove(pmemkv::Slice) override { return pmemkv::Status::NotFound(); }
  ${members}
};
constexpr pmemkv::EngineDescriptor kDescriptor = {${descriptor}};
PMEMKV_REGISTER_ENGINE(E, kDescriptor);
`,
    );
    const r = spawnSync('g++', ['-std=c++17', '-fsyntax-only', '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=e', ...includes.map((i) => `-I${i}`), file], { encoding: 'utf8' });
    return { ok: r.status === 0, errors: r.stderr };
  } finally {
    removeTempDir(dir);
  }
}

const walk = 'pmemkv::Status WalkChunk(pmemkv::Slice, uint64_t, pmemkv::Visitor&, std::string*, bool* more) override { *more = false; return pmemkv::Status::OK(); }';
const cursor = 'pmemkv::Status NewCursor(std::unique_ptr<pmemkv::Cursor>*) override { return pmemkv::Status::OK(); }';
const batch = 'pmemkv::Status Batch(const std::vector<pmemkv::BatchOp>&) override { return pmemkv::Status::OK(); }';

describe('descriptor checks at compile time', () => {
  test('a consistent declaration builds', () => {
    const r = compile('.name = "good", .layout = "pmemkv_good", .layout_version = 1, .thread_model = pmemkv::kSingleWriter, .persistent = true, .sorted = true, .transactions = true', `${cursor} ${batch}`);
    expect(r.errors).toBe('');
    expect(r.ok).toBe(true);
  }, 60_000);

  const refused: [string, string, string, string][] = [
    ['transactions without an atomic Batch', '.name = "t", .layout = "pmemkv_t", .persistent = true, .transactions = true', walk, 'must override Batch'],
    ['sorted without a cursor', '.name = "s", .layout = "pmemkv_s", .persistent = true, .sorted = true', '', 'must override NewCursor'],
    ['unsorted without a resumable walk', '.name = "u", .layout = "pmemkv_u", .persistent = true', '', 'must override WalkChunk'],
    ['defrag without Defrag', '.name = "d", .layout = "pmemkv_d", .persistent = true, .defrag = true', walk, 'must override Defrag'],
    ['a layout that is not pmemkv_<name>', '.name = "x", .layout = "pmemkv_y", .persistent = true', walk, '"pmemkv_" + its name'],
    ['a name outside the pattern', '.name = "Bad Name", .layout = "pmemkv_Bad Name", .persistent = true', walk, 'engine name must match'],
    ['a narrow write lock on a thread-safe engine', '.name = "n", .layout = "pmemkv_n", .thread_model = pmemkv::kThreadSafe, .narrow_write_lock = true, .persistent = true', walk, 'narrow_write_lock is for kSingleWriter'],
  ];
  for (const [what, descriptor, members, message] of refused) {
    test(`${what} does not build`, () => {
      const r = compile(descriptor, members);
      expect(r.ok).toBe(false);
      expect(r.errors).toContain(message);
    }, 60_000);
  }
});
