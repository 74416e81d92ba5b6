#!/usr/bin/env node
'use strict';
/**
 * The conventions every publishable package of this repository follows, checked (default) or
 * applied (`--fix`) in one place, so a new engine package needs no hand-written packaging:
 *
 *   node scripts/apply-package-conventions.js          # check: list every deviation, exit 1 if any
 *   node scripts/apply-package-conventions.js --fix    # apply them where they can be applied
 *   node scripts/apply-package-conventions.js --fix packages/engine-x   # only to these folders
 *
 * Publishable: a package.json under packages/* or examples/* without `"private": true`.
 * Every one has: license BSD-3-Clause and a LICENSE file (the repository's), a README.md,
 * `repository` with its directory, `engines.node`, no source maps in its tarball, and for each
 * `exports` entry that has an `import` condition, types per condition (`.d.mts` beside the
 * `.mjs`, `.d.ts` beside the CommonJS build), so ESM and CJS consumers each get types of the
 * module they load; `"type": "commonjs"` (the builds are CommonJS).
 * Native packages (a binding.gyp) also have: the shared install script (the prebuild, or
 * node-gyp when none fits; see native-pmemobj/install.js), `os`/`cpu` of the prebuilds, and
 * `prebuilds` plus the C++ sources in `files` so --build-from-source works from the tarball.
 * Engine packages (@pmemkv/engine-*) also have: @pmemkv/core as a peer dependency
 * (`workspace:^`, published as the `^` range of core's version) and an ESM types file
 * esm/index.d.mts that declares the default export as the plugin (written by --fix when
 * esm/index.mjs is the standard `export default cjs.default; export const plugin = cjs.plugin;`).
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const FIX = process.argv.includes('--fix');
const ONLY = process.argv.slice(2).filter((a) => !a.startsWith('--')).map((a) => path.resolve(ROOT, a));
const REPOSITORY_URL = 'git+https://github.com/pmemkv-js/pmemkv-js.git';
const NODE_RANGE = '>=20.3';
const PREBUILD_OS = ['linux'];
const PREBUILD_CPU = ['x64'];
const NATIVE_INSTALL = "node -e \"require('@pmemkv/native-pmemobj/install')()\"";
const NO_MAPS = '!dist/**/*.map';

const ENGINE_ESM_TYPES = `// Types of the ES module entry (esm/index.mjs): its default export and \`plugin\` are the
// engine's plugin, the same object the CommonJS build exports as \`default\` and \`plugin\`.
import cjs from '../dist/index.js';

export declare const plugin: typeof cjs.plugin;
export default plugin;
`;

