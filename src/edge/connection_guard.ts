/**
 * Connection guard: accepts TCP connections itself and relays each one to `Deno.serve` on a private loopback
 * TCP port (port 0, needs only --allow-net) with plain read/write loops, so it can do what Deno.serve cannot:
 * a header-read timeout (408 and close), an idle keep-alive timeout, strict head syntax (bare LF or CR → 400,
 * more header fields than allowed → 431, both and close), strict chunked framing (400 and close), a
 * connection cap (503 and close) and closing the connection after a response that says `Connection: close`.
 * Plain HTTP only. The client's address reaches the app as `info.remoteAddr`: the guard keys each relay by
 * the local port of its loopback connection, and the inner handler looks its peer up there; a connection to
 * the inner port that the guard did not open gets 403 and no app.
 */
import { type BodyFraming, ChunkedScanner, HeadScan, scanHead } from "./head_scanner.ts";

export interface GuardOptions {
  readonly hostname: string;
  readonly port: number;
  readonly headerTimeoutMs: number;
  readonly maxHeaderCount: number;
  readonly maxHeadBytes: number;
  readonly maxConnections: number;
  /** Open connections from one IP address; 0 = no cap. */
  readonly maxConnectionsPerClient: number;
  /** No request in progress and no byte received for this long after a response: close. */
  readonly idleTimeoutMs: number;
  /** SO_REUSEPORT on the public listener (one guard per worker isolate). */
  readonly reusePort?: boolean;
}

