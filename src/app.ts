import { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import { forwardRequest } from "./middleware/forward_request.ts";
import { requestContext } from "./middleware/request_context.ts";
import { requestGuard } from "./middleware/request_guard.ts";
import { routeMatch } from "./middleware/route_match.ts";
import { errorResponse, ProxyError } from "./proxy/errors.ts";
import type { RuntimeSource } from "./runtime.ts";

export interface AppOptions {
  /** Where unexpected errors are reported; default console.error. */
  logError?: (message: string, error: unknown) => void;
}

/** The proxy's request path, top to bottom. Order matters; logic lives in the middleware modules. */
export function createApp(source: RuntimeSource, options: AppOptions = {}): Hono<AppEnv> {
  const logError = options.logError ?? ((message, error) => console.error(message, error));
  const app = new Hono<AppEnv>();
  app.use(requestContext(source));
  app.use(requestGuard());
  app.use(routeMatch());
  app.all("*", forwardRequest());
  app.onError((error, c) => {
    const requestId = c.var.requestId ?? "-";
    if (error instanceof ProxyError) {
      const extra = error.retryAfterMs !== undefined
        ? { "retry-after": String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) }
        : undefined;
      return errorResponse(error.status, error.message, requestId, extra);
    }
    logError(`[${requestId}] unexpected error`, error);
    return errorResponse(500, "internal proxy error", requestId);
  });
  return app;
}
