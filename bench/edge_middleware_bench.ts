/**
 * Per-request cost of the edge middleware on a plain HTTP/1.1 GET with typical browser headers: request
 * limits (header scan), body limit, HTTP/2 authority fix, WebSocket check — against the same Hono chain
 * without them. The difference is what every proxied request pays.
 */
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import { parseConfig } from "../src/config/load_config.ts";
import { http2Authority } from "../src/middleware/http2_authority.ts";
import { bodyLimit, requestLimits } from "../src/middleware/request_limits.ts";
import { webSocketProxy } from "../src/middleware/websocket.ts";
import { RequestState } from "../src/request_state.ts";
import { Runtime } from "../src/runtime.ts";

const runtime = new Runtime(parseConfig('backends: ["http://127.0.0.1:1"]', "bench.yaml"));
const route = runtime.router.match("GET", "example.test", "/")!;
const ok = new Response("ok");

function app(withEdge: boolean): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async function context(c, next) {
    c.env = new RequestState(runtime, undefined);
    c.env.requestId = "r";
    c.env.pathAndQuery = "/index.html?x=1";
    await next();
  });
  if (withEdge) app.use(http2Authority(), requestLimits());
  app.use(async function route_(c, next) {
    c.env.route = route;
    await next();
  });
  if (withEdge) app.use(bodyLimit(), webSocketProxy());
  app.all("*", () => ok);
  return app;
}

const headers = {
  host: "example.test",
  "user-agent":
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
  accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
  "accept-language": "en-US,en;q=0.9",
  "accept-encoding": "gzip, deflate, br",
  cookie: "session=0123456789abcdef; theme=dark",
  "cache-control": "no-cache",
  referer: "https://example.test/",
  "sec-fetch-mode": "navigate",
  connection: "keep-alive",
};
const plain = app(false);
const edge = app(true);

Deno.bench("chain without edge middleware", { group: "edge", baseline: true }, async () => {
  await plain.fetch(new Request("http://example.test/index.html?x=1", { headers }));
});
Deno.bench("chain with edge middleware", { group: "edge" }, async () => {
  await edge.fetch(new Request("http://example.test/index.html?x=1", { headers }));
});
