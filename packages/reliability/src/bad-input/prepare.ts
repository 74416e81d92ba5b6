/**
 * Makes the base pool the bad-input campaign damages (`node prepare.js <spec JSON>`): a pool of
 * `size` bytes at `path` holding `keys` pairs (child.ts baseKey/baseValue), closed cleanly.
 * Prints `done` on success.
 */
import { open } from '@pmemkv/core';
import { say } from '../child-io';
import { registerFrom } from '../engines';
import { baseKey, baseValue } from './base-keys';

interface PrepareSpec {
  readonly packageDir: string;
  readonly engine: string;
  readonly path: string;
  readonly size: number;
  readonly keys: number;
  readonly fixedSize?: number;
}

const spec = JSON.parse(process.argv[2] ?? '') as PrepareSpec;
registerFrom(spec.packageDir);
const db = open(spec.engine, { path: spec.path, size: spec.size, create_if_missing: 1 }, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
for (let i = 0; i < spec.keys; i++) db.put(baseKey(i, spec.fixedSize), baseValue(i, spec.fixedSize));
db.close();
say('done');
