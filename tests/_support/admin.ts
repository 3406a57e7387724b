/** Runs the real admin app in-process on a loopback port, over a `startProxy()` proxy's runtime and metrics. */
import { createAdminApp } from "../../src/admin/admin_app.ts";
import type { RateLimitProbe } from "../../src/admin/explain.ts";
import type { TestProxy } from "./proxy.ts";

export interface TestAdmin extends AsyncDisposable {
  readonly url: string;
  close(): Promise<void>;
}

export function startAdmin(proxy: TestProxy, options: { rateLimitTokens?: RateLimitProbe } = {}): TestAdmin {
  const app = createAdminApp({
    source: proxy.source,
    registry: proxy.registry,
    metrics: proxy.metrics,
    ...(options.rateLimitTokens ? { rateLimitTokens: options.rateLimitTokens } : {}),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  const close = () => server.shutdown();
  return { url: `http://127.0.0.1:${server.addr.port}`, close, [Symbol.asyncDispose]: close };
}