/** Every workspace package directory that may hold a publishable package. */
function packageDirs() {
  const dirs = [];
  for (const parent of ['packages', 'examples']) {
    const base = path.join(ROOT, parent);
    if (!fs.existsSync(base)) continue;
    for (const entry of fs.readdirSync(base, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === 'node_modules') continue;
      const dir = path.join(base, entry.name);
      if (fs.existsSync(path.join(dir, 'package.json'))) dirs.push(dir);
    }
  }
  return dirs.sort();
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Publishable packages: { dir, rel, file, pkg }. */
function publishablePackages() {
  return packageDirs()
    .map((dir) => ({ dir, rel: path.relative(ROOT, dir), file: path.join(dir, 'package.json'), pkg: readJson(path.join(dir, 'package.json')) }))
    .filter((p) => p.pkg.private !== true);
}

function sameJson(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `"./esm/x.mjs"` -> `"./esm/x.d.mts"`; `"./dist/x.js"` -> `"./dist/x.d.ts"`. */
function typesOf(target) {
  return target.replace(/\.mjs$/, '.d.mts').replace(/\.js$/, '.d.ts');
}

/** The exports entry with types nested per condition, or the entry itself when it has no import condition. */
function nestedExport(entry) {
  if (entry === null || typeof entry !== 'object' || entry.import === undefined) return entry;
  const flat = (c) => (typeof c === 'string' ? c : c.default);
  const importTarget = flat(entry.import);
  const requireTarget = flat(entry.require);
  const out = { import: { types: typesOf(importTarget), default: importTarget } };
  if (requireTarget !== undefined) out.require = { types: typesOf(requireTarget), default: requireTarget };
  return out;
}

/** Applies (or, without --fix, reports) the conventions to one package; returns the problems left. */
function conform({ dir, rel, file, pkg }) {
  const problems = [];
  const want = (ok, what, fix) => {
    if (ok) return;
    if (FIX && fix) fix();
    else problems.push(what);
  };
  const native = fs.existsSync(path.join(dir, 'binding.gyp'));
  const engine = pkg.name.startsWith('@pmemkv/engine-');

  want(pkg.license === 'BSD-3-Clause', 'license must be BSD-3-Clause', () => { pkg.license = 'BSD-3-Clause'; });
  want(fs.existsSync(path.join(dir, 'LICENSE')), 'LICENSE file missing', () => fs.copyFileSync(path.join(ROOT, 'LICENSE'), path.join(dir, 'LICENSE')));
  want(fs.existsSync(path.join(dir, 'README.md')), 'README.md missing (write one: what it is, quick start, install, limits)');
  const repository = { type: 'git', url: REPOSITORY_URL, directory: rel.split(path.sep).join('/') };
  want(sameJson(pkg.repository, repository), `repository must be ${JSON.stringify(repository)}`, () => { pkg.repository = repository; });
  want(pkg.type === 'commonjs', 'type must be "commonjs" (the builds are CommonJS; esm/*.mjs re-export them)', () => { pkg.type = 'commonjs'; });
  want(pkg.engines?.node === NODE_RANGE, `engines.node must be "${NODE_RANGE}"`, () => { pkg.engines = { ...pkg.engines, node: NODE_RANGE }; });
  want(Array.isArray(pkg.files), '"files" must list what is published');
  if (Array.isArray(pkg.files)) {
    want(pkg.files.includes(NO_MAPS), `files must exclude source maps ("${NO_MAPS}")`, () => { pkg.files.push(NO_MAPS); });
  }

  if (pkg.exports && typeof pkg.exports === 'object') {
    for (const [sub, entry] of Object.entries(pkg.exports)) {
      if (entry && typeof entry === 'object' && entry.require !== undefined && entry.import === undefined) {
        problems.push(`exports["${sub}"] has no import condition: add an ES module entry (esm/*.mjs re-exporting the CommonJS build) and its .d.mts`);
      }
      const nested = nestedExport(entry);
      want(sameJson(nested, entry), `exports["${sub}"] must nest types per condition: ${JSON.stringify(nested)}`, () => { pkg.exports[sub] = nested; });
      if (nested && typeof nested === 'object' && nested.import) {
        const dmts = path.join(dir, nested.import.types);
        const mjs = path.join(dir, nested.import.default);
        const standardEntry = fs.existsSync(mjs) && /export const plugin = cjs\.plugin;/.test(fs.readFileSync(mjs, 'utf8'))
          && /export default cjs\.default;/.test(fs.readFileSync(mjs, 'utf8'));
        const fixable = engine && sub === '.' && standardEntry;
        want(fs.existsSync(dmts), `${nested.import.types} missing (ESM types mirroring ${nested.import.default})`,
          fixable ? () => fs.writeFileSync(dmts, ENGINE_ESM_TYPES) : undefined);
      }
    }
  }

  if (native) {
    const install = pkg.name === '@pmemkv/native-pmemobj' ? 'node install.js' : NATIVE_INSTALL;
    want(pkg.scripts?.install === install, `scripts.install must be ${JSON.stringify(install)}`, () => { pkg.scripts = { ...pkg.scripts, install }; });
    want(sameJson(pkg.os, PREBUILD_OS), `os must be ${JSON.stringify(PREBUILD_OS)} (where prebuilds and libpmemobj exist)`, () => { pkg.os = PREBUILD_OS; });
    want(sameJson(pkg.cpu, PREBUILD_CPU), `cpu must be ${JSON.stringify(PREBUILD_CPU)} (the prebuilds' architecture)`, () => { pkg.cpu = PREBUILD_CPU; });
    if (Array.isArray(pkg.files)) {
      for (const f of ['prebuilds', 'binding.gyp']) want(pkg.files.includes(f), `files must include "${f}"`, () => { pkg.files.push(f); });
    }
    if (pkg.name !== '@pmemkv/native-pmemobj') {
      want(pkg.dependencies?.['@pmemkv/native-pmemobj'] === 'workspace:^', 'dependencies must have "@pmemkv/native-pmemobj": "workspace:^" (install script, loader, SDK)',
        () => { pkg.dependencies = { ...pkg.dependencies, '@pmemkv/native-pmemobj': 'workspace:^' }; });
      for (const dep of ['node-addon-api', 'node-gyp-build']) {
        want(pkg.dependencies?.[dep] !== undefined, `dependencies must have ${dep} (building from source, loading the prebuild)`);
      }
    }
  }
  if (engine) {
    want(pkg.peerDependencies?.['@pmemkv/core'] === 'workspace:^', 'peerDependencies must have "@pmemkv/core": "workspace:^"',
      () => { pkg.peerDependencies = { ...pkg.peerDependencies, '@pmemkv/core': 'workspace:^' }; });
    want(pkg.devDependencies?.['@pmemkv/core'] !== undefined, 'devDependencies must have "@pmemkv/core": "workspace:*" (tests, typecheck)');
  }

  if (FIX) fs.writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
  return problems;
}

function main() {
  if (!fs.existsSync(path.join(ROOT, 'LICENSE'))) {
    console.error('apply-package-conventions: the repository has no LICENSE file');
    process.exit(1);
  }
  let failed = 0;
  const packages = publishablePackages().filter((p) => ONLY.length === 0 || ONLY.includes(p.dir));
  for (const p of packages) {
    const problems = conform(p);
    if (problems.length === 0) continue;
    failed++;
    console.error(`${p.pkg.name} (${p.rel}):`);
    for (const problem of problems) console.error(`  - ${problem}`);
  }
  if (failed) {
    console.error(`apply-package-conventions: ${failed} of ${packages.length} packages deviate${FIX ? ' (fix the rest by hand)' : '; run with --fix'}`);
    process.exit(1);
  }
  console.log(`apply-package-conventions: ${packages.length} publishable packages follow the conventions`);
}

if (require.main === module) main();
module.exports = { publishablePackages, ROOT };
