import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CONTRACT_VERSION, findEngine, listEngines, open, PmemkvError, registerEngine, unregisterEngine, type EnginePlugin } from '../src';
import { blackhole } from '../src/engines/blackhole';
import { KNOWN_ENGINES } from '../src/engines/known';

const coreDist = resolve(__dirname, '..', 'dist', 'index.js');

function plugin(name: string, extra: Partial<EnginePlugin> = {}): EnginePlugin {
  return { ...blackhole, name, packageName: `pkg-${name}`, ...extra };
}

function thrown(fn: () => unknown): PmemkvError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PmemkvError);
    return err as PmemkvError;
  }
  throw new Error('expected a PmemkvError');
}

/** An application folder with fake engine packages in its node_modules. */
function makeApp(): string {
  const app = mkdtempSync(join(tmpdir(), 'pmemkv-app-'));
  const pkg = (dir: string, source: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: dir.split('node_modules/')[1], main: 'index.js' }));
    writeFileSync(join(dir, 'index.js'), source);
  };
  const engine = (name: string, version: number) => `
    const marker = require('node:path').join(__dirname, 'loaded');
    require('node:fs').writeFileSync(marker, '1');
    module.exports = { default: { name: '${name}', contractVersion: ${version}, packageName: 'x',
      capabilities: { persistent: false, concurrent: false, sorted: false, iterators: true, reverse: false, transactions: false, defrag: false },
      configSchema: { type: 'object', properties: { greeting: { type: 'string' } } },
      open(config) { const m = new Map(); return { put(k, v) { m.set(String(k), Buffer.from(v)); }, get(k) { return m.get(String(k)); },
        exists(k) { return m.has(String(k)); }, remove(k) { return m.delete(String(k)); }, count() { return m.size; },
        scan() { return []; }, scanUnordered() { return { entries: [] }; }, batch() {}, close() {} }; } } };`;
  pkg(join(app, 'node_modules', '@pmemkv', 'engine-scoped'), engine('scoped', CONTRACT_VERSION));
  pkg(join(app, 'node_modules', 'pmemkv-engine-thirdparty'), engine('thirdparty', CONTRACT_VERSION));
  pkg(join(app, 'node_modules', 'pmemkv-engine-future'), engine('future', CONTRACT_VERSION + 1));
  pkg(join(app, 'node_modules', '@pmemkv', 'engine-both'), engine('both', CONTRACT_VERSION).replace("packageName: 'x'", "packageName: 'scoped-wins'"));
  pkg(join(app, 'node_modules', 'pmemkv-engine-both'), engine('both', CONTRACT_VERSION).replace("packageName: 'x'", "packageName: 'convention-loses'"));
  // What "@pmemkv/engine-" + "../x" would resolve to if a bad name ever reached require().
  pkg(join(app, 'node_modules', '@pmemkv', 'x'), engine('x', CONTRACT_VERSION));
  return app;
}

/**
 * Runs a snippet against core's build with `app` as the working directory. NODE_PATH (which
 * package managers' bin wrappers set) is dropped, so only the app and core's location count.
 */
function inApp(app: string, snippet: string): { status: number | null; out: string; err: string } {
  const { NODE_PATH: _nodePath, ...env } = process.env;
  const r = spawnSync(process.execPath, ['-e', `const core = require(${JSON.stringify(coreDist)});\n${snippet}`], { cwd: app, encoding: 'utf8', env });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr };
}

