import type { Context, Handler } from "hono";
import type { AppEnv } from "../app_env.ts";
import type { Runtime } from "../runtime.ts";
import type { Downstream } from "./chain.ts";
import { adoptAuthority } from "./http2_authority.ts";
import { type ObserveOptions, requestObserver } from "./observe.ts";
import { enterRequest } from "./request_context.ts";
import { guardRequest } from "./request_guard.ts";
import { checkLimits, type CountedBody, limitBody } from "./request_limits.ts";
import { checkRateLimit, type RateLimitOutcome } from "./rate_limit.ts";
import { matchRoute } from "./route_match.ts";

export interface RequestEntryOptions extends ObserveOptions {
  /** The runtime every request of this app runs on (src/app.ts builds one app per runtime). */
  runtime: Runtime;
  /** A TLS listener: HTTP/2's `:authority` becomes Host first (http2_authority.ts). */
  https: boolean;
  /** Turns an error thrown by a check (a ProxyError such as `no_route`) into the response to send. */
  onError: (error: unknown, c: Context<AppEnv>) => Response;
  /** Everything after the entry: rate limit, cache, forwarding (chain.ts); leaves the answer in `c.res`. */
  downstream: Downstream;
}

/**
 * The app's one Hono handler (src/app.ts): request context (request_context.ts), metrics and access log
 * (observe.ts), request checks (HTTP/2 authority on TLS, then request_guard.ts, then request_limits.ts's head
 * limits), route match (route_match.ts), the body limit and, when some route is limited, the rate limit
 * (rate_limit.ts), then the `downstream` levels. Each part answers or
 * passes exactly as its own middleware does, in the same order; an answer given here (400, 404, 405, 413, 414,
 * 417, 429, 431, OPTIONS) is observed like any other. Six middleware levels did this before: a Hono level costs an
 * async dispatch and a promise or two per request, and Hono's compose itself ≈ 2.5 µs (bench/README.md).
 */
export function requestEntry(options: RequestEntryOptions): Handler<AppEnv> {
  const { runtime, https, onError, downstream, metrics } = options;
  const limited = runtime.rateLimiter !== undefined;
  const observer = requestObserver(options);
  return async function requestEntry(c) {
    enterRequest(c);
    const start = observer.start();
    let response: Response | undefined;
    try {
      let answer: Response | undefined;
      let counted: CountedBody | undefined;
      let rateFields: ((response: Response) => void) | undefined;
      try {
        if (https) adoptAuthority(c);
        answer = guardRequest(c) ?? checkLimits(c);
        if (answer === undefined) {
          matchRoute(c);
          const body = limitBody(c);
          if (body instanceof Response) answer = body;
          else counted = body;
        }
        if (answer === undefined && limited) {
          const pending = checkRateLimit(c, metrics);
          const outcome: RateLimitOutcome = pending instanceof Promise ? await pending : pending;
          if (outcome instanceof Response) answer = outcome;
          else rateFields = outcome;
        }
      } catch (error) {
        answer = onError(error, c);
      }
      if (answer !== undefined) return (response = answer);
      await downstream(c);
      rateFields?.(c.res);
      if (counted !== undefined) await counted.after(c);
      return (response = c.res);
    } finally {
      observer.finish(c, response, start);
      runtime.inFlight.leave();
    }
  };
}
