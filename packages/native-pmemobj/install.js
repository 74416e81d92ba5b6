'use strict';
/**
 * The `install` lifecycle script of every native pmemkv package (this one and the engines):
 *
 *   "scripts": { "install": "node -e \"require('@pmemkv/native-pmemobj/install')()\"" }
 *
 * It runs in the package's folder and decides, without a compiler:
 *   - a development checkout (the package is not inside node_modules): nothing to do, the
 *     workspace's build makes the addon (and dist/ may not exist yet);
 *   - `--build-from-source` (npm_config_build_from_source) or PMEMKV_BUILD_FROM_SOURCE=1:
 *     compile with node-gyp;
 *   - a prebuild for this platform loads: done, nothing is compiled;
 *   - it does not load because libpmemobj is missing: warn with the package to install and
 *     succeed (compiling could not help; loading the engine names the package again);
 *   - no prebuild matches, or the system's glibc/libstdc++ is too old for it: compile with
 *     node-gyp, and if that fails say exactly what to install.
 * Exit status: 0 when the package is usable or only libpmemobj is missing, else node-gyp's.
 */
const { spawnSync } = require('node:child_process');
const { existsSync, realpathSync } = require('node:fs');
const path = require('node:path');

/** The shared messages (dist/: only loaded once the package is known to be an installed one). */
function messages() {
  return require('./dist/addon-load.js');
}

function say(name, text) {
  process.stderr.write(`${name}: ${text}\n`);
}

/** node-gyp's CLI: the one npm (or pnpm) runs scripts with, else a dependency, else PATH. */
function nodeGypCommand() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  try {
    const pkgJson = require.resolve('node-gyp/package.json');
    const bin = require(pkgJson).bin;
    return [process.execPath, path.join(path.dirname(pkgJson), typeof bin === 'string' ? bin : bin['node-gyp'])];
  } catch {
    return ['node-gyp'];
  }
}

function build(dir, name, why) {
  const { BUILD_PACKAGES } = messages();
  say(name, `${why}: compiling the addon with node-gyp (needs: apt-get install ${BUILD_PACKAGES})`);
  const [cmd, ...args] = nodeGypCommand();
  const r = spawnSync(cmd, [...args, 'rebuild', '--release'], { cwd: dir, stdio: 'inherit' });
  if (r.status === 0) return 0;
  say(name, `building from source failed: install a C++ compiler, make, python3 and the PMDK headers (apt-get install ${BUILD_PACKAGES}), then run: npm rebuild ${name} --build-from-source`);
  return r.status ?? 1;
}

/** Installs the addon of the package in `dir` (default: the working directory). Returns the exit status. */
function install(dir = process.cwd()) {
  const name = require(path.join(dir, 'package.json')).name;
  if (!realpathSync(dir).split(path.sep).includes('node_modules')) return 0;
  const fromSource = process.env.npm_config_build_from_source === 'true' || process.env.PMEMKV_BUILD_FROM_SOURCE === '1';
  if (fromSource) return build(dir, name, 'building from source was requested');
  let file;
  try {
    file = require('node-gyp-build').resolve(dir);
  } catch (err) {
    return build(dir, name, `no prebuilt addon for ${process.platform}-${process.arch}`);
  }
  try {
    require(file);
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const { classifyLoadFailure, loadFailureHint } = messages();
    if (classifyLoadFailure(message) === 'missing-pmdk') {
      say(name, `installed, but the prebuilt addon cannot load yet: ${loadFailureHint(message, name)}`);
      return 0;
    }
    return build(dir, name, `the prebuilt addon does not load here (${message})`);
  }
}

module.exports = (dir) => {
  const status = install(dir);
  if (status !== 0) process.exitCode = status;
  return status;
};
module.exports.install = install;
if (require.main === module) module.exports();
