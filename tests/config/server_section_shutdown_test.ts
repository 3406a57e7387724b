import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/config_reader.ts";
import { parseConfig } from "../../src/config/load_config.ts";

const BACKENDS = 'backends: ["http://127.0.0.1:1"]\n';

Deno.test("server.shutdown_timeout defaults to 30 s and reads a duration", () => {
  assert.equal(parseConfig(BACKENDS, "config.yaml").server.shutdownTimeoutMs, 30_000);
  const config = parseConfig(`server: { shutdown_timeout: 5s }\n${BACKENDS}`, "config.yaml");
  assert.equal(config.server.shutdownTimeoutMs, 5_000);
  const zero = parseConfig(`server: { shutdown_timeout: 0s }\n${BACKENDS}`, "config.yaml");
  assert.equal(zero.server.shutdownTimeoutMs, 0);
});

Deno.test("server.shutdown_timeout without a unit is an error naming file, line:col and key", () => {
  assert.throws(
    () => parseConfig(`server: { shutdown_timeout: 10 }\n${BACKENDS}`, "config.yaml"),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.lines, [
        'config.yaml:1:29 server.shutdown_timeout: expected a duration like 250ms, 30s or 5m, got 10 (add a unit: "10s" or "10ms")',
      ]);
      return true;
    },
  );
});
