'use strict';
// Builds the fixture engine addon (build/Release/fixture.node) when it is missing or older
// than its sources or the SDK headers. Used as jest's globalSetup and by `pnpm run build:fixture`.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const dir = __dirname;
const addon = path.join(dir, 'build', 'Release', 'fixture.node');
const includeDir = path.join(dir, '..', '..', 'include', 'pmemkv');

function newestSource() {
  const headers = fs.readdirSync(includeDir, { recursive: true }).map((f) => path.join(includeDir, String(f)));
  const files = [path.join(dir, 'binding.gyp'), path.join(dir, 'fixture_engine.cc'), ...headers];
  return Math.max(...files.map((f) => fs.statSync(f).mtimeMs));
}

function buildFixture() {
  if (fs.existsSync(addon) && fs.statSync(addon).mtimeMs >= newestSource()) return;
  const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  const r = spawnSync(process.execPath, [nodeGyp, 'rebuild'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`building the fixture engine failed (is npm_config_nodedir set?):\n${r.stdout}\n${r.stderr}`);
  }
}

module.exports = buildFixture;
if (require.main === module) buildFixture();
