#!/usr/bin/env node
'use strict';
/**
 * Publishes every publishable package (scripts/apply-package-conventions.js decides which) in
 * dependency order, each with `pnpm publish`, which rewrites `workspace:` ranges into the real
 * ones; a version already on the registry is skipped. Then tags the release (`changeset tag`).
 * Run it after `changeset version` (which bumps versions and writes the CHANGELOGs) and a build:
 *
 *   pnpm release --dry-run    # build, then show what would be published: order, versions,
 *                             # ranges on our packages, tarball sizes; publishes nothing
 *   pnpm release              # build, then publish (needs npm credentials) and tag
 *   node scripts/release.js --dry-run packages/engine-cmap   # only these folders (a hotfix)
 *
 * Both first check the packaging conventions and pack every package: a tarball that still
 * holds a `workspace:` range, or a native package without its prebuild, stops the release.
 */
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { publishablePackages, ROOT } = require('./apply-package-conventions.js');

const DRY_RUN = process.argv.includes('--dry-run');
const ONLY = process.argv.slice(2).filter((a) => !a.startsWith('--')).map((a) => path.resolve(ROOT, a));
const DEP_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'];

/** The packages ordered so that each comes after every package of ours it depends on. */
function dependencyOrder(packages) {
  const byName = new Map(packages.map((p) => [p.pkg.name, p]));
  const order = [];
  const state = new Map();
  const visit = (p, trail) => {
    if (state.get(p.pkg.name) === 'done') return;
    if (state.get(p.pkg.name) === 'visiting') throw new Error(`dependency cycle: ${[...trail, p.pkg.name].join(' -> ')}`);
    state.set(p.pkg.name, 'visiting');
    for (const field of DEP_FIELDS) {
      for (const dep of Object.keys(p.pkg[field] ?? {}).sort()) {
        const q = byName.get(dep);
        if (q) visit(q, [...trail, p.pkg.name]);
      }
    }
    state.set(p.pkg.name, 'done');
    order.push(p);
  };
  for (const p of [...packages].sort((a, b) => a.pkg.name.localeCompare(b.pkg.name))) visit(p, []);
  return order;
}

function packedManifest(tarball) {
  return JSON.parse(execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' }));
}

function main() {
  execFileSync(process.execPath, [path.join(__dirname, 'apply-package-conventions.js'), ...ONLY], { stdio: 'inherit' });
  const ours = new Set(publishablePackages().map((p) => p.pkg.name));
  const order = dependencyOrder(publishablePackages().filter((p) => ONLY.length === 0 || ONLY.includes(p.dir)));
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'pmemkv-release-'));
  try {
    const rows = [];
    for (const p of order) {
      if (fs.existsSync(path.join(p.dir, 'binding.gyp')) && !fs.existsSync(path.join(p.dir, 'prebuilds', 'linux-x64'))) {
        throw new Error(`${p.pkg.name} has no prebuilds/linux-x64: build it before releasing`);
      }
      const out = execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: p.dir, encoding: 'utf8' });
      const tarball = out.trim().split('\n').filter((l) => l.endsWith('.tgz')).pop();
      const file = path.isAbsolute(tarball) ? tarball : path.join(dest, path.basename(tarball));
      const manifest = packedManifest(file);
      const ranges = [];
      for (const field of DEP_FIELDS) {
        for (const [dep, range] of Object.entries(manifest[field] ?? {})) {
          if (String(range).startsWith('workspace:')) throw new Error(`${p.pkg.name}: the packed ${field} still has ${dep}@${range}`);
          if (ours.has(dep)) ranges.push(`${field === 'peerDependencies' ? 'peer ' : ''}${dep}@${range}`);
        }
      }
      rows.push({ p, file, size: fs.statSync(file).size, ranges });
    }
    console.log(`${DRY_RUN ? 'would publish' : 'publishing'}, in this order (tag: latest):`);
    rows.forEach(({ p, size, ranges }, i) => {
      console.log(`${String(i + 1).padStart(2)}. ${p.pkg.name}@${p.pkg.version}  ${(size / 1024).toFixed(1)} KiB  ${ranges.join(', ') || '(no dependency on our packages)'}`);
    });
    if (DRY_RUN) {
      console.log('dry run: nothing published (no workspace: range in any tarball)');
      return;
    }
    for (const { p } of rows) {
      const seen = spawnSync('npm', ['view', `${p.pkg.name}@${p.pkg.version}`, 'version'], { encoding: 'utf8' });
      if (seen.status === 0 && seen.stdout.trim() === p.pkg.version) {
        console.log(`${p.pkg.name}@${p.pkg.version} is already published: skipped`);
        continue;
      }
      const r = spawnSync('pnpm', ['publish', '--access', 'public', '--no-git-checks'], { cwd: p.dir, stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`publishing ${p.pkg.name}@${p.pkg.version} failed; the packages before it are published, fix it and run again`);
    }
    execFileSync('pnpm', ['exec', 'changeset', 'tag'], { cwd: ROOT, stdio: 'inherit' });
  } finally {
    fs.rmSync(dest, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  console.error(`release: ${err.message}`);
  process.exit(1);
}
