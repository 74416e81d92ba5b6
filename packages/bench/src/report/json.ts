/**
 * The machine-readable results (`--json FILE`): machine, medium, settings, stores, and
 * results[store][workload] = { ops, seconds, opsPerSec, usPerOp, p50Us, p99Us, ratioToLmdb, ... }.
 * ratioToLmdb is null where lmdb has no result for the workload.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BenchResult } from '../runner';
import { rows } from './rows';

export const JSON_FORMAT_VERSION = 1;

export function toJson(result: BenchResult): Record<string, unknown> {
  const results: Record<string, Record<string, unknown>> = {};
  for (const s of result.stores) results[s.name] = {};
  for (const r of rows(result)) {
    results[r.store]![r.workload] = {
      ...r.m,
      ratioToLmdb: r.ratioToLmdb,
      ...(r.ratioToOneThread !== null ? { ratioToOneThread: r.ratioToOneThread } : {}),
    };
  }
  return {
    formatVersion: JSON_FORMAT_VERSION,
    tool: result.tool,
    date: result.date,
    command: result.command,
    machine: result.machine,
    medium: result.medium,
    settings: result.settings,
    stores: result.stores,
    skipped: result.skipped,
    results,
    errors: result.errors,
    notes: result.notes,
  };
}

export function writeJson(file: string, result: BenchResult): void {
  mkdirSync(dirname(file), { recursive: true });
  // NaN and Infinity are not JSON: they become null.
  writeFileSync(file, JSON.stringify(toJson(result), (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
}
