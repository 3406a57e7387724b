import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load_config.ts";
import { configErrorsOf } from "../_support/config_errors.ts";

const BACKENDS = 'backends: ["http://127.0.0.1:1"]\n';

Deno.test("rate_limit keeps the seed's two keys valid and documents its defaults", () => {
  const config = parseConfig(`${BACKENDS}rate_limit: { requests_per_second: 100, burst: 10 }\n`, "c.yaml");
  assert.deepEqual(config.rateLimit, {
    policy: "default",
    requestsPerSecond: 100,
    burst: 10,
    key: { kind: "client_ip" },
    headers: "all",
    forwardedHeader: "x-forwarded-for",
    maxKeys: 100_000,
    store: { kind: "memory" },
    failureMode: "open",
  });
});

Deno.test("rate_limit reads every key, including a Redis store", () => {
  const config = parseConfig(
    `${BACKENDS}rate_limit:
  requests_per_second: 0.5
  key: "header:X-Api-Key"
  policy: api
  headers: limited
  forwarded_header: forwarded
  max_keys: 5000
  store: { redis: "redis://10.0.0.2:6379/1", timeout: 50ms, key_prefix: "edge:" }
  failure_mode: closed
`,
    "c.yaml",
  );
  assert.deepEqual(config.rateLimit, {
    policy: "api",
    requestsPerSecond: 0.5,
    burst: 1,
    key: { kind: "header", name: "x-api-key" },
    headers: "limited",
    forwardedHeader: "forwarded",
    maxKeys: 5000,
    store: { kind: "redis", url: "redis://10.0.0.2:6379/1", timeoutMs: 50, keyPrefix: "edge:" },
    failureMode: "closed",
  });
});

Deno.test("routes[].rate_limit is off, the route's own limits, or absent", () => {
  const config = parseConfig(
    `${BACKENDS}routes:
  - { name: a, match: { path: /a }, upstream: default, rate_limit: off }
  - { name: b, match: { path: /b }, upstream: default, rate_limit: { requests_per_second: 2, key: global } }
  - { name: c, match: { path: /c }, upstream: default }
`,
    "c.yaml",
  );
  assert.equal(config.routes[0]?.rateLimit, "off");
  assert.deepEqual(config.routes[1]?.rateLimit, {
    requestsPerSecond: 2,
    burst: 2,
    key: { kind: "global" },
    policy: undefined,
  });
  assert.equal("rateLimit" in config.routes[2]!, false);
});

const BAD: [string, string, string][] = [
  ["rate_limit: { burst: 5 }", "rate_limit.requests_per_second", "is required"],
  ["rate_limit: { requests_per_second: 0 }", "rate_limit.requests_per_second", "must be at least"],
  [
    'rate_limit: { requests_per_second: 1, key: "cookie:session" }',
    "rate_limit.key",
    'expected client_ip, global or header:NAME, got "cookie:session"',
  ],
  [
    "rate_limit: { requests_per_second: 1, headers: always }",
    "rate_limit.headers",
    "must be one of all, limited, none",
  ],
  [
    "rate_limit: { requests_per_second: 1, forwarded_header: x-real-ip }",
    "rate_limit.forwarded_header",
    "must be one of x-forwarded-for, forwarded",
  ],
  ["rate_limit: { requests_per_second: 1, max_keys: 0 }", "rate_limit.max_keys", "must be at least 1"],
  [
    "rate_limit: { requests_per_second: 1, failure_mode: ignore }",
    "rate_limit.failure_mode",
    "must be one of open, closed",
  ],
  [
    'rate_limit: { requests_per_second: 1, policy: "caf\u00e9" }',
    "rate_limit.policy",
    "must be 1-64 printable ASCII characters",
  ],
  [
    "rate_limit: { requests_per_second: 1, store: redis }",
    "rate_limit.store",
    'expected memory or { redis: "redis://host:port" }',
  ],
  ["rate_limit: { requests_per_second: 1, store: { timeout: 1s } }", "rate_limit.store.redis", "is required"],
  [
    'rate_limit: { requests_per_second: 1, store: { redis: "http://127.0.0.1:6379" } }',
    "rate_limit.store.redis",
    "not a redis:// or rediss:// URL",
  ],
  [
    'rate_limit: { requests_per_second: 1, store: { redis: "redis://127.0.0.1", timeout: 100 } }',
    "rate_limit.store.timeout",
    "expected a duration",
  ],
  [
    'rate_limit: { requests_per_second: 1, store: { redis: "redis://127.0.0.1", db: 2 } }',
    "rate_limit.store.db",
    "unknown key",
  ],
  [
    "routes: [{ match: { path: /a }, upstream: default, rate_limit: 5 }]",
    "routes[0].rate_limit",
    "expected off or a mapping with requests_per_second, got 5",
  ],
  [
    "routes: [{ match: { path: /a }, upstream: default, rate_limit: { burst: 2 } }]",
    "routes[0].rate_limit.requests_per_second",
    "is required",
  ],
  [
    "routes: [{ match: { path: /a }, upstream: default, rate_limit: { requests_per_second: 1, store: memory } }]",
    "routes[0].rate_limit.store",
    "unknown key",
  ],
];

for (const [yaml, path, message] of BAD) {
  Deno.test(`config error: ${path} ${message}`, () => {
    const errors = configErrorsOf(`${BACKENDS}${yaml}\n`);
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(errors[0]!, /^config\.yaml:2:\d+ /, "names the line and column");
    const text = errors[0]!.replace(/^config\.yaml:\d+:\d+ /, "");
    assert.ok(text.startsWith(`${path}: ${message}`), text);
  });
}
