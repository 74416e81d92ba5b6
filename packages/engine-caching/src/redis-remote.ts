/**
 * The Redis remote, through one ioredis connection (GET, SET, DEL on binary keys and values).
 *
 * Connection contract: ioredis connects at once and reconnects by itself forever (50 ms, 100 ms,
 * ... up to 500 ms between tries) until `close()`. A command issued while disconnected waits
 * for the next connection; `maxRetriesPerRequest: 0` fails every command still waiting or in
 * flight as soon as a connection closes or fails to open, so one attempt of `withAttempts` is at
 * most one connection, and the caller (not ioredis) decides whether to try again. Commands are
 * never resent by ioredis (`autoResendUnfulfilledCommands: false`): a retried SET or DEL is
 * resent by `withAttempts`, which is harmless because both are idempotent.
 */
import Redis from 'ioredis';
import type { CachingOptions } from './config';
import { describeError, type Failure, type Remote } from './remote';

/** Server replies that a retry may outlive (a replica loading its data, a busy script, a failover). */
const TRANSIENT_REPLY = /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN)\b/;
const AUTH_REPLY = /^(WRONGPASS|NOAUTH|NOPERM)\b/;

/** Errors ioredis raises for the connection rather than the command: the connection error behind them is the real reason. */
function isConnectionLevel(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  const message = describeError(err);
  return name === 'MaxRetriesPerRequestError' || message === 'Connection is closed.' || message.startsWith("Stream isn't writeable");
}

export class RedisRemote implements Remote {
  readonly name: string;
  readonly maxKeyBytes = 512 * 1024 * 1024;
  readonly emptyKeyAllowed = true;
  readonly refusedSetRemovesKey = false;
  readonly #client: Redis;
  /** The last connection error ioredis reported (ECONNREFUSED, a timeout ...), for `cause`. */
  #lastError: unknown;

  constructor(options: CachingOptions) {
    this.name = `redis ${options.host}:${options.port}`;
    this.#client = new Redis({
      host: options.host,
      port: options.port,
      username: options.user,
      password: options.password,
      connectTimeout: options.timeoutMs,
      commandTimeout: options.timeoutMs,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: true,
      retryStrategy: (times: number) => Math.min(times * 50, 500),
      disableClientInfo: true,
      // close() has nothing left to send: a socket the server does not close at once is destroyed soon
      // (ioredis keeps a timer this long even for a socket that is already closed).
      disconnectTimeout: 100,
      connectionName: 'pmemkv-caching',
    });
    // ioredis reports connection errors as events; without a listener it would print them.
    this.#client.on('error', (err: unknown) => {
      this.#lastError = err;
    });
    this.#client.on('ready', () => {
      this.#lastError = undefined;
    });
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    const value = await this.#client.getBuffer(key);
    return value ?? undefined;
  }

  async set(key: Buffer, value: Buffer | string): Promise<void> {
    await this.#client.set(key, value);
  }

  async del(key: Buffer): Promise<boolean> {
    return (await this.#client.del(key)) > 0;
  }

  classify(err: unknown): Failure {
    const message = describeError(err);
    if ((err as { name?: unknown } | null)?.name === 'ReplyError') {
      if (AUTH_REPLY.test(message)) {
        return { kind: 'fatal', reason: `the server refused the credentials (check remote_user and remote_pwd): ${message}`, cause: err };
      }
      return { kind: TRANSIENT_REPLY.test(message) ? 'retry' : 'fatal', cause: err };
    }
    if (isConnectionLevel(err) && this.#lastError !== undefined) {
      const cause = this.#lastError;
      return { kind: 'retry', reason: describeError(cause), cause };
    }
    return { kind: 'retry', cause: err };
  }

  close(): void {
    this.#client.disconnect(false);
  }
}
