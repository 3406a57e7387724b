import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load_config.ts";
import { configErrorsOf } from "../_support/config_errors.ts";

const BACKENDS = 'backends: ["http://127.0.0.1:1"]\n';

Deno.test("admin defaults to 127.0.0.1:9090 without a token", () => {
  const config = parseConfig(BACKENDS, "c.yaml");
  assert.deepEqual(config.admin, { host: "127.0.0.1", port: 9090 });
});

Deno.test("admin.token is read when given", () => {
  const config = parseConfig(`${BACKENDS}admin: { port: 0, token: "s3cret-s3cret-s3cret" }`, "c.yaml");
  assert.deepEqual(config.admin, { host: "127.0.0.1", port: 0, token: "s3cret-s3cret-s3cret" });
});

Deno.test("admin.token that is short or has spaces is an error with its position", () => {
  assert.deepEqual(configErrorsOf(`${BACKENDS}admin: { token: "short" }`), [
    "config.yaml:2:17 admin.token: must be 16 to 4096 visible ASCII characters (no spaces)",
  ]);
  assert.deepEqual(configErrorsOf(`${BACKENDS}admin: { token: "has a space in the middle" }`), [
    "config.yaml:2:17 admin.token: must be 16 to 4096 visible ASCII characters (no spaces)",
  ]);
});

Deno.test("admin.token that is not a string is an error", () => {
  assert.deepEqual(configErrorsOf(`${BACKENDS}admin: { token: 12345 }`), [
    "config.yaml:2:17 admin.token: expected a string, got 12345",
  ]);
});
