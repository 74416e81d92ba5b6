/**
 * The context every group of the conformance suite receives: the engine's capabilities, the
 * per-test pool fixture, shaped keys, and a `test` that hands each test a seeded generator and
 * names the seed when the test fails.
 *
 * Pool fixture: before each test a fresh temporary directory; after it, every database the test
 * opened through the fixture and left open is closed, then the directory is removed.
 */
import { afterEach, beforeEach, test as jestTest } from '@jest/globals';
import { join } from 'node:path';
import { open, type Capabilities, type Database, type OpenOptions } from '../index';
import { resolveCapabilities, type ResolvedCapabilities } from '../internal/access';
import type { KeyEncodingName, ValueEncodingName } from '../index';
import { KeyShape } from './keys';
import type { Behaviour, ConformanceOptions } from './options';
import { hashString, Random } from './random';
import { makeTempDir, removeTempDir } from './temp';

type AnyDatabase = { close(): void; readonly isOpen: boolean };
type KeyOf<E extends KeyEncodingName> = E extends 'buffer' ? Buffer : string;
type ValueOf<E extends ValueEncodingName> = E extends 'buffer' ? Buffer : E extends 'json' ? unknown : string;

/** Config keys that make `open` create a pool. */
export const CREATE_FLAGS = ['create_if_missing', 'create_or_error_if_exists', 'force_create'] as const;

/** `config` without any create flag (an open-only config). */
export function withoutCreateFlags(config: Record<string, unknown>): Record<string, unknown> {
  const out = { ...config };
  for (const flag of CREATE_FLAGS) delete out[flag];
  return out;
}

export class PoolFixture {
  #dir: string | undefined;
  readonly #open: AnyDatabase[] = [];
  readonly #suite: Suite;

  constructor(suite: Suite) {
    this.#suite = suite;
  }

  /** The current test's temporary directory. */
  get dir(): string {
    if (this.#dir === undefined) throw new Error('the pool fixture is only available inside a test');
    return this.#dir;
  }

  /** A pool path inside the current test's directory (nothing is created). */
  path(name = 'pool'): string {
    return join(this.dir, name);
  }

  /** The engine's config for a fresh pool at `path(name)`. */
  config(name = 'pool'): Record<string, unknown> {
    return this.#suite.options.config(this.path(name));
  }

  /** The engine's config to reopen the pool at `path(name)`. */
  reopenConfig(name = 'pool'): Record<string, unknown> {
    const reopen = this.#suite.options.reopenConfig ?? this.#suite.options.config;
    return reopen(this.path(name));
  }

  /** Opens the engine with `config`; the fixture closes it after the test if still open. */
  open<KE extends KeyEncodingName = 'utf8', VE extends ValueEncodingName = 'utf8'>(
    config: Record<string, unknown> | string,
    encodings?: OpenOptions<KE, VE>,
  ): Database<KeyOf<KE>, ValueOf<VE>> {
    const db = open<KE, VE>(this.#suite.engine, config, encodings) as unknown as Database<KeyOf<KE>, ValueOf<VE>>;
    this.#open.push(db);
    return db;
  }

  /** A fresh database at `path(name)`. */
  fresh<KE extends KeyEncodingName = 'utf8', VE extends ValueEncodingName = 'utf8'>(
    encodings?: OpenOptions<KE, VE>,
    name = 'pool',
  ): Database<KeyOf<KE>, ValueOf<VE>> {
    return this.open(this.config(name), encodings);
  }

  /** Reopens the database at `path(name)`. */
  reopen<KE extends KeyEncodingName = 'utf8', VE extends ValueEncodingName = 'utf8'>(
    encodings?: OpenOptions<KE, VE>,
    name = 'pool',
  ): Database<KeyOf<KE>, ValueOf<VE>> {
    return this.open(this.reopenConfig(name), encodings);
  }

  /** @internal */
  begin(label: string): void {
    this.#dir = makeTempDir(label);
  }

  /** @internal Closes what the test left open, then removes the directory. */
  end(): void {
    const errors: unknown[] = [];
    for (const db of this.#open.splice(0)) {
      try {
        if (db.isOpen) db.close();
      } catch (err) {
        errors.push(err);
      }
    }
    if (this.#dir !== undefined) removeTempDir(this.#dir);
    this.#dir = undefined;
    if (errors.length > 0) throw new Error(`closing a database left open by the test failed: ${String(errors[0])}`);
  }
}

export class Suite {
  readonly options: ConformanceOptions;
  readonly engine: string;
  /** The plugin's capabilities as `db.capabilities` shows them (`sync` filled in). */
  readonly caps: ResolvedCapabilities;
  readonly behaviour: Behaviour;
  readonly scale: number;
  readonly seed: number;
  readonly shape: KeyShape;
  readonly pool: PoolFixture;

  constructor(options: ConformanceOptions, caps: Capabilities, seed: number) {
    this.options = options;
    this.engine = options.engine;
    this.caps = resolveCapabilities(caps);
    this.behaviour = options.behaviour ?? 'store';
    this.scale = options.scale ?? 1;
    this.seed = seed;
    this.shape = new KeyShape(this.caps);
    this.pool = new PoolFixture(this);
  }

  /** `base` scaled by the `scale` option (at least 1). */
  n(base: number): number {
    return Math.max(1, Math.round(base * this.scale));
  }

  /** Registers the per-test pool fixture in the current describe block. */
  usePool(): void {
    beforeEach(() => this.pool.begin(this.engine));
    afterEach(() => this.pool.end());
  }

  /**
   * Registers a jest test whose body gets a generator seeded from the suite seed and the test
   * name; a failure message ends with the seed to replay it.
   */
  test(name: string, body: (rng: Random) => void | Promise<void>, timeoutMs?: number): void {
    jestTest(
      name,
      async () => {
        const rng = new Random(this.seed ^ hashString(name));
        try {
          await body(rng);
        } catch (err) {
          if (err instanceof Error) {
            const note = `\n[${this.engine} conformance seed ${this.seed}: replay with PMEMKV_CONFORMANCE_SEED=${this.seed}]`;
            err.message += note;
          }
          throw err;
        }
      },
      timeoutMs,
    );
  }
}
