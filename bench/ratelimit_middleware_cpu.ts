/**
 * CPU time per request of the proxy's first middlewares with and without rate limiting (see
 * ratelimit_middleware_bench.ts), measured as process CPU time rather than wall time so that other
 * load on a shared machine inflates it less. Rounds alternate the variants; the median round counts.
 *
 *   deno run -A bench/ratelimit_middleware_cpu.ts
 */
import process from "node:process";
import { Hono } from "hono";
import type { AppEnv } from "../src/app_env.ts";
import { parseConfig } from "../src/config/load_config.ts";
import { rateLimit } from "../src/middleware/rate_limit.ts";
import { requestContext } from "../src/middleware/request_context.ts";
import { routeMatch } from "../src/middleware/route_match.ts";
import { Runtime } from "../src/runtime.ts";

const BASE = 'server: { port: 0 }\nbackends: ["http://127.0.0.1:1"]\n';
const HUGE = "{ requests_per_second: 1000000000, burst: 1000000000 }";

function app(yaml: string): Hono<AppEnv> {
  const source = { current: new Runtime(parseConfig(yaml, "bench.yaml")) };
  return new Hono<AppEnv>()
    .use(requestContext(source))
    .use(routeMatch())
    .use(rateLimit())
    .all("*", (c) => c.body(null, 204));
}

const variants: [string, Hono<AppEnv>][] = [
  ["rate_limit absent", app(BASE)],
  ["rate_limit on (memory, nothing refused)", app(`${BASE}rate_limit: ${HUGE}\n`)],
];
const env = { remoteAddr: { transport: "tcp" as const, hostname: "203.0.113.7", port: 40000 } };
const N = 20_000;
const ROUNDS = 9;
const samples = new Map<string, number[]>(variants.map(([name]) => [name, []]));

for (let round = 0; round < ROUNDS + 1; round++) {
  for (const [name, target] of variants) {
    const start = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      await target.fetch(new Request("http://app.test/path?q=1", { headers: { host: "app.test" } }), env);
    }
    const used = process.cpuUsage(start);
    if (round > 0) samples.get(name)!.push((used.user + used.system) / N); // round 0 warms up the JIT
  }
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(samples.get(variants[0]![0])!);
for (const [name] of variants) {
  const m = median(samples.get(name)!);
  console.log(
    `${name}: ${m.toFixed(2)} µs CPU/request (×${(m / base).toFixed(3)}, +${(m - base).toFixed(2)} µs)`,
  );
}
