import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { Runtime, RuntimeSource } from "../runtime.ts";
import { RequestState, type ServeInfo } from "../request_state.ts";
import { fieldValue } from "../proxy/field_list.ts";

/** Request ids we accept from a trusted peer: visible ASCII, bounded length (they end up in logs). */
const VALID_ID = /^[\x21-\x7e]{1,200}$/;

let idPrefix: string | undefined;
let idCounter = 0;

/**
 * A new request id, shaped like a UUID (8-4-4-4-12 hex digits, version 4 and variant bits set): the first 74
 * bits are drawn from the CSPRNG once per isolate (each process, each worker), the last 12 digits count the
 * isolate's requests. Unique across restarts and workers as long as no two isolates draw the same 74 bits
 * (about 1 in 10^10 among a million isolates); costs a counter step and a short string instead of a
 * `crypto.randomUUID()` per request. Not a secret: ids from one isolate are sequential.
 */
export function nextRequestId(): string {
  if (idPrefix === undefined) {
    const hex = Array.from(crypto.getRandomValues(new Uint8Array(10)), (b) => b.toString(16).padStart(2, "0"))
      .join("");
    const variant = "89ab"[parseInt(hex[15]!, 16) & 3];
    idPrefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(12, 15)}-${variant}${hex.slice(16, 19)}-`;
  }
  // 12 hex digits: 2^48 requests before the counter would repeat (≈ 90 years at 100k req/s).
  return idPrefix + (idCounter++ % 0x1000000000000).toString(16).padStart(12, "0");
}

/**
 * Snapshots the current runtime for the whole request, identifies the peer, and assigns the request id
 * (`X-Request-Id` from a trusted peer is kept, otherwise a new UUID-shaped id from {@linkcode nextRequestId}).
 * For a Hono app of separate levels (the benchmarks'): it replaces `c.env`, Deno.serve's info, with a
 * RequestState that keeps it. The proxy app gets its state from src/app.ts and calls
 * {@linkcode enterRequest} from its one handler.
 */
export function requestContext(source: RuntimeSource): MiddlewareHandler<AppEnv> {
  return async function requestContext(c, next) {
    const info = c.env as unknown as ServeInfo | undefined;
    c.env = new RequestState(source.current, info);
    const runtime = enterRequest(c);
    try {
      await next();
    } finally {
      runtime.inFlight.leave();
    }
  };
}

/**
 * The work of {@linkcode requestContext} before the rest of the chain: fills in the request state's `peerIp`,
 * `trusted`, `requestId` and `pathAndQuery`, and counts the request in its runtime's `inFlight` (a reload
 * waits for these before disposing the runtime). The caller must call `runtime.inFlight.leave()` when the
 * request is done.
 */
export function enterRequest(c: Context<AppEnv>): Runtime {
  const state = c.env;
  const runtime = state.runtime;
  const peerIp = state.info?.remoteAddr?.hostname ?? "unknown";
  state.peerIp = peerIp;
  const trusted = runtime.trustedProxies.contains(peerIp);
  state.trusted = trusted;
  const offered = trusted ? fieldValue(c.req.raw.headers, "x-request-id") : null;
  state.requestId = offered !== null && VALID_ID.test(offered) ? offered : nextRequestId();
  const url = c.req.raw.url;
  state.pathAndQuery = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  runtime.inFlight.enter();
  return runtime;
}