/** One relayed client connection, as the inner handler sees it. */
interface Relay {
  readonly peer: Deno.NetAddr;
  /** Set when a response said `Connection: close`: no further request is relayed. */
  closing: boolean;
  /** Called once that response is written: ends the inner connection after it. */
  finish(): void;
  /** Requests relayed to Deno.serve whose response is not completely written yet. */
  inFlight: number;
  /** Called when `inFlight` drops to 0. */
  onIdle: (() => void) | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** How long a connection closed after a `Connection: close` response keeps draining the client's bytes. */
const LINGER_MS = 2_000;
const REASONS: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

/** The guard's own answer; without the body when it answers a HEAD request (RFC 9110 §9.3.2). */
function errorResponse(status: number, headRequest = false): Uint8Array {
  const reason = REASONS[status] ?? "Error";
  const body = `${status} ${reason}\n`;
  return encoder.encode(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n` +
      `connection: close\r\n\r\n${headRequest ? "" : body}`,
  );
}

/** Whether the request head in `bytes` (empty lines before it allowed) has the method HEAD. */
function isHeadRequest(bytes: Uint8Array): boolean {
  let at = 0;
  while (at < bytes.length && (bytes[at] === 13 || bytes[at] === 10)) at++;
  return bytes[at] === 72 && bytes[at + 1] === 69 && bytes[at + 2] === 65 && bytes[at + 3] === 68 &&
    bytes[at + 4] === 32; // "HEAD "
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  total = 0;
  for (const p of parts) {
    out.set(p, total);
    total += p.length;
  }
  return out;
}

/** One guarded listener; `handler` is the app, served by Deno.serve on the unix side. */
export class ConnectionGuard implements AsyncDisposable {
  readonly addr: Deno.NetAddr;
  readonly #listener: Deno.TcpListener;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #inner: Deno.NetAddr;
  /** Relays by the local port of the guard's connection to the inner server. */
  readonly #relays = new Map<number, Relay>();
  readonly #options: GuardOptions;
  readonly #clients = new Set<Deno.TcpConn>();
  readonly #perClient = new Map<string, number>();
  readonly #relaying = new Set<Promise<void>>();

  constructor(options: GuardOptions, handler: Deno.ServeHandler<Deno.NetAddr>) {
    this.#options = options;
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request, info) => {
      const relay = this.#relays.get(info.remoteAddr.port);
      if (relay === undefined) {
        return new Response("403 not through the connection guard\n", {
          status: 403,
          headers: { connection: "close" },
        });
      }
      // Counted down once Deno.serve has written the whole response (the guard orders its own error answers
      // after it); `completed` costs ≈ 3 µs a request, which only the guard pays.
      const done = () => {
        if (--relay.inFlight === 0) relay.onIdle?.();
      };
      info.completed.then(done, done);
      const response = await handler(request, {
        remoteAddr: relay.peer,
        get completed() {
          return info.completed;
        },
      });
      if (/\bclose\b/i.test(response.headers.get("connection") ?? "")) {
        relay.closing = true;
        info.completed.then(() => relay.finish(), () => relay.finish());
      }
      return response;
    });
    this.#inner = this.#server.addr;
    this.#listener = Deno.listen({
      hostname: options.hostname,
      port: options.port,
      ...(options.reusePort ? { reusePort: true } : {}),
    });
    this.addr = this.#listener.addr;
    this.#accept();
  }

  /** The loopback port of the inner Deno.serve (tests). */
  get innerPort(): number {
    return this.#inner.port;
  }

  /** Open client connections. */
  get open(): number {
    return this.#clients.size;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const cap = this.#options.maxConnections;
        if (cap > 0 && this.#clients.size >= cap) {
          conn.write(errorResponse(503)).catch(() => {}).finally(() => {
            try {
              conn.close();
            } catch { /* closed */ }
          });
          continue;
        }
        const ip = conn.remoteAddr.hostname;
        const fromIp = this.#perClient.get(ip) ?? 0;
        const perClient = this.#options.maxConnectionsPerClient;
        if (perClient > 0 && fromIp >= perClient) {
          conn.write(errorResponse(503)).catch(() => {}).finally(() => {
            try {
              conn.close();
            } catch { /* closed */ }
          });
          continue;
        }
        this.#perClient.set(ip, fromIp + 1);
        this.#clients.add(conn);
        const relaying: Promise<void> = this.#relay(conn).catch(() => {}).finally(() => {
          this.#relaying.delete(relaying);
          this.#clients.delete(conn);
          const left = (this.#perClient.get(ip) ?? 1) - 1;
          if (left === 0) this.#perClient.delete(ip);
          else this.#perClient.set(ip, left);
        });
        this.#relaying.add(relaying);
      }
    } catch { /* listener closed */ }
  }

  async #relay(client: Deno.TcpConn): Promise<void> {
    let server: Deno.TcpConn;
    try {
      server = await Deno.connect({ hostname: this.#inner.hostname, port: this.#inner.port });
    } catch {
      client.close();
      return;
    }
    const innerPort = server.localAddr.port;
    let closed = false;
    const closeAll = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      for (const c of [client, server]) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    };
    const fail = async (status: number) => {
      if (closed) return;
      closed = true; // no more relaying either way
      clearTimeout(timer);
      try {
        server.close();
      } catch { /* closed */ }
      await client.write(errorResponse(status)).catch(() => {});
      try {
        client.close();
      } catch { /* closed */ }
    };
    // A head that fails the checks is answered after the answers to the requests before it: Deno.serve gets
    // EOF, finishes what it has, and closes; then the error goes out and the connection closes.
    let pendingError: number | undefined;
    let pendingForHead = false;
    const failAfterAnswers = (status: number, headRequest: boolean) => {
      if (closed) return;
      pendingError = status;
      pendingForHead = headRequest;
      clearTimeout(timer);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        try {
          server.closeWrite();
        } catch { /* closed */ }
      };
      if (relay.inFlight === 0) return end();
      // EOF to Deno.serve only once the answers before are written: it drops a response still in progress.
      relay.onIdle = end;
      timer = setTimeout(end, this.#options.headerTimeoutMs); // should an answer never complete
    };
    const relay: Relay = {
      peer: client.remoteAddr,
      closing: false,
      finish: () => {
        try {
          server.closeWrite(); // Deno.serve closes after the response; the back loop then closes the client
        } catch { /* closed */ }
      },
      inFlight: 0,
      onIdle: undefined,
    };
    this.#relays.set(innerPort, relay);
    let timer = setTimeout(() => fail(408), this.#options.headerTimeoutMs);
    const scan = new HeadScan();
    let head: Uint8Array = new Uint8Array(0);
    let framing: BodyFraming | "tunnel" | "head" = "head";
    const reader = Promise.withResolvers<void>();
    // One request at a time goes to Deno.serve: a pipelined head waits until the previous request's answer
    // starts coming back (Deno.serve writes nothing before the handler returned, so by then a
    // `Connection: close` answer has set `relay.closing`, and the waiting head is dropped instead of served).
    let awaitingAnswer: PromiseWithResolvers<void> | undefined;
    let upgradePending = false;
    /** The request relayed last said the connection ends after its answer: later bytes are dropped. */
    let lastRequest = false;
    let backDone = false;
    const answered = () => {
      awaitingAnswer?.resolve();
      awaitingAnswer = undefined;
    };
    const back = (async () => {
      const buffer = new Uint8Array(65536);
      while (!closed) {
        const n = await server.read(buffer).catch(() => null);
        if (n === null || closed) break;
        if (upgradePending) {
          // The first bytes of the Upgrade request's answer: "HTTP/1.1 101" makes the connection a tunnel.
          upgradePending = false;
          if (n >= 12 && decoder.decode(buffer.subarray(0, 12)) === "HTTP/1.1 101") framing = "tunnel";
        }
        answered();
        if (await client.write(buffer.subarray(0, n)).then(() => false, () => true)) break;
        if (framing === "head" && head.length === 0 && scan.pos === 0) {
          clearTimeout(timer); // keep-alive: nothing received since; closed quietly after idle_timeout
          timer = setTimeout(closeAll, this.#options.idleTimeoutMs);
        }
      }
      backDone = true;
      answered(); // the inner side is done: a waiting head goes nowhere
      // Not after an answer that closed the connection: one that said so (closing), or one Deno.serve gave
      // by itself (a request still counted in flight, which the app never saw) before it closed.
      if (pendingError !== undefined && !closed && !relay.closing && relay.inFlight === 0) {
        await client.write(errorResponse(pendingError, pendingForHead)).catch(() => {});
        relay.closing = true; // and close as below
      }
      if ((relay.closing || lastRequest) && !closed) {
        // Lingering close: FIN after the response, drop what the client still sends, so that closing
        // with unread bytes does not reset the connection before the client has read the response.
        try {
          await client.closeWrite();
        } catch { /* closed */ }
        clearTimeout(timer);
        timer = setTimeout(closeAll, LINGER_MS);
        await reader.promise;
      }
      closeAll();
    })();

    let remaining = 0;
    let chunks = new ChunkedScanner();
    const buffer = new Uint8Array(65536);
    /** Relays bytes[at, n); false when the connection failed. */
    const process = async (bytes: Uint8Array, at: number, n: number): Promise<boolean> => {
      while (at < n) {
        if (relay.closing) return true; // the app said Connection: close: later bytes are read and dropped
        if (framing === "tunnel") {
          await server.write(bytes.subarray(at, n));
          return true;
        }
        if (framing === "head") {
          if (lastRequest) return true; // after a request that ends the connection nothing more is served
          if (head.length === 0 && scan.pos === 0) {
            clearTimeout(timer); // a new head: it must complete within header_timeout
            timer = setTimeout(() => fail(408), this.#options.headerTimeoutMs);
          }
          head = concat([head, bytes.subarray(at, n)]);
          const result = scanHead(head, head.length, scan, this.#options, "");
          if (result.kind === "incomplete") return true;
          if (result.kind === "error") {
            failAfterAnswers(result.status, isHeadRequest(head));
            return false;
          }
          clearTimeout(timer);
          if (awaitingAnswer !== undefined) {
            await awaitingAnswer.promise;
            if (closed) return false;
            if ((framing as typeof framing | "tunnel") === "tunnel") {
              // The request before was upgraded meanwhile: these bytes belong to the tunnel.
              await server.write(head);
              head = new Uint8Array(0);
              scan.reset();
              return true;
            }
          }
          if (relay.closing) return true; // pipelined behind a Connection: close answer: dropped
          if (!backDone) awaitingAnswer = Promise.withResolvers();
          relay.inFlight++;
          await server.write(head.subarray(result.start, result.end));
          const rest = head.subarray(result.end);
          scan.reset();
          head = new Uint8Array(0);
          // An Upgrade request is an ordinary request (body framing and all) until its answer is a 101.
          upgradePending = result.upgrade;
          lastRequest = result.close;
          framing = result.body.kind === "none" ? "head" : result.body;
          if (framing !== "head") {
            if (framing.kind === "length") remaining = framing.length;
            else chunks = new ChunkedScanner();
          }
          bytes = rest;
          at = 0;
          n = rest.length;
          continue;
        }
        if (framing.kind === "length") {
          const take = Math.min(remaining, n - at);
          await server.write(bytes.subarray(at, at + take));
          remaining -= take;
          at += take;
          if (remaining === 0) framing = "head";
        } else {
          const progress = chunks.scan(bytes, at, n);
          if (progress.error !== undefined) {
            await fail(400);
            return false;
          }
          await server.write(bytes.subarray(at, at + progress.consumed));
          at += progress.consumed;
          if (progress.done) framing = "head";
        }
      }
      return true;
    };
    try {
      while (!closed) {
        const n = await client.read(buffer).catch(() => null);
        if (n === null || closed) break;
        if (!(await process(buffer, 0, n))) break;
      }
      if (!closed && !relay.closing && !lastRequest && pendingError === undefined) server.closeWrite();
    } catch {
      closeAll();
    }
    reader.resolve();
    await back;
    this.#relays.delete(innerPort);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* closed */ }
    // Drain: Deno.serve finishes in-flight responses and closes its side, which ends those relays; then the
    // client connections still open (mid-head, idle) are closed.
    await this.#server.shutdown();
    // The last responses may still be on their way through the relay: let the relays end (Deno.serve has
    // closed its side of each), bounded, before closing what is left.
    let bound: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.#relaying]),
      new Promise((resolve) => bound = setTimeout(resolve, 5_000)),
    ]);
    clearTimeout(bound);
    for (const c of this.#clients) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  }
}
