import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load_config.ts";
import { configErrorsOf } from "../_support/config_errors.ts";

const BACKENDS = 'backends: ["http://127.0.0.1:1"]\n';

Deno.test("access_log is off when the section is absent", () => {
  assert.deepEqual(parseConfig(BACKENDS, "c.yaml").accessLog, { format: "off" });
});

Deno.test("access_log defaults to json when the section is present", () => {
  assert.deepEqual(parseConfig(`${BACKENDS}access_log: {}`, "c.yaml").accessLog, { format: "json" });
  assert.deepEqual(parseConfig(`${BACKENDS}access_log: { format: common }`, "c.yaml").accessLog, {
    format: "common",
  });
});

Deno.test("access_log.format outside json, common, off is an error with its position", () => {
  assert.deepEqual(configErrorsOf(`${BACKENDS}access_log: { format: apache }`), [
    'config.yaml:2:23 access_log.format: must be one of json, common, off; got "apache"',
  ]);
});

Deno.test("access_log with an unknown key suggests the right one", () => {
  assert.deepEqual(configErrorsOf(`${BACKENDS}access_log: { fromat: json }`), [
    'config.yaml:2:15 access_log.fromat: unknown key (did you mean "format"?)',
  ]);
});
