/**
 * Pool creation under fire (`node creator.js <spec JSON>`), for creation.ts:
 *   create   open `paths[0]` with create_if_missing (the parent SIGKILLs it at a random moment);
 *   restart  for each path, open it as an application restarting would (create_if_missing),
 *            write and read back a key, close: prints `result <i> <json>` per path;
 *   race     wait until `startAt` (epoch ms), then open `paths[0]` with `flags`, write this
 *            child's own key, close: prints one `result 0 <json>`.
 */
import { open } from '@pmemkv/core';
import { say } from '../child-io';
import { registerFrom } from '../engines';

export interface CreatorSpec {
  readonly mode: 'create' | 'restart' | 'race';
  readonly packageDir: string;
  readonly engine: string;
  readonly paths: readonly string[];
  readonly size: number;
  readonly flags: Record<string, unknown>;
  readonly startAt?: number;
  readonly key: string;
  readonly value: string;
}

export interface CreatorResult {
  readonly opened: boolean;
  readonly readBack?: boolean;
  readonly error?: { readonly name: string; readonly code?: string; readonly message: string };
}

function attempt(spec: CreatorSpec, path: string): CreatorResult {
  try {
    const db = open(spec.engine, { path, size: spec.size, ...spec.flags });
    db.put(spec.key, spec.value);
    const readBack = db.get(spec.key) === spec.value;
    db.close();
    return { opened: true, readBack };
  } catch (e) {
    const x = e as { name?: unknown; code?: unknown; message?: unknown };
    return { opened: false, error: { name: String(x?.name), ...(typeof x?.code === 'string' ? { code: x.code } : {}), message: String(x?.message).slice(0, 400) } };
  }
}

function main(): void {
  const spec = JSON.parse(process.argv[2] ?? '') as CreatorSpec;
  registerFrom(spec.packageDir);
  if (spec.mode === 'create') {
    say('loaded');
    open(spec.engine, { path: spec.paths[0], size: spec.size, create_if_missing: 1 }).close();
    say('created');
    return;
  }
  if (spec.mode === 'race') {
    while (Date.now() < (spec.startAt ?? 0)) {
      // spin: both racers leave this loop within the same millisecond
    }
    say(`result 0 ${JSON.stringify(attempt(spec, spec.paths[0]!))}`);
    return;
  }
  spec.paths.forEach((path, i) => say(`result ${i} ${JSON.stringify(attempt(spec, path))}`));
}

main();
