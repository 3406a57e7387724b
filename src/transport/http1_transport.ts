/**
 * The default transport: an HTTP/1.1 client on Deno.connect / Deno.connectTls with one connection pool per
 * upstream. It writes exactly the fields it is given (nothing invented), parses responses strictly (see
 * response_parser.ts), and hands the body over as bytes when it is already complete, or as a pull stream
 * (backpressure: nothing is read from the upstream until the client side asks) otherwise.
 */
import { ProxyError } from "../errors.ts";
import type { Upstream } from "../upstream/upstream.ts";
import type { Cancellation } from "./cancellation.ts";
import { ConnectionPool, type PooledConnection } from "./connection_pool.ts";
import {
  ChunkedDecoder,
  parseResponseHead,
  type ResponseHead,
  ResponseParseError,
} from "./response_parser.ts";
import type { ExchangeRequest, Transport, UpstreamResponse } from "./transport.ts";

export interface ConnectionPoolSettings {
  readonly maxIdleConnections: number;
  /** 0 = unlimited. */
  readonly maxConnections: number;
  readonly queueTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

export const DEFAULT_CONNECTION_POOL: ConnectionPoolSettings = {
  maxIdleConnections: 64,
  maxConnections: 0,
  queueTimeoutMs: 1_000,
  idleTimeoutMs: 4_000,
  connectTimeoutMs: 5_000,
};

export interface Http1TransportOptions {
  readonly pool?: ConnectionPoolSettings | undefined;
  /** Largest response head accepted (server.max_response_header_size), bytes. */
  readonly maxResponseHeaderBytes: number;
  /** TLS roots for https upstreams (PEM); default: system store. */
  readonly caCerts?: string[] | undefined;
}

/** Request bodies up to this size go out in the same write as the head. */
const SMALL_BODY_BYTES = 64 * 1024;
/** Read size for streamed bodies. */
const READ_BYTES = 256 * 1024;
/** Streamed bodies read this many chunks ahead of the client (reading overlaps writing; still bounded). */
const READ_AHEAD = 2;

const IDEMPOTENT: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

const encoder = new TextEncoder();
const CRLF = encoder.encode("\r\n");
const LAST_CHUNK = encoder.encode("0\r\n\r\n");

/** Marks a failure on a reused connection before any response byte: the stale-connection retry applies. */
class StaleConnection extends Error {}

export class Http1Transport implements Transport {
  readonly name = "http1" as const;
  readonly #pools = new Map<Upstream, ConnectionPool>();
  readonly #settings: ConnectionPoolSettings;
  readonly #maxHeadBytes: number;
  readonly #caCerts: string[] | undefined;

  constructor(options: Http1TransportOptions) {
    this.#settings = options.pool ?? DEFAULT_CONNECTION_POOL;
    this.#maxHeadBytes = options.maxResponseHeaderBytes;
    this.#caCerts = options.caCerts;
  }

