// pmemkv's former engine names (kvtree3 -> tree3, btree -> stree, vsmap -> vmap): an alias opens
// the current engine, warns once per process with a DeprecationWarning naming the current name,
// and never appears in listEngines(). The once-per-process part runs in a child process, whose
// warnings are all its own.
import { describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { listEngines, open, registerEngine, unregisterEngine } from '../src';
import { blackhole } from '../src/engines/blackhole';
import { LEGACY_ALIASES } from '../src/engines/known';

const coreDist = resolve(__dirname, '..', 'dist', 'index.js');

describe('legacy engine names', () => {
  test('one table: kvtree3 -> tree3, btree -> stree, vsmap -> vmap, each with its own warning code', () => {
    expect([...LEGACY_ALIASES].map(([alias, a]) => [alias, a.engine, a.warningCode])).toEqual([
      ['kvtree3', 'tree3', 'PMEMKV_DEP_KVTREE3'],
      ['btree', 'stree', 'PMEMKV_DEP_BTREE'],
      ['vsmap', 'vmap', 'PMEMKV_DEP_VSMAP'],
    ]);
  });

  test('an alias opens the current engine, warns once per process naming the current name, and is not listed', () => {
    const script = `
      const core = require(${JSON.stringify(coreDist)});
      const warnings = [];
      process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));
      const names = [];
      const blackhole = core.findEngine('blackhole');
      for (const name of ['tree3', 'vmap']) {
        core.registerEngine({ ...blackhole, name, packageName: 'fake-' + name, open: (c) => (names.push(name), blackhole.open(c)) });
      }
      for (let i = 0; i < 3; i++) for (const alias of ['kvtree3', 'vsmap']) core.open(alias, {}).close();
      setImmediate(() => console.log(JSON.stringify({ warnings, names, listed: core.listEngines() })));
    `;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(child.stderr).not.toMatch(/Error/);
    const out = JSON.parse(child.stdout) as { warnings: { name: string; code: string; message: string }[]; names: string[]; listed: string[] };
    expect(out.names).toEqual(['tree3', 'vmap', 'tree3', 'vmap', 'tree3', 'vmap']);
    expect(out.warnings.map((w) => [w.name, w.code])).toEqual([
      ['DeprecationWarning', 'PMEMKV_DEP_KVTREE3'],
      ['DeprecationWarning', 'PMEMKV_DEP_VSMAP'],
    ]);
    expect(out.warnings[0]!.message).toContain("'tree3'");
    expect(out.warnings[1]!.message).toContain("'vmap'");
    for (const alias of LEGACY_ALIASES.keys()) expect(out.listed).not.toContain(alias);
    expect(out.listed).toEqual(expect.arrayContaining(['tree3', 'vmap']));
  });

  test("btree opens stree (whichever stree discovery finds: here a registered one)", () => {
    const opened: string[] = [];
    registerEngine({ ...blackhole, name: 'stree', packageName: 'fake-stree', open: (c) => (opened.push('stree'), blackhole.open(c)) });
    try {
      open('btree', {}).close();
    } finally {
      unregisterEngine('stree');
    }
    expect(opened).toEqual(['stree']);
  });

  test('an alias resolves before registered engines and is never listed', () => {
    registerEngine({ ...blackhole, name: 'vmap' });
    try {
      expect(() => open('vsmap', {}).close()).not.toThrow();
      expect(listEngines()).not.toContain('vsmap');
    } finally {
      unregisterEngine('vmap');
    }
  });
});
