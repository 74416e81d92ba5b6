/**
 * The caching engine's config keys (pmemkv's, plus `remote_timeout` and `key_prefix`) and the
 * checks core's schema validation cannot express. Core has already checked every key's type,
 * range and enum and refused unknown keys with a suggestion before `readOptions` runs.
 */
import { PmemkvError, type ConfigSchema, type EngineConfig } from '@pmemkv/core';

export type RemoteType = 'redis' | 'memcached';

/** The port each remote listens on unless `port` says otherwise. */
export const DEFAULT_PORTS: Readonly<Record<RemoteType, number>> = { redis: 6379, memcached: 11211 };

export const CONFIG_SCHEMA: ConfigSchema = {
  type: 'object',
  properties: {
    remote_type: {
      type: 'string',
      enum: ['redis', 'memcached'],
      description: 'The remote server: `redis` (through ioredis) or `memcached` (through memjs, binary protocol). Required. May change on reopen only if the remote holds the same data.',
    },
    host: {
      type: 'string',
      default: '127.0.0.1',
      description: 'Host name or address of the remote server. Default 127.0.0.1.',
    },
    port: {
      type: 'integer',
      minimum: 1,
      maximum: 65535,
      description: 'TCP port of the remote server. Default 6379 for redis, 11211 for memcached.',
    },
    attempts: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      default: 3,
      description: 'How many times an operation is tried against the remote (reconnecting in between) before it fails with UNKNOWN_ERROR. Default 3.',
    },
    remote_timeout: {
      type: 'integer',
      minimum: 1,
      maximum: 3_600_000,
      default: 2000,
      description: 'Milliseconds one attempt may take to connect and to be answered before it counts as failed. Default 2000.',
    },
    ttl: {
      type: 'integer',
      minimum: 0,
      maximum: 100 * 365 * 24 * 3600,
      default: 0,
      description: 'Seconds a local copy stays valid after it was written or fetched; 0 (the default) keeps it valid forever. Checked on every read, so a change on reopen applies to entries already cached.',
    },
    subengine: {
      type: 'string',
      description: 'The local engine holding the copies (any installed engine with sync methods, e.g. cmap, tree3, vcmap). Required.',
    },
    subengine_config: {
      type: 'object',
      description: "The sub-engine's own config (e.g. { path, size, create_if_missing } for cmap), validated by that engine. Default {}.",
    },
    remote_user: {
      type: 'string',
      description: 'User name for the remote: a Redis ACL user (AUTH user password), or a memcached SASL user. Needs remote_pwd.',
    },
    remote_pwd: {
      type: 'string',
      description: 'Password for the remote (Redis AUTH, alone for the default user or with remote_user; memcached SASL with remote_user).',
    },
    key_prefix: {
      type: 'string',
      default: '',
      description: 'Bytes (UTF-8) put before every key on the remote, so several data sets can share one server. Local keys carry no prefix. Must stay the same on reopen. Default empty.',
    },
  },
  required: ['remote_type', 'subengine'],
};

/** The validated options the handle runs with. */
export interface CachingOptions {
  readonly remoteType: RemoteType;
  readonly host: string;
  readonly port: number;
  readonly attempts: number;
  readonly timeoutMs: number;
  /** Milliseconds a local copy stays valid; 0 = forever. */
  readonly ttlMs: number;
  readonly subengine: string;
  readonly subengineConfig: Record<string, unknown>;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly keyPrefix: Buffer;
}

function invalid(message: string): PmemkvError {
  return new PmemkvError('INVALID_ARGUMENT', `caching config: ${message}`);
}

/** The pool keys core accepts everywhere; on the caching engine they belong to the sub-engine. */
const POOL_KEYS = ['path', 'size'] as const;
const CREATE_FLAGS = ['create_if_missing', 'create_or_error_if_exists'] as const;

/**
 * Reads the validated config core hands to `open`.
 * @throws PmemkvError INVALID_ARGUMENT for pool keys given at the top level, a caching sub-engine,
 *   or remote_user without remote_pwd.
 */
export function readOptions(config: EngineConfig): CachingOptions {
  for (const key of POOL_KEYS) {
    if (config[key] !== undefined) throw invalid(`key '${key}' belongs to the sub-engine: move it into subengine_config (e.g. subengine_config: { ${key}: ... })`);
  }
  for (const key of CREATE_FLAGS) {
    if (config[key] === true) throw invalid(`key '${key}' belongs to the sub-engine: move it into subengine_config`);
  }
  const remoteType = config.remote_type as RemoteType;
  const subengine = config.subengine as string;
  if (subengine === 'caching') throw invalid("subengine cannot be 'caching': the local tier must be a local engine such as cmap, tree3 or vcmap");
  const user = config.remote_user as string | undefined;
  const password = config.remote_pwd as string | undefined;
  if (user !== undefined && password === undefined) throw invalid("key 'remote_user' needs 'remote_pwd' (the password of that user)");
  return {
    remoteType,
    host: config.host as string,
    port: (config.port as number | undefined) ?? DEFAULT_PORTS[remoteType],
    attempts: config.attempts as number,
    timeoutMs: config.remote_timeout as number,
    ttlMs: (config.ttl as number) * 1000,
    subengine,
    subengineConfig: (config.subengine_config as Record<string, unknown> | undefined) ?? {},
    user,
    password,
    keyPrefix: Buffer.from(config.key_prefix as string, 'utf8'),
  };
}
