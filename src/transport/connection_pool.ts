/**
 * Keep-alive connections to one upstream: an idle list (most recently used first), a limit on open
 * connections with a bounded wait for a free one, and an idle timeout. A connection comes back only through
 * {@linkcode ConnectionPool.release} with `reusable: true`, which the HTTP/1.1 client passes only after a
 * complete, clean response that allows reuse; anything else destroys it.
 */
import { ProxyError } from "../errors.ts";
import type { ConnectionStats } from "../upstream/upstream.ts";

const encoder = new TextEncoder();

/** One upstream connection with its read buffer. */
export class PooledConnection {
  readonly conn: Deno.Conn;
  /** Bytes read but not consumed yet are `buf[start, end)`. */
  buf = new Uint8Array(16 * 1024);
  start = 0;
  end = 0;
  /** True when this connection served a response before (taken from the idle list). */
  reused = false;
  closed = false;
  /** performance.now() when it went idle. */
  idleSince = 0;
  #out = new Uint8Array(4 * 1024);

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Reads more bytes into the buffer (compacting or growing it); false at EOF. */
  async fill(): Promise<boolean> {
    if (this.start === this.end) this.start = this.end = 0;
    else if (this.end === this.buf.length) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      } else {
        const bigger = new Uint8Array(this.buf.length * 2);
        bigger.set(this.buf);
        this.buf = bigger;
      }
    }
    const n = await this.conn.read(this.buf.subarray(this.end));
    if (n === null) return false;
    this.end += n;
    return true;
  }

  /**
   * `head` (and `body`, when both fit) as UTF-8 bytes in this connection's own write buffer: one `encodeInto`
   * and no allocation, where `TextEncoder.encode` costs ≈ 1 µs a request for a new ArrayBuffer. The bytes stay
   * valid until the next call, which one request at a time per connection (HTTP/1.1, no pipelining) allows.
   * A head that does not fit grows the buffer; a head plus body that does not fit goes out in a fresh array.
   */
  requestBytes(head: string, body: Uint8Array | null): Uint8Array {
    let out = this.#out;
    let { read, written } = encoder.encodeInto(head, out);
    if (read < head.length) {
      // UTF-16 code units → at most 3 bytes each.
      out = this.#out = new Uint8Array(Math.max(out.length * 2, head.length * 3));
      ({ read, written } = encoder.encodeInto(head, out));
    }
    // More bytes than chars: the head has a char ≥ 0x80. Field values from Deno are byte strings (one char per
    // byte, obs-text included), so they go out as those bytes, not as UTF-8.
    if (written !== read) written = latin1Into(head, out, written);
    if (body === null || body.byteLength === 0) return out.subarray(0, written);
    const total = written + body.byteLength;
    if (total <= out.length) {
      out.set(body, written);
      return out.subarray(0, total);
    }
    const joined = new Uint8Array(total);
    joined.set(out.subarray(0, written));
    joined.set(body, written);
    return joined;
  }

  async writeAll(data: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < data.length) offset += await this.conn.write(data.subarray(offset));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed by the peer's reset
    }
  }
}

export interface ConnectionPoolOptions {
  /** Opens a new connection (TCP or TLS); must settle on its own or be abandoned after connectTimeoutMs. */
  readonly connect: () => Promise<Deno.Conn>;
  readonly maxIdleConnections: number;
  /** 0 = unlimited. */
  readonly maxConnections: number;
  readonly queueTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Shared counters of the upstream (gauges and totals for /metrics). */
  readonly stats: ConnectionStats;
}

interface Waiter {
  resolve(connection: PooledConnection | undefined): void;
  timer: ReturnType<typeof setTimeout>;
}

export class ConnectionPool implements Disposable {
  readonly #options: ConnectionPoolOptions;
  readonly #idle: PooledConnection[] = [];
  readonly #waiters: Waiter[] = [];
  /** Open connections: idle, in use and being opened. */
  #open = 0;
  #disposed = false;
  /** One sweep timer while connections are idle (a timer per release costs more than the request). */
  #sweep: ReturnType<typeof setInterval> | undefined;

  constructor(options: ConnectionPoolOptions) {
    this.#options = options;
  }

  get stats(): ConnectionStats {
    return this.#options.stats;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  get openCount(): number {
    return this.#open;
  }