  /** The pool of `upstream` (created on first use). */
  poolFor(upstream: Upstream): ConnectionPool {
    let pool = this.#pools.get(upstream);
    if (pool === undefined) {
      const url = upstream.url;
      const hostname = url.hostname.replace(/^\[|\]$/g, "");
      const tls = url.protocol === "https:";
      const port = url.port === "" ? (tls ? 443 : 80) : Number(url.port);
      const caCerts = this.#caCerts;
      const connect = tls
        ? async () => {
          const conn = await Deno.connectTls({
            hostname,
            port,
            alpnProtocols: ["http/1.1"],
            ...(caCerts ? { caCerts } : {}),
          });
          // connectTls returns before the handshake: finish it here, inside connect_timeout.
          try {
            await conn.handshake();
          } catch (error) {
            conn.close();
            throw error;
          }
          return conn;
        }
        : async () => {
          const conn = await Deno.connect({ hostname, port });
          conn.setNoDelay(true);
          return conn;
        };
      pool = new ConnectionPool({ ...this.#settings, connect, stats: upstream.connections });
      this.#pools.set(upstream, pool);
    }
    return pool;
  }

  async exchange(upstream: Upstream, request: ExchangeRequest): Promise<UpstreamResponse> {
    const pool = this.poolFor(upstream);
    const headers = request.headers;
    const acceptEncoding = request.acceptEncoding;
    if (headers instanceof Headers) {
      if (acceptEncoding === null) headers.delete("accept-encoding");
      else headers.set("accept-encoding", acceptEncoding);
    } else if (acceptEncoding === null) delete headers["accept-encoding"];
    else headers["accept-encoding"] = acceptEncoding;
    const basePath = upstream.url.pathname.replace(/\/$/, "");
    const head = requestHead(request, basePath + request.pathAndQuery, upstream.url.host);
    const retryable = IDEMPOTENT.has(request.method) ||
      (headers instanceof Headers
        ? headers.has("idempotency-key")
        : headers["idempotency-key"] !== undefined);
    // An idle connection is taken synchronously: no abort wrapper (a promise and a listener) for the usual case.
    const signal = request.signal;
    if (signal.aborted) throw signal.reason;
    const connection = pool.takeIdle() ?? await acquire(pool, signal);
    try {
      return await this.#attempt(pool, connection, head, request);
    } catch (error) {
      if (!(error instanceof StaleConnection)) throw error;
      const body = request.body;
      // Retry once on a fresh connection: safe when the method is idempotent (or keyed), or nothing was sent.
      const sentNothing = (error.cause as { wrote: boolean }).wrote === false;
      // A streamed body was (partly) consumed by the first attempt: it cannot be sent again.
      const replayable = body === null || body instanceof Uint8Array;
      if (!replayable || !(retryable || sentNothing)) {
        throw new ProxyError("reset", "upstream closed a reused connection");
      }
      const fresh = await acquireFresh(pool, request.signal);
      try {
        return await this.#attempt(pool, fresh, head, request);
      } catch (again) {
        if (again instanceof StaleConnection) {
          throw new ProxyError("reset", "connection closed before a response");
        }
        throw again;
      }
    }
  }

  async #attempt(
    pool: ConnectionPool,
    connection: PooledConnection,
    head: string,
    request: ExchangeRequest,
  ): Promise<UpstreamResponse> {
    const signal = request.signal;
    const onAbort = () => connection.close();
    signal.onAbort(onAbort);
    let released = false;
    const release = (reusable: boolean) => {
      if (released) return;
      released = true;
      signal.offAbort(onAbort);
      pool.release(connection, reusable);
    };
    const progress = { wrote: false, bodyDone: false };
    let writing: Promise<void> | undefined;
    let parsed: ResponseHead;
    try {
      writing = writeRequest(connection, head, request.body, progress);
      // A failed body write shows up as a failed read (the upstream reset) or after the response (not reused).
      writing.catch(() => connection.close());
      parsed = await this.#readHead(connection, request.method, pool);
    } catch (error) {
      release(false);
      if (signal.aborted) throw signal.reason ?? error;
      if (error instanceof ProxyError) throw error;
      if (error instanceof ResponseParseError) throw new ProxyError("bad_response", error.message);
      if (connection.reused && !(error instanceof HeadStarted)) {
        throw new StaleConnection("stale", { cause: progress });
      }
      if (error instanceof HeadStarted) {
        throw new ProxyError("reset", "connection closed in the response head");
      }
      throw new ProxyError("reset", "connection closed before a response");
    }

    const fields = parsed.fields;
    const framing = parsed.framing;
    const reusable = () => parsed.reusable && progress.bodyDone;
    let body: UpstreamResponse["body"];
    if (framing === "none") {
      body = request.method === "HEAD" || parsed.status === 204 || parsed.status === 304
        ? null
        : new Uint8Array();
      finish(writing, release, reusable);
    } else if (framing === "length" && connection.end - connection.start >= parsed.contentLength) {
      const end = connection.start + parsed.contentLength;
      body = connection.buf.slice(connection.start, end);
      connection.start = end;
      finish(writing, release, reusable);
    } else if (framing === "chunked") {
      body = this.#chunked(connection, writing, release, reusable, fields);
    } else {
      body = framing === "length"
        ? lengthStream(connection, parsed.contentLength, release, reusable, writing, signal)
        : closeStream(connection, release, signal);
    }
    // The length of a HEAD or 304 response describes the GET representation: kept. Otherwise it must match the
    // body the client gets (chunked or read-until-close bodies have no trustworthy length).
    if (framing === "chunked" || framing === "close" || parsed.status === 204 || parsed.status < 200) {
      removeField(fields, "content-length");
    }
    return {
      status: parsed.status,
      // `new Response` rejects a reason phrase with obs-text; the phrase carries no meaning (RFC 9112 §4).
      statusText: /^[\t\x20-\x7e]*$/.test(parsed.reason) ? parsed.reason : "",
      headers: fields,
      body,
      needsAbortPipe: false,
    };
  }

  /** Reads response heads, skipping (and counting) 1xx interim responses. */
  async #readHead(connection: PooledConnection, method: string, pool: ConnectionPool): Promise<ResponseHead> {
    const maxBytes = this.#maxHeadBytes;
    let sawByte = false;
    while (true) {
      if (connection.end > connection.start) {
        sawByte = true;
        const head = parseResponseHead(connection.buf, connection.start, connection.end, {
          method,
          maxBytes,
        });
        if (head !== undefined) {
          connection.start += head.headBytes;
          if (head.status >= 200) return head;
          if (head.status === 101) {
            throw new ProxyError("bad_response", "101 Switching Protocols without upgrade");
          }
          pool.stats.interim++;
          continue;
        }
      }
      if (!(await connection.fill())) {
        if (sawByte) throw new HeadStarted();
        throw new Error("closed");
      }
    }
  }

