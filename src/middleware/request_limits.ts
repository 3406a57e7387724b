import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { errorResponse } from "../errors.ts";
import { fieldValue, forEachField } from "../proxy/field_list.ts";

/**
 * Head limits, before routing: request target length (414, RFC 9110 §15.5.15), header block size and field
 * count (431, RFC 6585 §5), and header names with underscores (dropped or rejected, as nginx's
 * `underscores_in_headers off` does: CGI-style backends read `X_Forwarded_For` and `X-Forwarded-For` as the
 * same variable, so an underscore twin could smuggle a value past the forwarding-header rules).
 *
 * Deno's HTTP/1.1 parser already refuses more than 100 header lines (400) and heads over ~400 KiB before any
 * handler runs; these limits are the configurable, tighter layer above it.
 */
export function requestLimits(): MiddlewareHandler<AppEnv> {
  return async function requestLimits(c, next) {
    const refused = checkLimits(c);
    if (refused !== undefined) return refused;
    await next();
  };
}

/** The checks of {@linkcode requestLimits} for one request: the answer to send, or undefined to go on. */
export function checkLimits(c: Context<AppEnv>): Response | undefined {
  const limits = c.env.runtime.config.limits;
  if (c.env.pathAndQuery.length > limits.maxUriBytes) {
    return errorResponse(414, `request target longer than ${limits.maxUriBytes} bytes`, c.env.requestId);
  }
  const raw = c.req.raw;
  let count = 0;
  let bytes = 0;
  let underscores = false;
  // Field lines as received (forEachField: Headers.forEach would sort and combine them on every request).
  forEachField(raw.headers, (value, name) => {
    count++;
    bytes += name.length + value.length + 4; // "name: value\r\n"
    if (!underscores && name.includes("_")) underscores = true;
  });
  if (count > limits.maxHeaderCount) {
    return errorResponse(431, `more than ${limits.maxHeaderCount} header fields`, c.env.requestId);
  }
  if (bytes > limits.maxHeaderBytes) {
    return errorResponse(
      431,
      `request headers larger than ${limits.maxHeaderBytes} bytes`,
      c.env.requestId,
    );
  }
  if (underscores && limits.underscoreHeaders !== "allow") {
    if (limits.underscoreHeaders === "reject") {
      return errorResponse(400, "header names with underscores are not accepted", c.env.requestId);
    }
    // An upgrade request must stay the object Deno.serve handed us (Deno.upgradeWebSocket needs it); the
    // WebSocket relay drops these names from its own upstream headers instead.
    if (!raw.headers.has("upgrade")) c.req.raw = withHeaders(raw, withoutUnderscores(raw.headers));
  }
  return undefined;
}

/**
 * Request body limit, after routing (routes may override `limits.max_body_size`). A declared Content-Length
 * over the limit is refused before anything goes upstream. A body of unknown length (chunked) is counted
 * while it streams: once it passes the limit the stream errors, which aborts the upstream request (the
 * upstream sees an unfinished body, never the oversized one), and the client gets 413 unless the upstream's
 * response had already started.
 */
export function bodyLimit(): MiddlewareHandler<AppEnv> {
  return async function bodyLimit(c, next) {
    const checked = limitBody(c);
    if (checked instanceof Response) return checked;
    await next();
    if (checked !== undefined) await checked.after(c);
  };
}

/** A body of unknown length being counted by {@linkcode limitBody}: `after` runs once the chain answered. */
export interface CountedBody {
  /** Replaces the response with a 413 when the body passed the limit while it streamed. */
  after(c: Context<AppEnv>): Promise<void> | void;
}

/**
 * The work of {@linkcode bodyLimit} before the rest of the chain: a 413 to send now, a {@linkcode CountedBody}
 * (the request's body was replaced by a counting stream), or undefined when there is nothing to do.
 */
export function limitBody(c: Context<AppEnv>): Response | CountedBody | undefined {
  const raw = c.req.raw;
  const method = raw.method;
  if (method === "GET" || method === "HEAD" || raw.body === null) return undefined;
  const limit = c.env.matched().config?.maxBodyBytes ?? c.env.runtime.config.limits.maxBodyBytes;
  const declared = fieldValue(raw.headers, "content-length");
  if (declared !== null) {
    // Deno.serve holds the body to exactly Content-Length, so a declared length within the limit is enough.
    return Number(declared) > limit ? tooLarge(limit, c.env.requestId) : undefined;
  }
  // Like the forwarder (RFC 9112 §6.3): no Content-Length and no Transfer-Encoding means no body.
  if (fieldValue(raw.headers, "transfer-encoding") === null) return undefined;
  let seen = 0;
  let exceeded = false;
  const counted = raw.body.pipeThrough(
    new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) {
          exceeded = true;
          controller.error(new RangeError(`request body larger than ${limit} bytes`));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  c.req.raw = withHeaders(raw, raw.headers, counted);
  return {
    async after(c) {
      if (!exceeded) return;
      await c.res.body?.cancel().catch(() => {});
      c.res = undefined; // replace, not merge: Hono's setter would copy the old response's headers
      c.res = tooLarge(limit, c.env.requestId);
    },
  };
}

/**
 * No `Connection: close`: Deno.serve keeps the connection open whatever the response says, so the answer does
 * not promise a close it would not do (the edge guard, when on, closes after a framing error instead).
 */
function tooLarge(limit: number, requestId: string): Response {
  return errorResponse(413, `request body larger than ${limit} bytes`, requestId);
}

function withoutUnderscores(headers: Headers): Headers {
  const out = new Headers();
  headers.forEach((value, name) => {
    if (!name.includes("_")) out.append(name, value);
  });
  return out;
}

/**
 * A copy of `request` with other headers and/or body. Built from the URL rather than `new Request(request)`,
 * which would touch `request.signal` (Deno.serve warns about its legacy abort semantics when it is read).
 */
export function withHeaders(
  request: Request,
  headers: Headers,
  body: ReadableStream<Uint8Array<ArrayBuffer>> | null = request.body,
): Request {
  const method = request.method;
  // Request normalizes "get"/"head" to upper case and then refuses a body for them.
  const hasBody = body !== null && !/^(?:get|head)$/i.test(method);
  return new Request(request.url, hasBody ? { method, headers, body } : { method, headers });
}
