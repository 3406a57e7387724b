import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load_config.ts";
import { configErrorsOf } from "../_support/config_errors.ts";

const BACKENDS = 'backends: ["http://127.0.0.1:1"]\n';

Deno.test("websocket defaults to a 30 s ping interval and 1 MiB of buffering per side", () => {
  assert.deepEqual(parseConfig(BACKENDS, "c.yaml").websocket, {
    pingIntervalMs: 30_000,
    maxBufferedBytes: 1_048_576,
  });
  assert.deepEqual(
    parseConfig(`${BACKENDS}websocket: { ping_interval: 0s, max_buffered_size: 4096 }`, "c.yaml").websocket,
    { pingIntervalMs: 0, maxBufferedBytes: 4096 },
  );
});

Deno.test("parseConfig() rejects a websocket.ping_interval that is not whole seconds", () => {
  assert.deepEqual(configErrorsOf(`${BACKENDS}websocket: { ping_interval: 1500ms }\n`), [
    "config.yaml:2:29 websocket.ping_interval: must be whole seconds (Deno pings at second granularity)",
  ]);
});

Deno.test("parseConfig() rejects a websocket.max_buffered_size under 1 KiB", () => {
  assert.deepEqual(configErrorsOf(`${BACKENDS}websocket: { max_buffered_size: 10 }\n`), [
    "config.yaml:2:33 websocket.max_buffered_size: must be at least 1024, got 10",
  ]);
});
