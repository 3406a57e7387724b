import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load_config.ts";

Deno.test("server.trusted_proxies accepts CIDR blocks, bare addresses and the names loopback and private", () => {
  const config = parseConfig(
    'server: { trusted_proxies: ["10.0.0.0/8", "2001:db8::1", loopback, private] }\nbackends: ["http://127.0.0.1:1"]\n',
    "c.yaml",
  );
  assert.deepEqual(config.server.trustedProxies, ["10.0.0.0/8", "2001:db8::1", "loopback", "private"]);
});
