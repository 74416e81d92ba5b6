/**
 * What a crash child reads back from a reopened pool, for the parent to judge: the digest of
 * every plan key's value (or absence) and the problems no in-flight outcome can explain (a key
 * the plan never wrote, a key walked twice, a walk that disagrees with get, a sorted walk out
 * of order, countAll or iteration disagreeing with the walk).
 */
import { createHash } from 'node:crypto';
import type { Database } from '@pmemkv/core';
import { showBytes } from '../temp';
import { crashKey, type CrashSpec } from './plan';

/** `length:sha1-prefix` of a value; absent keys are null. */
export type Digest = string | null;

export interface DumpedState {
  readonly digests: Digest[];
  readonly problems: string[];
}

export function digest(v: Buffer): string {
  return `${v.length}:${createHash('sha1').update(v).digest('hex').slice(0, 20)}`;
}

function show(v: Buffer): string {
  return `${showBytes(v.subarray(0, 24))}${v.length > 24 ? '...' : ''} (${v.length} B)`;
}

export function dumpState(db: Database<Buffer, Buffer>, spec: CrashSpec, sorted: boolean, iterators: boolean): DumpedState {
  const problems: string[] = [];
  const digests: Digest[] = [];
  const idOf = new Map<string, number>();
  for (let id = 0; id < spec.keys; id++) {
    const key = crashKey(spec, id);
    idOf.set(key.toString('latin1'), id);
    const v = db.get(key);
    digests.push(v === undefined ? null : digest(v));
    if (db.exists(key) !== (v !== undefined)) problems.push(`exists(key ${id}) disagrees with get`);
  }
  const walked: Buffer[] = [];
  const seen = new Set<number>();
  db.getAll((k, v) => {
    walked.push(k);
    const id = idOf.get(k.toString('latin1'));
    if (id === undefined) {
      problems.push(`a full walk found a key the plan never wrote: ${show(k)}`);
      return;
    }
    if (seen.has(id)) problems.push(`a full walk saw key ${id} twice`);
    seen.add(id);
    if (digests[id] !== digest(v)) problems.push(`a full walk saw key ${id} = ${digest(v)} but get returned ${String(digests[id])}`);
  });
  digests.forEach((d, id) => {
    if (d !== null && !seen.has(id)) problems.push(`key ${id} is readable with get but a full walk missed it`);
  });
  if (sorted) {
    for (let i = 1; i < walked.length; i++) {
      if (Buffer.compare(walked[i - 1]!, walked[i]!) >= 0) {
        problems.push(`a full walk is out of order at ${show(walked[i - 1]!)} then ${show(walked[i]!)}`);
        break;
      }
    }
  }
  if (iterators) {
    const n = [...db.keys()].length;
    if (n !== walked.length) problems.push(`keys() yields ${n} keys but a full walk saw ${walked.length}`);
    if (sorted) {
      const back = [...db.keys({ reverse: true })];
      if (back.length !== walked.length || back.some((k, i) => !k.equals(walked[walked.length - 1 - i]!))) problems.push('reverse iteration is not the full walk reversed');
    }
  }
  const count = db.countAll();
  if (count !== walked.length) problems.push(`countAll is ${count} but a full walk saw ${walked.length} entries`);
  return { digests, problems };
}