  /** An idle connection if any, else a new one; waits up to queueTimeoutMs at maxConnections, then 503. */
  async acquire(): Promise<PooledConnection> {
    const idle = this.#takeIdle();
    if (idle !== undefined) return idle;
    const max = this.#options.maxConnections;
    if (max > 0 && this.#open >= max) {
      const handed = await new Promise<PooledConnection | undefined>((resolve) => {
        const waiter: Waiter = {
          resolve,
          timer: setTimeout(() => {
            const index = this.#waiters.indexOf(waiter);
            if (index >= 0) this.#waiters.splice(index, 1);
            resolve(undefined);
          }, this.#options.queueTimeoutMs),
        };
        this.#waiters.push(waiter);
      });
      if (handed === undefined) {
        throw new ProxyError("pool_full", `${max} upstream connections busy`, this.#options.queueTimeoutMs);
      }
      // A slot freed by a destroyed connection (already counted for us): open a connection in it.
      if (handed.closed) return this.#openReserved();
      return handed;
    }
    return this.acquireNew();
  }

  /** A fresh connection, ignoring idle ones (for the stale-connection retry); counts against the limit. */
  acquireNew(): Promise<PooledConnection> {
    this.#open++;
    return this.#openReserved();
  }

  async #openReserved(): Promise<PooledConnection> {
    const stats = this.#options.stats;
    let conn: Deno.Conn;
    try {
      conn = await this.#connectWithTimeout();
    } catch (error) {
      this.#open--;
      this.#wakeWaiter();
      throw error;
    }
    stats.opened++;
    stats.active++;
    return new PooledConnection(conn);
  }

  /** An idle connection, or undefined (then {@linkcode acquire} opens or waits); no promise on this path. */
  takeIdle(): PooledConnection | undefined {
    return this.#takeIdle();
  }

  #takeIdle(): PooledConnection | undefined {
    const connection = this.#idle.pop();
    if (connection === undefined) return undefined;
    connection.reused = true;
    const stats = this.#options.stats;
    stats.idle--;
    stats.active++;
    stats.reused++;
    return connection;
  }

  async #connectWithTimeout(): Promise<Deno.Conn> {
    const timeoutMs = this.#options.connectTimeoutMs;
    const pending = this.#options.connect();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ProxyError("timeout", `connect took over ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([pending, timeout]);
    } catch (error) {
      // A connect that completes after its timeout is closed, not leaked.
      pending.then((conn) => conn.close(), () => {});
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Gives a connection back: kept idle when `reusable` (and there is room), destroyed otherwise. */
  release(connection: PooledConnection, reusable: boolean): void {
    const stats = this.#options.stats;
    stats.active--;
    if (!reusable || connection.closed || this.#disposed || connection.start !== connection.end) {
      this.#destroy(connection);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      connection.reused = true;
      stats.active++;
      stats.reused++;
      waiter.resolve(connection);
      return;
    }
    if (this.#idle.length >= this.#options.maxIdleConnections) {
      this.#destroy(connection);
      return;
    }
    connection.start = connection.end = 0;
    connection.idleSince = performance.now();
    stats.idle++;
    this.#idle.push(connection);
    if (this.#sweep === undefined) {
      const every = Math.max(10, Math.min(1_000, this.#options.idleTimeoutMs / 4));
      this.#sweep = setInterval(() => this.#closeExpired(), every);
    }
  }

  /** Closes connections idle for idleTimeoutMs (the oldest are at the front of the list). */
  #closeExpired(): void {
    const limit = performance.now() - this.#options.idleTimeoutMs;
    const idle = this.#idle;
    let expired = 0;
    while (expired < idle.length && idle[expired]!.idleSince <= limit) expired++;
    if (expired > 0) {
      for (const connection of idle.splice(0, expired)) {
        this.#options.stats.idle--;
        this.#destroy(connection);
      }
    }
    if (idle.length === 0) this.#stopSweep();
  }

  #stopSweep(): void {
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #destroy(connection: PooledConnection): void {
    connection.close();
    this.#open--;
    this.#wakeWaiter();
  }

  /** A slot freed up: a waiter may open a new connection. */
  #wakeWaiter(): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    // Hand over a closed placeholder: the waiter opens its own connection in the freed slot.
    this.#open++;
    const placeholder = { closed: true } as PooledConnection;
    waiter.resolve(placeholder);
  }

  [Symbol.dispose](): void {
    this.#disposed = true;
    this.#stopSweep();
    const stats = this.#options.stats;
    for (const connection of this.#idle) {
      stats.idle--;
      connection.close();
      this.#open--;
    }
    this.#idle.length = 0;
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(undefined);
    }
    this.#waiters.length = 0;
  }
}

/**
 * Writes `text` one byte per char into `out` (long enough: UTF-8 needed more) when every char is below 256,
 * and returns the length; otherwise leaves the UTF-8 bytes and returns `utf8Length`.
 */
function latin1Into(text: string, out: Uint8Array, utf8Length: number): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 255) return utf8Length;
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return text.length;
}
