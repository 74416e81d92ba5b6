/**
 * The memcached remote, through memjs (the binary protocol, so keys and values are bytes:
 * spaces, control characters and `\0` are fine in keys). memcached itself limits keys to 1..250
 * bytes (the prefix included) and items to its `-I` size (1 MiB by default); keys outside the
 * limits are refused here with INVALID_ARGUMENT before anything is sent, because memcached
 * answers such a request by closing the connection.
 *
 * Connection contract: memjs opens a connection on the first request and a new one on the first
 * request after a failure, so reconnecting needs nothing from us. memjs retries are off
 * (`retries: 1`): `withAttempts` decides. Two gaps in memjs are closed here: a connection the
 * server closes without a socket error would leave requests unanswered forever, so every socket
 * gets a `close` listener that fails what is pending on it; and each attempt has its own timer,
 * so no request outlives `remote_timeout` whatever the socket does.
 */
import { Client, Server } from 'memjs';
import type { CachingOptions } from './config';
import { describeError, type Failure, type Remote } from './remote';

export const MEMCACHED_MAX_KEY_BYTES = 250;

/** Status replies memjs turns into errors (`MemJS SET: Value too large`), by what they mean for us. */
const INVALID_STATUS = /^MemJS \w+: (Value too large|Invalid arguments)$/;
const TRANSIENT_STATUS = /^MemJS \w+: (Busy|Temporary failure|Out of memory)$/;
const AUTH_FAILURE = /authentication/i;

const silent = { log() {} };

class TimedOut extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms (remote_timeout)`);
    this.name = 'TimedOut';
  }
}

/** The socket memjs keeps for a server (an undocumented field of memjs 1.x's Server). */
type ServerInternals = { _socket?: { once(event: 'close', listener: () => void): unknown } };

export class MemcachedRemote implements Remote {
  readonly name: string;
  readonly maxKeyBytes = MEMCACHED_MAX_KEY_BYTES;
  readonly emptyKeyAllowed = false;
  /** memcached unlinks the old item when it cannot store the new one, so that no stale value stays. */
  readonly refusedSetRemovesKey = true;
  readonly #server: Server;
  readonly #client: Client;
  readonly #timeoutMs: number;
  /** The socket whose close fails the pending requests (memjs keeps one socket per server at a time). */
  #socket: object | undefined;
  #closed = false;

  constructor(options: CachingOptions) {
    this.name = `memcached ${options.host}:${options.port}`;
    this.#timeoutMs = options.timeoutMs;
    const seconds = options.timeoutMs / 1000;
    this.#server = new Server(options.host, options.port, options.user, options.password, { timeout: seconds, conntimeout: seconds });
    this.#client = new Client([this.#server], { retries: 1, logger: silent });
  }

  get(key: Buffer): Promise<Buffer | undefined> {
    return this.#timed(this.#client.get(key as unknown as string).then((r) => r.value ?? undefined));
  }

  set(key: Buffer, value: Buffer | string): Promise<void> {
    return this.#timed(this.#client.set(key as unknown as string, value).then(() => undefined));
  }

  del(key: Buffer): Promise<boolean> {
    return this.#timed(this.#client.delete(key as unknown as string));
  }

  classify(err: unknown): Failure {
    const message = describeError(err);
    if (INVALID_STATUS.test(message)) {
      return { kind: 'invalid', reason: `${message.replace(/^MemJS \w+: /, '')} (memcached takes keys of 1 to 250 bytes and items up to its -I size, 1 MiB by default)`, cause: err };
    }
    if (TRANSIENT_STATUS.test(message) || err instanceof TimedOut) return { kind: 'retry', cause: err };
    if (AUTH_FAILURE.test(message)) return { kind: 'fatal', reason: `the server refused the credentials (check remote_user and remote_pwd): ${message}`, cause: err };
    if (message.startsWith('MemJS ')) return { kind: 'fatal', cause: err };
    return { kind: 'retry', cause: err };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.close();
    this.#server.error(new Error('the database was closed'));
  }

  /** `pending` bounded by remote_timeout; on a timeout the connection is dropped so nothing stays pending on it. */
  #timed<T>(pending: Promise<T>): Promise<T> {
    this.#watchSocket();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new TimedOut(this.#timeoutMs));
        this.#server.error(new TimedOut(this.#timeoutMs));
      }, this.#timeoutMs);
      pending.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  /** Fails the requests pending on the current socket when the server closes it. */
  #watchSocket(): void {
    const socket = (this.#server as unknown as ServerInternals)._socket;
    if (socket === undefined || socket === this.#socket) return;
    this.#socket = socket;
    // A socket replaced before it closed has nothing pending of its own any more: only the current one fails requests.
    socket.once('close', () => {
      if (this.#socket === socket) this.#server.error(new Error('the server closed the connection'));
    });
  }
}
