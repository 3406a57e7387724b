import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load_config.ts";
import { configErrorsOf } from "../_support/config_errors.ts";

const BACKENDS = 'backends: ["http://127.0.0.1:3001", "http://127.0.0.1:3002"]\n';

// Each bad load_balancer section with the exact line a user sees: file:line:col key.path: reason.
const BAD: readonly [name: string, yaml: string, expected: readonly string[]][] = [
  [
    "an unknown algorithm",
    `${BACKENDS}load_balancer: { algorithm: fastest }\n`,
    [
      "config.yaml:2:29 load_balancer.algorithm: must be one of round_robin, weighted_round_robin, " +
      'least_connections, random, p2c, ewma, consistent_hash; got "fastest"',
    ],
  ],
  [
    "an unknown algorithm in a named pool",
    'upstreams:\n  api:\n    backends: ["http://127.0.0.1:1"]\n    load_balancer: { algorithm: leastconn }\n' +
    "routes:\n  - { match: { path_prefix: /a }, upstream: api }\n",
    [
      "config.yaml:4:33 upstreams.api.load_balancer.algorithm: must be one of round_robin, weighted_round_robin, " +
      'least_connections, random, p2c, ewma, consistent_hash; got "leastconn"',
    ],
  ],
  [
    "a hash_key that is not client_ip, path, header:NAME or cookie:NAME",
    `${BACKENDS}load_balancer: { algorithm: consistent_hash, hash_key: ip }\n`,
    [
      'config.yaml:2:56 load_balancer.hash_key: expected client_ip, path, header:NAME or cookie:NAME, got "ip"',
    ],
  ],
  [
    "a hash_key header name that is not a token",
    `${BACKENDS}load_balancer: { algorithm: consistent_hash, hash_key: "header:x user" }\n`,
    [
      "config.yaml:2:56 load_balancer.hash_key: expected client_ip, path, header:NAME or cookie:NAME, " +
      'got "header:x user"',
    ],
  ],
  [
    "a hash_key without consistent_hash",
    `${BACKENDS}load_balancer: { algorithm: round_robin, hash_key: path }\n`,
    ["config.yaml:2:42 load_balancer.hash_key: only used by algorithm consistent_hash (algorithm is round_robin)"],
  ],
  [
    "zero virtual nodes",
    `${BACKENDS}load_balancer:\n  algorithm: consistent_hash\n  virtual_nodes: 0\n`,
    ["config.yaml:4:18 load_balancer.virtual_nodes: must be at least 1, got 0"],
  ],
  [
    "a sticky secret shorter than 16 bytes",
    `${BACKENDS}load_balancer:\n  sticky: { secret: "short" }\n`,
    ["config.yaml:3:21 load_balancer.sticky.secret: must be at least 16 bytes long"],
  ],
  [
    "a sticky cookie name that is not a token",
    `${BACKENDS}load_balancer:\n  sticky: { cookie: "my cookie" }\n`,
    ['config.yaml:3:21 load_balancer.sticky.cookie: not a valid cookie name: "my cookie"'],
  ],
  [
    "same_site None without secure",
    `${BACKENDS}load_balancer:\n  sticky: { same_site: None, secure: false }\n`,
    ["config.yaml:3:38 load_balancer.sticky.secure: must be true when same_site is None"],
  ],
  [
    "a same_site value in the wrong case",
    `${BACKENDS}load_balancer:\n  sticky: { same_site: none }\n`,
    ['config.yaml:3:24 load_balancer.sticky.same_site: must be one of Strict, Lax, None; got "none"'],
  ],
  [
    "a sticky ttl under one second",
    `${BACKENDS}load_balancer:\n  sticky: { ttl: 500ms }\n`,
    ["config.yaml:3:18 load_balancer.sticky.ttl: must be at least 1000ms, got 500ms"],
  ],
  [
    "a sticky cookie path without a leading slash",
    `${BACKENDS}load_balancer:\n  sticky: { path: app }\n`,
    ['config.yaml:3:19 load_balancer.sticky.path: must start with "/" and hold no ";" or control characters, got "app"'],
  ],
  [
    "a sticky cookie path with a semicolon",
    `${BACKENDS}load_balancer:\n  sticky: { path: "/a;b" }\n`,
    [
      'config.yaml:3:19 load_balancer.sticky.path: must start with "/" and hold no ";" or control characters, ' +
      'got "/a;b"',
    ],
  ],
  [
    "a misspelt sticky key",
    `${BACKENDS}load_balancer:\n  sticky: { cokie: sid }\n`,
    ['config.yaml:3:13 load_balancer.sticky.cokie: unknown key (did you mean "cookie"?)'],
  ],
  [
    "sticky as a string",
    `${BACKENDS}load_balancer:\n  sticky: yes\n`,
    ['config.yaml:3:11 load_balancer.sticky: expected a mapping, got "yes"'],
  ],
];

for (const [name, yaml, expected] of BAD) {
  Deno.test(`load_balancer rejects ${name} with file:line:col, key path and reason`, () => {
    assert.deepEqual(configErrorsOf(yaml), expected);
  });
}

Deno.test("load_balancer defaults to round_robin by client_ip with 160 virtual nodes and no affinity", () => {
  const config = parseConfig(BACKENDS, "config.yaml");
  assert.deepEqual(config.pools.get("default")!.loadBalancer, {
    algorithm: "round_robin",
    hashKey: "client_ip",
    virtualNodes: 160,
    sticky: undefined,
  });
});

Deno.test("load_balancer reads every algorithm, hash_key and the sticky keys with their defaults", () => {
  for (
    const algorithm of ["round_robin", "weighted_round_robin", "least_connections", "random", "p2c", "ewma"]
  ) {
    const config = parseConfig(`${BACKENDS}load_balancer: { algorithm: ${algorithm} }\n`, "config.yaml");
    assert.equal(config.pools.get("default")!.loadBalancer.algorithm, algorithm);
  }
  const hashed = parseConfig(
    `${BACKENDS}load_balancer: { algorithm: consistent_hash, hash_key: "cookie:session", virtual_nodes: 40 }\n`,
    "config.yaml",
  ).pools.get("default")!.loadBalancer;
  assert.equal(hashed.hashKey, "cookie:session");
  assert.equal(hashed.virtualNodes, 40);

  const sticky = (yaml: string) =>
    parseConfig(`${BACKENDS}load_balancer:\n  sticky: ${yaml}\n`, "config.yaml")
      .pools.get("default")!.loadBalancer.sticky;
  const defaults = { cookie: "proxy_sticky", ttlMs: undefined, secret: undefined, path: "/", secure: false };
  assert.deepEqual(sticky("true"), { ...defaults, sameSite: "Lax" });
  assert.deepEqual(sticky("{}"), { ...defaults, sameSite: "Lax" });
  assert.equal(sticky("false"), undefined);
  assert.deepEqual(
    sticky('{ cookie: sid, ttl: 1h, secret: "0123456789abcdef", path: /app, same_site: None }'),
    {
      cookie: "sid",
      ttlMs: 3_600_000,
      secret: "0123456789abcdef",
      path: "/app",
      secure: true,
      sameSite: "None",
    },
  );
});
