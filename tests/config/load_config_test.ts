import assert from "node:assert/strict";
import { parseDuration } from "../../src/config/duration.ts";
import { parseConfig } from "../../src/config/load_config.ts";
import { configErrorsOf } from "../_support/config_errors.ts";

const SEED = await Deno.readTextFile(new URL("../../config.yaml", import.meta.url));

Deno.test("parseConfig() accepts the seed config.yaml unchanged", () => {
  const config = parseConfig(SEED, "config.yaml");
  assert.equal(config.server.port, 8080);
  assert.equal(config.server.timeoutMs, 30_000);
  const pool = config.pools.get("default");
  assert.ok(pool);
  assert.deepEqual(pool.backends.map((b) => [b.url, b.weight]), [["http://localhost:3001", 1], [
    "http://localhost:3002",
    2,
  ]]);
  assert.equal(pool.loadBalancer.algorithm, "round_robin");
  assert.deepEqual(pool.healthCheck, {
    intervalMs: 30_000,
    timeoutMs: 10_000,
    path: "/health",
    expectedStatus: "200-399",
    expectedRanges: [[200, 399]],
    healthyThreshold: 2,
    unhealthyThreshold: 3,
    jitter: 0.1,
  });
  assert.deepEqual([config.rateLimit?.requestsPerSecond, config.rateLimit?.burst], [100, 10]);
  assert.deepEqual([config.cache?.maxSize, config.cache?.ttlMs], [1000, 300_000]);
  assert.deepEqual(config.admin, { host: "127.0.0.1", port: 9090 });
});

Deno.test("parseConfig() turns omitted rate_limit, cache and health_check off", () => {
  const config = parseConfig('backends: [{ url: "http://127.0.0.1:1" }]', "c.yaml");
  assert.equal(config.rateLimit, undefined);
  assert.equal(config.cache, undefined);
  assert.equal(config.pools.get("default")?.healthCheck, undefined);
});

Deno.test("parseConfig() reads named upstreams and routes", () => {
  const config = parseConfig(
    `
upstreams:
  api:
    backends: ["http://127.0.0.1:3001", { url: "http://127.0.0.1:3002", weight: 3 }]
routes:
  - name: api
    match: { host: "API.example.com", path_prefix: "/v1/", methods: [get, post] }
    upstream: api
`,
    "c.yaml",
  );
  assert.equal(config.pools.get("api")?.backends[1]?.weight, 3);
  assert.deepEqual(config.routes[0], {
    name: "api",
    match: { host: "api.example.com", path: undefined, pathPrefix: "/v1", methods: ["GET", "POST"] },
    upstream: "api",
  });
});

Deno.test("parseDuration() reads ms, s, m and h and rejects bare numbers", () => {
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.equal(parseDuration("30"), undefined);
  assert.equal(parseDuration("-1s"), undefined);
  assert.equal(parseDuration("1d"), undefined);
});

// Each bad config with the exact message a user sees: file, line:column, key path, reason.
const BAD: readonly [name: string, yaml: string, expected: readonly string[]][] = [
  [
    "a backend URL without a scheme",
    SEED.replace('"http://localhost:3002"', '"localhost:3002"'),
    ['config.yaml:5:10 backends[1].url: not an http(s) URL: "localhost:3002"'],
  ],
  [
    "a duration without a unit",
    SEED.replace("timeout: 30s", "timeout: 30"),
    ['config.yaml:1:32 server.timeout: expected a duration like 250ms, 30s or 5m, got 30 (add a unit: "30s" or "30ms")'],
  ],
  [
    "a misspelt key",
    SEED.replace("algorithm:", "algoritm:"),
    ['config.yaml:7:18 load_balancer.algoritm: unknown key (did you mean "algorithm"?)'],
  ],
  [
    "an unknown top-level section",
    `${SEED}loadbalancer: {}\n`,
    ['config.yaml:11:1 loadbalancer: unknown key (did you mean "load_balancer"?)'],
  ],
  [
    "an unknown algorithm",
    SEED.replace('"round_robin"', '"fastest"'),
    ['config.yaml:7:29 load_balancer.algorithm: must be one of round_robin, weighted_round_robin, least_connections, random, p2c, ewma, consistent_hash; got "fastest"'],
  ],
  [
    "a port out of range",
    SEED.replace("port: 8080", "port: 70000"),
    ["config.yaml:1:17 server.port: must be at most 65535, got 70000"],
  ],
  [
    "a zero weight",
    SEED.replace("weight: 2", "weight: 0"),
    ["config.yaml:6:13 backends[1].weight: must be at least 1, got 0"],
  ],
  [
    "a string where a number belongs",
    SEED.replace("burst: 10", 'burst: "ten"'),
    ['config.yaml:9:48 rate_limit.burst: expected an integer, got "ten"'],
  ],
  [
    "a route to an undefined pool",
    'backends: ["http://127.0.0.1:1"]\nroutes:\n  - match: { path_prefix: /api }\n    upstream: apii\n',
    ['config.yaml:4:15 routes[0].upstream: no pool named "apii" (known: default)'],
  ],
  [
    "a path prefix without a leading slash",
    'backends: ["http://127.0.0.1:1"]\nroutes:\n  - match: { path_prefix: api }\n    upstream: default\n',
    ['config.yaml:3:27 routes[0].match.path_prefix: must start with "/": "api"'],
  ],
  [
    "an invalid trusted proxy CIDR",
    'server: { trusted_proxies: ["10.0.0.0/33"] }\nbackends: ["http://127.0.0.1:1"]\n',
    ['config.yaml:1:29 server.trusted_proxies[0]: not an IP address or CIDR: "10.0.0.0/33"'],
  ],
  [
    "no backends at all",
    "server: { port: 8080 }\n",
    ["config.yaml:1:1 (root): no backends: define top-level backends or upstreams with routes"],
  ],
  [
    "an empty backends list",
    "backends: []\n",
    ["config.yaml:1:11 backends: needs at least one backend"],
  ],
  [
    "a duplicate backend",
    'backends: ["http://127.0.0.1:1", "http://127.0.0.1:1/"]\n',
    ['config.yaml:1:34 backends[1].url: duplicate backend "http://127.0.0.1:1/" in pool "default"'],
  ],
  [
    "a method that is not proxied",
    'backends: ["http://127.0.0.1:1"]\nroutes:\n  - match: { methods: [GET, TRACE] }\n    upstream: default\n',
    ['config.yaml:3:29 routes[0].match.methods[1]: not a proxied HTTP method: "TRACE"'],
  ],
  [
    "broken YAML syntax",
    "backends: [\n  url: x\n",
    ["config.yaml:3:1 unexpected end of the stream within a flow collection"],
  ],
];

for (const [name, yaml, expected] of BAD) {
  Deno.test(`parseConfig() rejects ${name} with file:line:col, key path and reason`, () => {
    assert.deepEqual(configErrorsOf(yaml), expected);
  });
}

Deno.test("parseConfig() reports every problem at once, in document order", () => {
  const yaml = SEED.replace("port: 8080", "port: -1").replace('"http://localhost:3002"', '"ftp://x"');
  assert.deepEqual(configErrorsOf(yaml), [
    "config.yaml:1:17 server.port: must be at least 0, got -1",
    'config.yaml:5:10 backends[1].url: not an http(s) URL: "ftp://x"',
  ]);
});
