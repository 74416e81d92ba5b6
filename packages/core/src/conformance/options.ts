/**
 * What an engine package passes to `runConformanceSuite`.
 */
import type { EnginePlugin } from '../index';

/**
 * What the engine promises about the data it is given:
 * - `'store'` (the default): it keeps what is put, as every real engine does;
 * - `'sink'`: it accepts everything and keeps nothing (blackhole): reads find nothing, counts
 *   are 0, removes report true, walks and iteration are empty.
 */
export type Behaviour = 'store' | 'sink';

export interface ConformanceOptions {
  /** The engine's runtime name, as passed to `open`. */
  engine: string;
  /**
   * The engine's plugin. When given, the suite registers it with `registerEngine` before its
   * tests; otherwise the engine is found by name (`@pmemkv/engine-<name>`, `pmemkv-engine-<name>`).
   */
  plugin?: EnginePlugin;
  /**
   * Absolute path of a CommonJS module whose default export (or `plugin` export, or the module
   * itself) is the plugin. The crash test's child processes load it; without it they find the
   * engine by name from the current working directory.
   */
  pluginModule?: string;
  /**
   * A config that creates a fresh database at `poolPath` (each test gets its own temporary
   * directory, removed after the test). Include `create_if_missing: 1` (or `true`) and a `size`
   * for persistent engines; keep pools small (16 to 64 MiB).
   */
  config: (poolPath: string) => Record<string, unknown>;
  /** A config that reopens the existing database at `poolPath`. Default: `config(poolPath)`. */
  reopenConfig?: (poolPath: string) => Record<string, unknown>;
  /** Multiplier for the sizes of the larger tests (key counts, crash rounds). Default 1. */
  scale?: number;
  /** Default `'store'`; blackhole-like engines pass `'sink'`. */
  behaviour?: Behaviour;
  /**
   * Volatile engines that take pmemkv's placement keys (vmap, vcmap): `size` without `path` is
   * a hard DRAM limit; `path` names an existing directory for a temporary file-backed heap of
   * `size` bytes; opens with the same `path` share one instance. `shareKey` names the config
   * key (e.g. `'name'`) by which opens without a path share one instance. Runs the placement
   * group (volatile.ts); `config` then gives the engine's base config (e.g. `() => ({})`).
   */
  volatilePlacement?: { shareKey?: string };
}
