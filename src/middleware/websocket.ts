import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { errorResponse, ProxyError } from "../errors.ts";
import { upstreamRequestHeaders } from "../proxy/headers.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { requestFacts } from "./forward_request.ts";
import { fieldValue } from "../proxy/field_list.ts";

/** Told when a relayed WebSocket opens and closes (ProxyMetrics has these two methods). */
export interface WebSocketObserver {
  websocketOpened(): void;
  websocketClosed(): void;
}

export interface WebSocketProxyOptions {
  /** Counts open relays, e.g. the metrics registry's `proxy_websockets_open` gauge. */
  observer?: WebSocketObserver;
}

/** Handshake fields the upstream connection makes itself (RFC 6455 §4.1), plus our fetch-only placeholders. */
const HANDSHAKE_FIELDS = [
  "host",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
];

/** Whether the request asks for `Upgrade: websocket` (what {@linkcode webSocketProxy} relays). */
export function isWebSocketUpgrade(request: Request): boolean {
  const upgrade = fieldValue(request.headers, "upgrade");
  return upgrade !== null && upgrade.toLowerCase() === "websocket";
}

/** Close code for "the proxy stopped this relay because one side could not keep up" (RFC 6455 §7.4.1). */
const TRY_AGAIN_LATER = 1013;

type Frame = string | ArrayBuffer;

/**
 * Relays `Upgrade: websocket` requests (RFC 6455) to an upstream of the route's pool, so it sits after
 * routing and before the forwarder (which strips `Upgrade` as a hop-by-hop field). The upstream is the one an
 * HTTP request with the same facts gets (src/pool/upstream_selection.ts: sticky cookie, hash key, backups,
 * breakers, panic); a handshake that fails before any answer is retried on another upstream as a GET would be.
 *
 * The upstream side is Deno's `WebSocket` client, whose non-standard `headers` option carries cookies, auth
 * and the X-Forwarded fields; the client side is accepted only once the upstream has accepted, so the
 * subprotocol the upstream picked is the one the client gets, and an upstream refusal (403, 404, ...)
 * reaches the client as that status. Frames keep their type (text or binary); close codes and reasons pass
 * both ways. The WebSocket API cannot pause a reader, so backpressure is a bound: when more than
 * `websocket.max_buffered_size` bytes wait for one side, both sides are closed with 1013.
 */
export function webSocketProxy(options: WebSocketProxyOptions = {}): MiddlewareHandler<AppEnv> {
  const { observer } = options;
  return async function webSocketProxy(c, next) {
    const request = c.req.raw;
    if (!isWebSocketUpgrade(request)) return await next();
    const runtime = c.env.runtime;
    const route = c.env.matched();
    const requestId = c.env.requestId;
    const incoming = request.headers;
    if (request.method !== "GET" || !incoming.has("sec-websocket-key")) {
      return errorResponse(400, "invalid WebSocket upgrade request", requestId);
    }
    if (incoming.get("sec-websocket-version") !== "13") {
      return errorResponse(426, "unsupported WebSocket version", requestId, {
        "sec-websocket-version": "13",
      });
    }
    const pool = route.pool;
    const attempt = pool.selection.begin(requestFacts(c, request.method));

    // Everything we need from the request is read here: after Deno.upgradeWebSocket it is closed.
    const headers = upstreamRequestHeaders(incoming, {
      clientIp: c.env.peerIp,
      trusted: c.env.trusted,
      proto: runtime.proto,
      host: incoming.get("host") ?? "",
      requestId,
      via: runtime.via,
    });
    for (const name of HANDSHAKE_FIELDS) headers.delete(name);
    // upstreamRequestHeaders sets these empty to stop fetch inventing values; the WebSocket client appends
    // its own User-Agent to whatever is there, so leave them out rather than send "Deno/2.9.6, ".
    if (headers.get("user-agent") === "") headers.delete("user-agent");
    if (headers.get("accept-language") === "") headers.delete("accept-language");
    if (runtime.config.limits.underscoreHeaders === "drop") {
      for (const [name] of [...headers]) if (name.includes("_")) headers.delete(name);
    }
    const protocols = (incoming.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim())
      .filter((p) => p !== "");
    const client = pool.webSocketClient;

    let upstream: Upstream;
    let upstreamSocket: WebSocket;
    for (;;) {
      upstream = attempt.upstream!;
      c.env.upstream = upstream;
      c.env.attempts = attempt.count;
      const url = upstream.id.replace(/^http/, "ws") + c.env.pathAndQuery;
      upstream.acquire();
      try {
        upstreamSocket = await connect(url, {
          protocols,
          headers,
          ...(client ? { client } : {}),
        }, runtime.config.server.firstByteTimeoutMs);
        attempt.answered(101);
        break;
      } catch (error) {
        upstream.release();
        if (error instanceof RefusedUpgrade) {
          attempt.answered(error.status);
          return errorResponse(error.status, "upstream refused the WebSocket upgrade", requestId);
        }
        if (!(error instanceof ProxyError)) {
          attempt.abandoned();
          throw error;
        }
        if (!attempt.failed(error)) throw error;
        await attempt.backoff();
      }
    }

    let upgraded: Deno.WebSocketUpgrade;
    try {
      const pingSeconds = runtime.config.websocket.pingIntervalMs / 1000;
      upgraded = Deno.upgradeWebSocket(request, {
        idleTimeout: pingSeconds,
        ...(upstreamSocket.protocol ? { protocol: upstreamSocket.protocol } : {}),
      });
    } catch (error) {
      upstreamSocket.close(1000);
      upstream.release();
      const reason = error instanceof Error ? error.message : String(error);
      return errorResponse(400, `invalid WebSocket upgrade request: ${reason}`, requestId);
    }
    relay(upgraded.socket, upstreamSocket, upstream, runtime.config.websocket.maxBufferedBytes, observer);
    return upgraded.response;
  };
}

