/**
 * The one place that maps a failure to a status code (Caddy's `statusError`): connection problems are the
 * upstream's fault (502), waiting too long is a gateway timeout (504), nothing to send to is 503.
 */

export type FailureKind =
  | "no_route" // no route matched and there is no default pool
  | "no_upstream" // every upstream of the pool is unavailable
  | "pool_full" // every allowed connection to the upstream stayed busy past connection_pool.queue_timeout
  | "timeout" // first-byte or overall deadline passed before response headers
  | "refused" // connection refused
  | "reset" // connection reset or closed before a complete response head
  | "bad_response" // the upstream's response was unusable (too large headers, bad framing)
  | "upstream_error" // any other fetch failure
  | "client_closed"; // the client went away before the upstream answered (nobody receives the response)

const STATUS: Readonly<Record<FailureKind, number>> = {
  no_route: 404,
  no_upstream: 503,
  pool_full: 503,
  timeout: 504,
  refused: 502,
  reset: 502,
  bad_response: 502,
  upstream_error: 502,
  client_closed: 499,
};

const REASON: Readonly<Record<FailureKind, string>> = {
  no_route: "no route for this request",
  no_upstream: "no upstream available",
  pool_full: "upstream connection limit reached",
  timeout: "upstream timed out",
  refused: "cannot connect to upstream",
  reset: "upstream closed the connection",
  bad_response: "invalid response from upstream",
  upstream_error: "upstream request failed",
  client_closed: "client closed the request",
};

/** A failure on the proxy path that becomes an error response. */
export class ProxyError extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly detail?: string,
    /** For 503s: when a retry may succeed (becomes `Retry-After`, rounded up to seconds). */
    readonly retryAfterMs?: number,
  ) {
    super(detail ? `${REASON[kind]}: ${detail}` : REASON[kind]);
    this.name = "ProxyError";
  }

  get status(): number {
    return STATUS[this.kind];
  }
}

/**
 * Classifies an exception thrown by fetch(). `timedOut` says our own deadline aborted it. Deno reports
 * connection failures as TypeErrors whose message names the cause; match on the words, not the full text.
 */
export function classifyFetchError(error: unknown, timedOut: boolean): ProxyError {
  if (error instanceof ProxyError) return error;
  if (timedOut) return new ProxyError("timeout");
  const message = error instanceof Error ? `${error.message} ${causeMessage(error)}` : String(error);
  if (/refused/i.test(message)) return new ProxyError("refused", "connection refused");
  if (/reset|closed|incomplete|unexpected ?eof|broken pipe|aborted/i.test(message)) {
    return new ProxyError("reset", "connection closed before a complete response");
  }
  if (/header|parse|invalid/i.test(message)) return new ProxyError("bad_response", "malformed response");
  return new ProxyError("upstream_error", firstLine(message));
}

function causeMessage(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : "";
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/** A short plain-text error response carrying the request id. */
export function errorResponse(
  status: number,
  message: string,
  requestId: string,
  extra?: Readonly<Record<string, string>>,
): Response {
  const headers = new Headers({
    "content-type": "text/plain; charset=utf-8",
    "x-request-id": requestId,
    "cache-control": "no-store",
  });
  if (extra) { for (const [name, value] of Object.entries(extra)) headers.set(name, value); }
  return new Response(`${status} ${message} (request id ${requestId})\n`, { status, headers });
}
