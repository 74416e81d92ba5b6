'use strict';
// memtree is found by name from an application's node_modules, with no registerEngine: core
// resolves `pmemkv-engine-memtree` from the application's directory (here: a child process
// whose working directory has node_modules/pmemkv-engine-memtree linked to this package).
const { describe, expect, test } = require('@jest/globals');
const { execFileSync } = require('node:child_process');
const { mkdtempSync, mkdirSync, rmSync, symlinkSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

describe('discovery by name', () => {
  test("open('memtree') loads pmemkv-engine-memtree from the application's node_modules", () => {
    const app = mkdtempSync(join(tmpdir(), 'memtree-app-'));
    try {
      mkdirSync(join(app, 'node_modules', '@pmemkv'), { recursive: true });
      symlinkSync(resolve(__dirname, '..'), join(app, 'node_modules', 'pmemkv-engine-memtree'), 'dir');
      symlinkSync(require.resolve('@pmemkv/core/package.json').replace(/\/package\.json$/, ''), join(app, 'node_modules', '@pmemkv', 'core'), 'dir');
      const script = `
        const { open, listEngines } = require('@pmemkv/core');
        const db = open('memtree');
        db.put('b', '2'); db.put('a', '1'); db.put('c', '3');
        const out = { engines: listEngines(), engine: db.engine, keys: [...db.keys({ reverse: true })], a: db.get('a') };
        db.close();
        process.stdout.write(JSON.stringify(out));`;
      const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: app, encoding: 'utf8' }));
      expect(out.engines).toContain('memtree');
      expect(out.keys).toEqual(['c', 'b', 'a']);
      expect(out.a).toBe('1');
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});
