/** An unexpected admin error answers 500 and is logged as one `admin_error` event with the reason, no stack. */
import assert from "node:assert/strict";
import { createAdminApp } from "../../src/admin/admin_app.ts";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

Deno.test("an admin handler that throws answers 500 and logs admin_error with method, path and reason", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(
    `backends: ["${upstream.url}"]\nrate_limit: { requests_per_second: 10, burst: 5 }\n`,
  );
  const events: { event: string; fields: Readonly<Record<string, unknown>> }[] = [];
  const app = createAdminApp({
    source: proxy.source,
    registry: proxy.registry,
    metrics: proxy.metrics,
    // The tokens probe is how /explain reads a bucket (Redis in production); here it fails.
    rateLimitTokens: () => Promise.reject(new Error("bucket store unreachable")),
    log: (event, fields) => events.push({ event, fields }),
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, app.fetch);
  try {
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/explain?path=/&key=10.0.0.1`);
    assert.equal(response.status, 500);
    assert.equal(await response.text(), "500 internal admin error\n");
    assert.deepEqual(events, [{
      event: "admin_error",
      fields: { method: "GET", path: "/explain", reason: "bucket store unreachable" },
    }]);
  } finally {
    await server.shutdown();
  }
});