/** The upstream answered the handshake with a status other than 101. */
class RefusedUpgrade extends Error {
  constructor(readonly status: number) {
    super(`upstream refused the WebSocket upgrade with ${status}`);
    this.name = "RefusedUpgrade";
  }
}

/**
 * Opens the upstream WebSocket. Deno reports a non-101 answer as an error event whose message carries
 * "Invalid status code: 403" (2.9.6); any other failure maps through the forwarder's status table.
 */
function connect(url: string, init: WebSocketOptions, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    let socket: WebSocket;
    try {
      socket = new WebSocket(url, init);
    } catch (error) {
      reject(new ProxyError("upstream_error", error instanceof Error ? error.message : String(error)));
      return;
    }
    socket.binaryType = "arraybuffer";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.close();
    }, timeoutMs);
    socket.onopen = () => {
      clearTimeout(timer);
      socket.onopen = socket.onerror = null;
      resolve(socket);
    };
    socket.onerror = (event) => {
      clearTimeout(timer);
      socket.onopen = socket.onerror = null;
      if (timedOut) return reject(new ProxyError("timeout"));
      const message = event instanceof ErrorEvent ? event.message : "";
      const status = /status code:? (\d{3})/i.exec(message)?.[1];
      if (status !== undefined && Number(status) >= 300 && Number(status) <= 599) {
        return reject(new RefusedUpgrade(Number(status)));
      }
      if (/refused/i.test(message)) return reject(new ProxyError("refused", "connection refused"));
      reject(new ProxyError("upstream_error", message.split("\n", 1)[0] ?? "WebSocket handshake failed"));
    };
  });
}

/**
 * Copies frames both ways until either side closes, then closes the other with the same code and reason.
 * Frames from the upstream that arrive before the client side is open wait in a queue (bounded like the rest).
 */
function relay(
  client: WebSocket,
  upstreamSocket: WebSocket,
  upstream: Upstream,
  maxBuffered: number,
  observer: WebSocketObserver | undefined,
): void {
  client.binaryType = "arraybuffer";
  let early: Frame[] | undefined = [];
  let earlyBytes = 0;
  let upstreamClose: CloseEvent | undefined;
  let ended = false;
  let opened = false;

  const end = () => {
    if (ended) return;
    ended = true;
    upstream.release();
    if (opened) observer?.websocketClosed();
  };
  const overflow = () => {
    closeWith(client, TRY_AGAIN_LATER, "proxy buffer limit reached");
    closeWith(upstreamSocket, TRY_AGAIN_LATER, "proxy buffer limit reached");
  };

  upstreamSocket.onmessage = (event: MessageEvent<Frame>) => {
    if (early !== undefined) {
      early.push(event.data);
      earlyBytes += size(event.data);
      if (earlyBytes > maxBuffered) overflow();
      return;
    }
    if (client.readyState !== WebSocket.OPEN) return;
    client.send(event.data);
    if (client.bufferedAmount > maxBuffered) overflow();
  };
  client.onmessage = (event: MessageEvent<Frame>) => {
    if (upstreamSocket.readyState !== WebSocket.OPEN) return;
    upstreamSocket.send(event.data);
    if (upstreamSocket.bufferedAmount > maxBuffered) overflow();
  };
  client.onopen = () => {
    opened = true;
    observer?.websocketOpened();
    for (const frame of early ?? []) client.send(frame);
    early = undefined;
    if (upstreamClose !== undefined) closeWith(client, upstreamClose.code, upstreamClose.reason);
  };
  upstreamSocket.onclose = (event) => {
    if (early !== undefined) upstreamClose = event; // the client side is not open yet; client.onopen closes it
    else closeWith(client, event.code, event.reason);
    if (client.readyState === WebSocket.CLOSED) end();
  };
  client.onclose = (event) => {
    early = undefined;
    closeWith(upstreamSocket, event.code, event.reason);
    end();
  };
  // An error is always followed by a close event, which does the work.
  client.onerror = upstreamSocket.onerror = () => {};
}

/**
 * Closes `socket` with the peer's code and reason. 1005, 1006 and 1015 mean "nothing was received" and are
 * never sent (RFC 6455 §7.4.1), so those close without a code. Deno's server-side sockets send any other code;
 * its client-side WebSocket (the upstream connection) allows only 1000 and 3000–4999, so the rest (1001,
 * 1011, 1013, ...) reach the upstream as 1000 with the reason kept.
 */
function closeWith(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState === WebSocket.CLOSING || socket.readyState === WebSocket.CLOSED) return;
  if (code === 1005 || code === 1006 || code === 1015) return socket.close();
  const text = truncateReason(reason);
  try {
    socket.close(code, text);
  } catch {
    socket.close(1000, text);
  }
}

/** A close reason is at most 123 bytes of UTF-8 (RFC 6455 §5.5: control frame payload ≤ 125). */
function truncateReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= 123) return reason;
  return new TextDecoder().decode(bytes.subarray(0, 123)).replace(/\uFFFD$/, "");
}

function size(frame: Frame): number {
  return typeof frame === "string" ? frame.length * 3 : frame.byteLength;
}
