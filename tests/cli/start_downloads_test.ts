/**
 * `deno task start` installs every npm package of deno.json's import map and of deno.lock, so test-only
 * packages live elsewhere: imported inline by the tests and locked in tests/deno.lock (the test and check
 * tasks pass `--lock=tests/deno.lock`). This fails when one slips back into the proxy's import map or lock.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);
const TEST_ONLY = ["playwright-core"];

Deno.test("the proxy's import map and deno.lock hold no test-only npm package", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", root)));
  const mapped = Object.values<string>(denoJson.imports ?? {});
  const locked = [...Object.keys(lock.specifiers ?? {}), ...Object.keys(lock.npm ?? {})];
  for (const name of TEST_ONLY) {
    assert.ok(!mapped.some((s) => s.includes(name)), `${name} is in deno.json's imports`);
    assert.ok(!locked.some((s) => s.includes(name)), `${name} is in deno.lock: run tests via deno task test`);
  }
  assert.ok(mapped.some((s) => s.startsWith("npm:hono@")), "the check reads the real import map");
  assert.match(denoJson.tasks.test, /--lock=tests\/deno\.lock/);
});