  #chunked(
    connection: PooledConnection,
    writing: Promise<void>,
    release: (reusable: boolean) => void,
    reusable: () => boolean,
    _fields: Array<[string, string]>,
  ): UpstreamResponse["body"] {
    const decoder = new ChunkedDecoder();
    const parts: Uint8Array[] = [];
    let size = 0;
    const collect = (data: Uint8Array) => {
      parts.push(data.slice());
      size += data.length;
    };
    try {
      connection.start += decoder.push(connection.buf, connection.start, connection.end, collect);
    } catch (error) {
      release(false);
      throw new ProxyError("bad_response", (error as Error).message);
    }
    if (decoder.done) {
      finish(writing, release, reusable);
      return concat(parts, size);
    }
    return new ReadableStream<Uint8Array<ArrayBuffer>>({
      start(controller) {
        for (const part of parts) controller.enqueue(part as Uint8Array<ArrayBuffer>);
      },
      async pull(controller) {
        try {
          let enqueued = false;
          while (!enqueued) {
            // Read into a fresh buffer and enqueue views of it (no copy); bytes after the body's end (there
            // should be none before our next request) are kept in the connection's buffer.
            const fresh = new Uint8Array(READ_BYTES);
            const n = await connection.conn.read(fresh);
            if (n === null) throw new ProxyError("reset", "upstream closed mid-body");
            const used = decoder.push(fresh, 0, n, (data) => {
              controller.enqueue(data as Uint8Array<ArrayBuffer>);
              enqueued = true;
            });
            if (used < n) {
              connection.buf.set(fresh.subarray(used, Math.min(n, used + connection.buf.length)));
              connection.start = 0;
              connection.end = n - used;
            }
            if (decoder.done) {
              controller.close();
              finish(writing, release, reusable);
              return;
            }
          }
        } catch (error) {
          release(false);
          controller.error(
            error instanceof ResponseParseError ? new ProxyError("bad_response", error.message) : error,
          );
        }
      },
      cancel() {
        release(false);
      },
    }, { highWaterMark: READ_AHEAD });
  }

  [Symbol.dispose](): void {
    for (const pool of this.#pools.values()) pool[Symbol.dispose]();
    this.#pools.clear();
  }
}

/** Thrown when the connection closed after part of a head arrived (never a stale-connection retry). */
class HeadStarted extends Error {}

function acquire(pool: ConnectionPool, signal: Cancellation): Promise<PooledConnection> {
  return withAbort(pool, pool.acquire(), signal);
}

function acquireFresh(pool: ConnectionPool, signal: Cancellation): Promise<PooledConnection> {
  return withAbort(pool, pool.acquireNew(), signal);
}

/** Rejects when `signal` aborts first; a connection that arrives later goes back to the pool unused. */
function withAbort(
  pool: ConnectionPool,
  pending: Promise<PooledConnection>,
  signal: Cancellation,
): Promise<PooledConnection> {
  const giveBack = (connection: PooledConnection) => pool.release(connection, true);
  if (signal.aborted) {
    pending.then(giveBack, () => {});
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.onAbort(onAbort);
    pending.then((connection) => {
      signal.offAbort(onAbort);
      if (signal.aborted) giveBack(connection);
      else resolve(connection);
    }, (error) => {
      signal.offAbort(onAbort);
      reject(error);
    });
  });
}