describe('discovery', () => {
  const apps: string[] = [];
  afterAll(() => apps.forEach((a) => rmSync(a, { recursive: true, force: true })));

  test('unknown names give WRONG_ENGINE_NAME listing the installed engines', () => {
    const e = thrown(() => open('nope', {}));
    expect(e.code).toBe('WRONG_ENGINE_NAME');
    expect(e.status).toBe(9);
    expect(e.message).toContain("'nope'");
    expect(e.message).toContain('blackhole');
    // Where engines come from, without making up a package name for 'nope'.
    expect(e.message).not.toContain('@pmemkv/engine-nope');
    expect(e.message).not.toContain('pmemkv-engine-nope');
    expect(e.message).toContain('@pmemkv/engine-<name>');
    expect(e.message).toContain('pmemkv-engine-<name>');
    expect(e.message).toContain('registerEngine(plugin)');
  });

  test('names outside the pattern are refused before any resolution', () => {
    expect(existsSync(coreDist)).toBe(true);
    const app = makeApp();
    apps.push(app);
    for (const bad of ['../x', '@evil/x', 'UPPER', '-dash', '', 'a/b', 'x\u0000']) {
      const r = inApp(app, `try { core.open(${JSON.stringify(bad)}, {}); console.log('opened'); } catch (e) { console.log(e.code); }`);
      expect(r.out).toBe('WRONG_ENGINE_NAME');
    }
    expect(existsSync(join(app, 'node_modules', '@pmemkv', 'x', 'loaded'))).toBe(false);
    expect(thrown(() => findEngine(42)).code).toBe('WRONG_ENGINE_NAME');
  });

  test('packages are found from the application directory: @pmemkv/engine-<name>, then pmemkv-engine-<name>', () => {
    const app = makeApp();
    apps.push(app);
    const r = inApp(app, `
      const a = core.open('scoped', { greeting: 'hi' }); a.put('k', 'v'); console.log(a.get('k'));
      const b = core.open('thirdparty'); b.put('k', 'w'); console.log(b.get('k'));
      console.log(core.findEngine('both').packageName);
      console.log(core.listEngines().join(','));`);
    expect(r.err).toBe('');
    expect(r.out.split('\n')).toEqual(['v', 'w', 'scoped-wins', 'blackhole,both,future,scoped,thirdparty']);
  });

  test('a plugin built for another contract version is refused, naming both versions and the package', () => {
    const app = makeApp();
    apps.push(app);
    const r = inApp(app, `try { core.open('future'); } catch (e) { console.log(e.code); console.log(e.message); }`);
    const [code, message] = r.out.split('\n');
    expect(code).toBe('NOT_SUPPORTED');
    expect(message).toContain(`version ${CONTRACT_VERSION + 1}`);
    expect(message).toContain(`version ${CONTRACT_VERSION}`);
    expect(message).toContain('pmemkv-engine-future');
    expect(thrown(() => registerEngine(plugin('old', { contractVersion: 0 }))).message).toContain('version 0');
  });

  test('registered engines win, are listed, and can be removed', () => {
    registerEngine(plugin('mine'));
    expect(findEngine('mine').packageName).toBe('pkg-mine');
    expect(listEngines()).toContain('mine');
    expect(unregisterEngine('mine')).toBe(true);
    expect(thrown(() => findEngine('mine')).code).toBe('WRONG_ENGINE_NAME');
    expect(unregisterEngine('blackhole')).toBe(false);
  });

  test('invalid plugins are refused at registration', () => {
    expect(thrown(() => registerEngine(plugin('Bad Name'))).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => registerEngine({ ...plugin('noopen'), open: undefined } as never)).code).toBe('INVALID_ARGUMENT');
  });

  test('a misspelt name gets "did you mean" the nearest installed or registered engine', () => {
    registerEngine(plugin('quokka'));
    const e = thrown(() => findEngine('qokka'));
    expect(e.code).toBe('WRONG_ENGINE_NAME');
    expect(e.message).toContain("unknown engine 'qokka': did you mean 'quokka'?");
    expect(thrown(() => findEngine('blackhol')).message).toContain("did you mean 'blackhole'?");
    unregisterEngine('quokka');
    // In an application: the nearest installed package.
    const app = makeApp();
    apps.push(app);
    const r = inApp(app, `try { core.open('thirdpary'); } catch (e) { console.log(e.message); }`);
    expect(r.out).toContain("did you mean 'thirdparty'?");
    expect(r.out).not.toContain('pmemkv-engine-thirdpary');
  });

  test("a known engine that is not installed names its package; a near miss of one is told it too", () => {
    // In an application of its own: this workspace's node_modules may hold engine packages.
    const app = makeApp();
    apps.push(app);
    const names = [...KNOWN_ENGINES].filter(([, known]) => !known.builtIn).map(([name]) => name);
    const r = inApp(app, `
      const out = {};
      for (const name of ${JSON.stringify([...names, 'tree'])}) { try { core.findEngine(name); out[name] = 'found'; } catch (e) { out[name] = e.code + ' ' + e.message; } }
      console.log(JSON.stringify(out));`);
    const messages = JSON.parse(r.out) as Record<string, string>;
    for (const name of names) {
      expect(KNOWN_ENGINES.get(name)!.packageName).toBe(`@pmemkv/engine-${name}`);
      expect(messages[name]).toBe(`WRONG_ENGINE_NAME the '${name}' engine is not installed: install it with \`npm install @pmemkv/engine-${name}\` (installed engines: blackhole, both, future, scoped, thirdparty)`);
    }
    expect(messages.tree).toContain("unknown engine 'tree': did you mean 'tree3'? It is not installed: `npm install @pmemkv/engine-tree3`.");
    expect(messages.tree).not.toMatch(/engine-tree\b(?!3)/);
  });

  test('an unknown name never gets an install command, only where engines come from', () => {
    for (const name of ['nope', 'my-engine', 'zzz']) {
      const e = thrown(() => findEngine(name));
      expect(e.message).not.toContain('npm install');
      expect(e.message).not.toContain(`engine-${name}`);
      expect(e.message).toContain('Installed engines: ');
      expect(e.message).toContain('third-party pmemkv-engine-<name> packages');
    }
  });

  test('threadModel, layout and capabilities.sync are checked, naming the package', () => {
    const bad: [Partial<EnginePlugin>, string][] = [
      [{ threadModel: 'parallel' as never }, 'threadModel'],
      [{ layout: { name: 'pmemkv_x', version: -1 } }, 'layout'],
      [{ layout: { name: 'pmemkv_x', version: 1.5 } }, 'layout'],
      [{ layout: { name: 7, version: 1 } as never }, 'layout'],
      [{ layout: 'pmemkv_x' as never }, 'layout'],
      [{ capabilities: { ...blackhole.capabilities, sync: 'no' as never } }, 'capabilities.sync'],
    ];
    for (const [extra, field] of bad) {
      const e = thrown(() => registerEngine(plugin('fields', extra)));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain(field);
      expect(e.message).toContain('pkg-fields');
    }
    for (const threadModel of ['thread-safe', 'single-writer', 'serialized'] as const) {
      registerEngine(plugin('fields', { threadModel, layout: { name: 'pmemkv_fields', version: 0 }, capabilities: { ...blackhole.capabilities, sync: true } }));
    }
    expect(unregisterEngine('fields')).toBe(true);
    const app = makeApp();
    apps.push(app);
    writeFileSync(join(app, 'node_modules', 'pmemkv-engine-thirdparty', 'index.js'),
      `module.exports = { name: 'thirdparty', contractVersion: ${CONTRACT_VERSION}, threadModel: 'fast', capabilities: {}, configSchema: {}, open() {} };`);
    const r = inApp(app, `try { core.open('thirdparty'); } catch (e) { console.log(e.code); console.log(e.message); }`);
    const [code, message] = r.out.split('\n');
    expect(code).toBe('INVALID_ARGUMENT');
    expect(message).toContain('pmemkv-engine-thirdparty');
    expect(message).toContain('threadModel');
  });
});
