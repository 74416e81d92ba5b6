/**
 * Shared pieces of the engine-specific tests: configs for a caching database in front of a test
 * server, a direct client of that server (to look behind the cache and to change the remote
 * behind its back), and a fresh temporary directory per test for sub-engine pools.
 */
import { afterEach, beforeEach, expect } from '@jest/globals';
import { makeTempDir, removeTempDir } from '@pmemkv/core/conformance';
import { PmemkvError } from '@pmemkv/core';
import Redis from 'ioredis';
import { Client, Server } from 'memjs';
import { join } from 'node:path';
import type { RemoteServer } from './servers';

/** A config for `caching` in front of `server`; vcmap (volatile) as the local tier unless `extra` says otherwise. */
export function cachingConfig(server: RemoteServer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { remote_type: server.kind, port: server.port, subengine: 'vcmap', subengine_config: {}, ...extra };
}

/** A cmap sub-engine config for a pool at `path`. */
export function cmapConfig(path: string): Record<string, unknown> {
  return { path, size: 16 * 1024 * 1024, create_if_missing: 1 };
}

/** Direct access to a test server through the same client libraries the engine uses. */
export interface Raw {
  get(key: Buffer | string): Promise<Buffer | undefined>;
  set(key: Buffer | string, value: Buffer | string): Promise<void>;
  del(key: Buffer | string): Promise<void>;
  close(): void;
}

export function rawClient(server: RemoteServer): Raw {
  if (server.kind === 'redis') {
    const client = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    return {
      get: async (k) => (await client.getBuffer(k)) ?? undefined,
      set: async (k, v) => void (await client.set(k, v)),
      del: async (k) => void (await client.del(k)),
      close: () => client.disconnect(),
    };
  }
  const client = new Client([new Server('127.0.0.1', server.port, undefined, undefined, { timeout: 2 })], { retries: 1, logger: { log() {} } });
  return {
    get: async (k) => (await client.get(k as string)).value ?? undefined,
    set: async (k, v) => void (await client.set(k as string, v)),
    del: async (k) => void (await client.delete(k as string)),
    close: () => client.close(),
  };
}

/** A fresh temporary directory for the current test (removed after it); `path(name)` is a file in it. */
export function useTempDir(label: string): { path(name?: string): string } {
  let dir: string | undefined;
  beforeEach(() => {
    dir = makeTempDir(label);
  });
  afterEach(() => {
    if (dir !== undefined) removeTempDir(dir);
    dir = undefined;
  });
  return {
    path(name = 'pool') {
      if (dir === undefined) throw new Error('only inside a test');
      return join(dir, name);
    },
  };
}

/** Awaits `pending`, expects a PmemkvError with `code` whose message contains each of `parts`; returns it. */
export async function expectRejected(pending: Promise<unknown>, code: string, ...parts: string[]): Promise<PmemkvError> {
  let error: unknown;
  try {
    await pending;
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(PmemkvError);
  const e = error as PmemkvError;
  expect(e.code).toBe(code);
  for (const part of parts) expect(e.message).toContain(part);
  return e;
}

/** Calls `run`, expects a PmemkvError with `code` whose message contains each of `parts`; returns it. */
export function expectThrown(run: () => unknown, code: string, ...parts: string[]): PmemkvError {
  let error: unknown;
  try {
    run();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(PmemkvError);
  const e = error as PmemkvError;
  expect(e.code).toBe(code);
  for (const part of parts) expect(e.message).toContain(part);
  return e;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
