import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../../src/config/limits_section.ts";
import { parseConfig } from "../../src/config/load_config.ts";
import { configErrorsOf } from "../_support/config_errors.ts";

const BACKENDS = 'backends: ["http://127.0.0.1:1"]\n';

Deno.test("limits default to 16 KiB / 100 headers, 8000-byte URIs, 10 MiB bodies, underscores dropped, guard off (10s/60s/4096/256 when on)", () => {
  const config = parseConfig(BACKENDS, "c.yaml");
  assert.deepEqual(config.limits, {
    maxHeaderBytes: 16_384,
    maxHeaderCount: 100,
    maxUriBytes: 8_000,
    maxBodyBytes: 10_485_760,
    underscoreHeaders: "drop",
    connectionGuard: false,
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
    maxConnections: 4096,
    maxConnectionsPerClient: 256,
  });
  assert.deepEqual(config.limits, DEFAULT_LIMITS);
});

Deno.test("limits and a route's max_body_size are read from the config", () => {
  const config = parseConfig(
    `${BACKENDS}limits: { max_header_size: 32768, max_header_count: 50, max_uri_size: 2048, max_body_size: 0, underscore_headers: reject,
  connection_guard: true, header_timeout: 2s, idle_timeout: 5s, max_connections: 10, max_connections_per_client: 0 }
routes:
  - { match: { path_prefix: /up }, upstream: default, max_body_size: 1048576 }
`,
    "c.yaml",
  );
  assert.deepEqual(config.limits, {
    maxHeaderBytes: 32_768,
    maxHeaderCount: 50,
    maxUriBytes: 2048,
    maxBodyBytes: 0,
    underscoreHeaders: "reject",
    connectionGuard: true,
    headerTimeoutMs: 2_000,
    idleTimeoutMs: 5_000,
    maxConnections: 10,
    maxConnectionsPerClient: 0,
  });
  assert.equal(config.routes[0]?.maxBodyBytes, 1_048_576);
});

const BAD: ReadonlyArray<[string, string, string]> = [
  [
    "an unknown underscore_headers policy",
    "limits: { underscore_headers: ignore }",
    'config.yaml:2:31 limits.underscore_headers: must be one of allow, drop, reject; got "ignore"',
  ],
  [
    "a negative max_body_size",
    "limits: { max_body_size: -1 }",
    "config.yaml:2:26 limits.max_body_size: must be at least 0, got -1",
  ],
  [
    "a max_header_size under 1 KiB",
    "limits: { max_header_size: 100 }",
    "config.yaml:2:28 limits.max_header_size: must be at least 1024, got 100",
  ],
  [
    "a misspelt limits key",
    "limits: { max_body_siz: 1 }",
    'config.yaml:2:11 limits.max_body_siz: unknown key (did you mean "max_body_size"?)',
  ],
  [
    "a route max_body_size written as a string",
    "routes: [{ upstream: default, max_body_size: 10MB }]",
    'config.yaml:2:46 routes[0].max_body_size: expected an integer, got "10MB"',
  ],
];

for (const [name, yaml, line] of BAD) {
  Deno.test(`parseConfig() rejects ${name} with file:line:col, key path and reason`, () => {
    assert.deepEqual(configErrorsOf(`${BACKENDS}${yaml}\n`), [line]);
  });
}
