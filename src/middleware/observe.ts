import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app_env.ts";
import { type AccessLogEntry, commonLine, jsonLine } from "../log/access_log_line.ts";
import type { LineSink } from "../log/line_writer.ts";
import type { AccessLogFormat } from "../config/access_log_section.ts";
import { NO_UPSTREAM, type ProxyMetrics } from "../metrics/proxy_metrics.ts";
import { fieldValue } from "../proxy/field_list.ts";

/** Route label of requests that matched no route (404, or refused before routing: 400/405). */
export const NO_ROUTE = "none";

export interface ObserveOptions {
  /** The process-lifetime metrics. */
  metrics: ProxyMetrics;
  /** Where access log lines go. */
  log: LineSink;
  /**
   * `access_log.format`, fixed when the app is built for one runtime (src/app.ts). Default: read from the
   * request's runtime on each request.
   */
  format?: AccessLogFormat;
  /** Monotonic clock in ms for durations. Default `performance.now`. */
  now?: () => number;
  /** Wall clock in ms for the log's timestamp. Default `Date.now`. */
  clock?: () => number;
}

/**
 * Metrics and access log: one `now()` pair around the rest of the chain, measured to the response head (the
 * body streams afterwards). The log line is only formatted when `access_log.format` is not `off`, and only
 * appended to a buffer here; the writer sends batches to stdout off the request path.
 */
export function observe(options: ObserveOptions): MiddlewareHandler<AppEnv> {
  const observer = requestObserver(options);
  return async function observe(c, next) {
    const start = observer.start();
    let response: Response | undefined;
    try {
      await next();
      response = c.res;
    } finally {
      observer.finish(c, response, start);
    }
  };
}

/** {@linkcode observe}'s two halves, for a middleware level that does more than observing (request_entry.ts). */
export interface RequestObserver {
  /** Counts the request as started; returns the start time to hand to `finish`. */
  start(): number;
  /** Records the request: `response` is what the client gets, undefined when the chain threw (500). */
  finish(c: Context<AppEnv>, response: Response | undefined, start: number): void;
}

export function requestObserver(options: ObserveOptions): RequestObserver {
  const { metrics, log, format: fixedFormat, now = performance.now.bind(performance), clock = Date.now } =
    options;
  return {
    start() {
      metrics.requestStarted();
      return now();
    },
    finish(c, response, start) {
      const ms = now() - start;
      const status = response?.status ?? 500;
      metrics.requestEnded();
      const state = c.env;
      const route = state.route;
      const upstream = state.upstream;
      const method = c.req.raw.method;
      const routeName = route?.name ?? NO_ROUTE;
      metrics.recordRequest(routeName, upstream?.id ?? NO_UPSTREAM, method, status, ms / 1000);
      const attempts = state.attempts;
      for (let retry = 1; retry < attempts; retry++) metrics.retry(routeName);
      const format = fixedFormat ?? state.runtime.config.accessLog.format;
      if (format !== "off") {
        const length = response === undefined ? null : fieldValue(response.headers, "content-length");
        const entry: AccessLogEntry = {
          time: clock(),
          requestId: state.requestId,
          client: state.peerIp,
          method,
          host: fieldValue(c.req.raw.headers, "host") ?? "",
          path: state.pathAndQuery,
          status,
          bytes: length === null ? null : Number(length),
          durationMs: ms,
          route: route?.name ?? null,
          upstream: upstream?.id ?? null,
          attempts,
          cache: state.cacheStatus ?? null,
        };
        log.write(format === "json" ? jsonLine(entry) : commonLine(entry));
      }
    },
  };
}
