/**
 * Opens the local tier: any installed engine, by name, through core's own `open`, with
 * `subengine_config` as its config (validated by that engine). Errors keep the sub-engine's
 * code and say that they come from subengine_config.
 */
import { findEngine, open, PmemkvError, type Database } from '@pmemkv/core';
import type { CachingOptions } from './config';
import { HEADER_BYTES } from './entry';

function fromSubengine(name: string, err: unknown): PmemkvError {
  if (err instanceof PmemkvError) {
    return new PmemkvError(err.code, `caching config: subengine '${name}' (subengine_config): ${err.message}`, { cause: err });
  }
  return new PmemkvError('UNKNOWN_ERROR', `caching config: subengine '${name}' failed to open: ${String(err)}`, { cause: err });
}

/**
 * @throws PmemkvError WRONG_ENGINE_NAME (no such engine installed), INVALID_ARGUMENT (an
 *   async-only engine, or one with fixed-size values, which cannot hold the expiry header), or the
 *   sub-engine's own config and open errors.
 */
export function openSubengine(options: CachingOptions): Database<Buffer, Buffer> {
  const name = options.subengine;
  let caps;
  try {
    caps = findEngine(name).capabilities;
  } catch (err) {
    throw fromSubengine(name, err);
  }
  if (caps.sync === false) {
    throw new PmemkvError('INVALID_ARGUMENT', `caching config: subengine '${name}' is async-only; the local tier must be a local engine with sync methods, such as cmap, tree3 or vcmap`);
  }
  if (caps.fixedSize !== undefined) {
    throw new PmemkvError('INVALID_ARGUMENT', `caching config: subengine '${name}' takes values of exactly ${caps.fixedSize} bytes, but a local copy carries a ${HEADER_BYTES}-byte expiry header before the value: choose an engine such as cmap, tree3 or vcmap`);
  }
  try {
    return open(name, options.subengineConfig, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  } catch (err) {
    throw fromSubengine(name, err);
  }
}
