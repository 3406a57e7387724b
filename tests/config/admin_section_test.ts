import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/config_reader.ts";
import { parseConfig } from "../../src/config/load_config.ts";

const BACKENDS = 'backends: ["http://127.0.0.1:1"]\n';

function errorsOf(yaml: string): string[] {
  try {
    parseConfig(yaml, "config.yaml");
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return [...error.lines];
  }
  assert.fail("config was accepted");
}

Deno.test("admin defaults to 127.0.0.1:9090 without a token", () => {
  const config = parseConfig(BACKENDS, "c.yaml");
  assert.deepEqual(config.admin, { host: "127.0.0.1", port: 9090 });
});

Deno.test("admin.token is read when given", () => {
  const config = parseConfig(`${BACKENDS}admin: { port: 0, token: "s3cret-s3cret-s3cret" }`, "c.yaml");
  assert.deepEqual(config.admin, { host: "127.0.0.1", port: 0, token: "s3cret-s3cret-s3cret" });
});

Deno.test("admin.token that is short or has spaces is an error with its position", () => {
  assert.deepEqual(errorsOf(`${BACKENDS}admin: { token: "short" }`), [
    "config.yaml:2:17 admin.token: must be 16 to 4096 visible ASCII characters (no spaces)",
  ]);
  assert.deepEqual(errorsOf(`${BACKENDS}admin: { token: "has a space in the middle" }`), [
    "config.yaml:2:17 admin.token: must be 16 to 4096 visible ASCII characters (no spaces)",
  ]);
});

Deno.test("admin.token that is not a string is an error", () => {
  assert.deepEqual(errorsOf(`${BACKENDS}admin: { token: 12345 }`), [
    "config.yaml:2:17 admin.token: expected a string, got 12345",
  ]);
});