/** The request head: request line, the given fields, Host when absent, and body framing. */
function requestHead(request: ExchangeRequest, target: string, authority: string): string {
  let head = `${request.method} ${target} HTTP/1.1\r\n`;
  const body = request.body;
  let hasHost = false;
  let hasLength = false;
  const add = (value: string, name: string) => {
    if (name === "host") hasHost = true;
    else if (name === "content-length") {
      hasLength = true;
      if (body instanceof Uint8Array || body === null) return; // framing decided below
      // Deno.serve accepts "42, 42" (and repeated identical lines, joined so); RFC 9110 §8.6 asks a recipient
      // that accepts it to pass on the single value.
      const comma = value.indexOf(",");
      if (comma >= 0) value = value.slice(0, comma).trim();
    } else if (name === "transfer-encoding") return;
    head += `${name}: ${value}\r\n`;
  };
  const headers = request.headers;
  if (headers instanceof Headers) headers.forEach(add);
  else for (const name in headers) add(headers[name]!, name);
  let framing = "";
  if (body instanceof Uint8Array) framing = `content-length: ${body.byteLength}\r\n`;
  else if (body === null) {
    if (hasLength) framing = "content-length: 0\r\n";
  } else if (!hasLength) framing = "transfer-encoding: chunked\r\n";
  const line = head.indexOf("\r\n") + 2;
  return head.slice(0, line) + (hasHost ? "" : `host: ${authority}\r\n`) + framing + head.slice(line) +
    "\r\n";
}

async function writeRequest(
  connection: PooledConnection,
  head: string,
  body: ExchangeRequest["body"],
  progress: { wrote: boolean; bodyDone: boolean },
): Promise<void> {
  if (body === null || (body instanceof Uint8Array && body.byteLength <= SMALL_BODY_BYTES)) {
    progress.wrote = true;
    await connection.writeAll(connection.requestBytes(head, body));
    progress.bodyDone = true;
    return;
  }
  progress.wrote = true;
  await connection.writeAll(connection.requestBytes(head, null));
  if (body instanceof Uint8Array) {
    await connection.writeAll(body);
    progress.bodyDone = true;
    return;
  }
  const chunked = !/\r\ncontent-length:/i.test(head);
  const reader = body.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.byteLength === 0) continue;
      if (chunked) {
        await connection.writeAll(encoder.encode(value.byteLength.toString(16) + "\r\n"));
        await connection.writeAll(value);
        await connection.writeAll(CRLF);
      } else {
        await connection.writeAll(value);
      }
    }
    if (chunked) await connection.writeAll(LAST_CHUNK);
    progress.bodyDone = true;
  } finally {
    reader.releaseLock();
  }
}

/** After a complete response: back to the pool once the request body is fully written too. */
function finish(
  writing: Promise<void>,
  release: (reusable: boolean) => void,
  reusable: () => boolean,
): void {
  if (reusable()) release(true);
  else writing.then(() => release(reusable()), () => release(false));
}

function lengthStream(
  connection: PooledConnection,
  length: number,
  release: (reusable: boolean) => void,
  reusable: () => boolean,
  writing: Promise<void>,
  signal: Cancellation,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  let remaining = length;
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      try {
        if (connection.end > connection.start) {
          const n = Math.min(remaining, connection.end - connection.start);
          controller.enqueue(connection.buf.slice(connection.start, connection.start + n));
          connection.start += n;
          remaining -= n;
        } else {
          const chunk = new Uint8Array(Math.min(remaining, READ_BYTES));
          const n = await connection.conn.read(chunk);
          if (n === null) throw new ProxyError("reset", "upstream closed mid-body");
          controller.enqueue(chunk.subarray(0, n));
          remaining -= n;
        }
        if (remaining === 0) {
          controller.close();
          finish(writing, release, reusable);
        }
      } catch (error) {
        release(false);
        controller.error(signal.aborted ? signal.reason : error);
      }
    },
    cancel() {
      release(false);
    },
  }, { highWaterMark: READ_AHEAD });
}

function closeStream(
  connection: PooledConnection,
  release: (reusable: boolean) => void,
  signal: Cancellation,
): ReadableStream<Uint8Array<ArrayBuffer>> {
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    async pull(controller) {
      try {
        if (connection.end > connection.start) {
          controller.enqueue(connection.buf.slice(connection.start, connection.end));
          connection.start = connection.end;
          return;
        }
        const chunk = new Uint8Array(READ_BYTES);
        const n = await connection.conn.read(chunk);
        if (n === null) {
          controller.close();
          release(false);
          return;
        }
        controller.enqueue(chunk.subarray(0, n));
      } catch (error) {
        release(false);
        controller.error(signal.aborted ? signal.reason : error);
      }
    },
    cancel() {
      release(false);
    },
  }, { highWaterMark: READ_AHEAD });
}

function removeField(fields: Array<[string, string]>, name: string): void {
  for (let i = fields.length - 1; i >= 0; i--) if (fields[i]![0] === name) fields.splice(i, 1);
}

function concat(parts: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  if (parts.length === 1) return parts[0] as Uint8Array<ArrayBuffer>;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
