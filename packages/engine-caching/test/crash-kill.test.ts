// SIGKILL a process writing through a caching database with a persistent local tier (cmap),
// then reopen its pool: every acknowledged write is there, and no local copy is older than the
// remote (a copy is taken out before the remote changes, see CachingHandle #takeOut), so each key
// reads exactly what the remote holds.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { open, registerEngine } from '@pmemkv/core';
import { runAndKill } from '@pmemkv/core/conformance';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import plugin from '../src/index';
import { cachingConfig, rawClient, useTempDir } from './helpers';
import { RemoteServer } from './servers';

registerEngine(plugin);

const server = new RemoteServer('redis');
beforeAll(() => server.start());
afterAll(() => server.stop());
const tmp = useTempDir('caching-crash');

const KEYS = 16;
/** Each key's value after operations 0..last (as crash-writer.js applies them). */
function model(last: number): Map<string, string | undefined> {
  const m = new Map<string, string | undefined>();
  for (let n = 0; n <= last; n++) m.set(`k${n % KEYS}`, n % 7 === 3 ? undefined : `v${n}`);
  return m;
}

test('after a SIGKILL at six moments of a run each key holds an acknowledged value and the local copy matches the remote', async () => {
  const raw = rawClient(server);
  try {
    for (let round = 0; round < 6; round++) {
      const prefix = `crash${round}:`;
      const pool = tmp.path(`pool${round}`);
      const run = await runAndKill(join(__dirname, 'fixtures', 'crash-writer.js'), [String(server.port), pool, prefix, '100000'], 80 + round * 70);
      expect(run.ready).toBe(true);
      expect(run.exit).toBe('SIGKILL');
      expect(run.stderr).toBe('');
      const acked = model(run.lastAck);
      const inFlight = model(run.lastAck + 1);
      using db = open('caching', cachingConfig(server, { key_prefix: prefix, subengine: 'cmap', subengine_config: { path: pool } }));
      for (let i = 0; i < KEYS; i++) {
        const key = `k${i}`;
        const remote = (await raw.get(`${prefix}${key}`))?.toString();
        expect([acked.get(key), inFlight.get(key)]).toContain(remote);
        expect(await db.promises.get(key)).toBe(remote);
      }
    }
  } finally {
    raw.close();
  }
});

/** Runs inflight-writer.js: resolves once it printed `line`, with a way to write to its stdin and to kill it. */
function inflightWriter(pool: string, prefix: string) {
  const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'inflight-writer.js'), String(server.port), pool, prefix], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${String(code)}`)));
  const waitFor = async (line: string) => {
    const deadline = Date.now() + 20_000;
    while (!out.split('\n').includes(line)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the writer did not print ${line}: ${err}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { child, exited, waitFor };
}

test('a write the remote applies after its writer was killed leaves no stale local copy behind', async () => {
  const raw = rawClient(server);
  try {
    const pool = tmp.path('inflight');
    const prefix = 'inflight:';
    const writer = inflightWriter(pool, prefix);
    await writer.waitFor('ack');
    // The server stops reading: the next SET waits in its socket buffer while the writer dies.
    await server.pause();
    try {
      writer.child.stdin.write('go\n');
      await writer.waitFor('inflight');
      writer.child.kill('SIGKILL');
      expect(await writer.exited).toBe('SIGKILL');
    } finally {
      server.resume();
    }
    // redis reads the dead client's SET before its end of file: the remote now holds v2, which
    // the writer never saw acknowledged. Its local copy of v1 was taken out before the SET was sent.
    for (let i = 0; i < 100 && (await raw.get(`${prefix}k`))?.toString() !== 'v2'; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await raw.get(`${prefix}k`))?.toString()).toBe('v2');
    using db = open('caching', cachingConfig(server, { key_prefix: prefix, subengine: 'cmap', subengine_config: { path: pool } }));
    expect(await db.promises.get('k')).toBe('v2');
  } finally {
    raw.close();
  }
});
