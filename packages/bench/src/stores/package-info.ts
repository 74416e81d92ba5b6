/**
 * Where a package is installed and its version, resolved the way the bench loads it: from the
 * application (the working directory) first, then from this package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const bases = [join(process.cwd(), 'noop.js'), __filename];

/** The file `require(name)` loads, or undefined when the package is not installed. */
export function resolvePackage(name: string): string | undefined {
  for (const base of bases) {
    try {
      return createRequire(base).resolve(name);
    } catch {
      // not installed relative to this base
    }
  }
  return undefined;
}

/** `require(name)` from the application or from this package. */
export function requirePackage<T>(name: string): T {
  const file = resolvePackage(name);
  if (file === undefined) throw new Error(`${name} is not installed (or not built: its main file is missing)`);
  return require(file) as T;
}

/** "name version" of an installed package, or just the name when its package.json is not found. */
export function packageLabel(name: string): string {
  const file = resolvePackage(name);
  if (file === undefined) return name;
  for (let dir = dirname(file); dirname(dir) !== dir; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    try {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return `${name} ${pkg.version ?? ''}`.trim();
    } catch {
      // unreadable manifest: keep looking upwards
    }
  }
  return name;
}
