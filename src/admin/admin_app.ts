/**
 * The admin listener's app, separate from the proxy port: Prometheus `/metrics`, JSON `/stats`, `/healthz`,
 * `/readyz`, `/explain` and the dashboard at `/`. Reads the *current* runtime on each request, so reloads
 * show at once. The dashboard HTML is imported as text: it is part of the module graph, so the proxy needs
 * no read permission and `deno bundle` carries it.
 */
import { Hono } from "hono";
import dashboardHtml from "./dashboard.html" with { type: "text" };
import type { ProxyMetrics } from "../metrics/proxy_metrics.ts";
import { Registry } from "../metrics/registry.ts";
import type { RuntimeSource } from "../runtime.ts";
import { adminAuth } from "./admin_auth.ts";
import { explain, type RateLimitProbe } from "./explain.ts";
import { readiness } from "./readiness.ts";

export interface AdminAppOptions {
  /** The live runtime (swapped on reload). */
  source: RuntimeSource;
  /** The registry `/metrics` exposes; holds `metrics`' families. */
  registry: Registry;
  /** The same metrics the proxy app records into. */
  metrics: ProxyMetrics;
  /** How `/explain` learns the tokens left for a key; without it `tokensLeft` is `null`. */
  rateLimitTokens?: RateLimitProbe;
}

const NO_STORE = { "cache-control": "no-store" };

export function createAdminApp(options: AdminAppOptions): Hono {
  const { source, registry, metrics, rateLimitTokens } = options;
  const app = new Hono();
  app.use(adminAuth(() => source.current.config.admin.token));
  app.get("/", (c) =>
    c.html(dashboardHtml, 200, {
      ...NO_STORE,
      // The page is self-contained: its own inline script and style, and fetches to this origin only.
      "content-security-policy":
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
    }));
  app.get(
    "/metrics",
    (c) => c.body(registry.expose(), 200, { ...NO_STORE, "content-type": Registry.contentType }),
  );
  app.get("/stats", (c) => c.json(metrics.stats(), 200, NO_STORE));
  app.get("/healthz", (c) => c.text("ok\n", 200, NO_STORE));
  app.get("/readyz", (c) => {
    const state = readiness(source.current);
    return c.json(state, state.ready ? 200 : 503, NO_STORE);
  });
  app.get("/explain", async (c) => {
    const path = c.req.query("path") ?? "/";
    const method = c.req.query("method") ?? "GET";
    if (!path.startsWith("/")) return c.json({ error: "path must start with /" }, 400);
    if (!/^[A-Za-z]{1,20}$/.test(method)) return c.json({ error: "method must be a method name" }, 400);
    // The facts selection reads: `cookie=` (a Cookie header), `header=Name:value` (repeatable), `client=`.
    const headers = new Headers();
    const cookie = c.req.query("cookie");
    if (cookie !== undefined) headers.set("cookie", cookie);
    for (const field of c.req.queries("header") ?? []) {
      const colon = field.indexOf(":");
      if (colon < 1) return c.json({ error: "header must be Name:value" }, 400);
      try {
        headers.append(field.slice(0, colon).trim(), field.slice(colon + 1).trim());
      } catch {
        return c.json({ error: `invalid header ${JSON.stringify(field)}` }, 400);
      }
    }
    const result = await explain(source.current, {
      method,
      host: c.req.query("host") ?? "",
      path,
      key: c.req.query("key"),
      headers,
      clientIp: c.req.query("client") ?? "",
    }, { rateLimitTokens });
    return c.json(result, 200, NO_STORE);
  });
  app.notFound((c) => c.text("404 not found: /metrics /stats /healthz /readyz /explain /\n", 404));
  app.onError((error, c) => {
    console.error("proxy admin: unexpected error", error);
    return c.text("500 internal admin error\n", 500);
  });
  return app;
}
