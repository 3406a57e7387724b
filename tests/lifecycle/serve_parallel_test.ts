import assert from "node:assert/strict";
import { startChildProxy } from "../_support/child_proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

Deno.test("deno serve --parallel runs the app from src/server_entry.ts", async () => {
  await using upstream = startUpstream();
  const config = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(config, `backends: ["${upstream.url}"]\n`);
    // deno serve needs a fixed port to share between workers: borrow a free one.
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = probe.addr.port;
    probe.close();
    await using proxy = await startChildProxy([
      "serve",
      "--parallel",
      "--allow-net",
      "--allow-read",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "src/server_entry.ts",
      "--config",
      config,
    ]);
    assert.equal(proxy.port, port);
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${proxy.url}/parallel/${i}`);
      assert.equal(await response.text(), `upstream ${upstream.port}`);
      assert.ok(response.headers.get("x-request-id"), "the proxy's middleware ran");
    }
    assert.deepEqual(upstream.received.map((r) => r.path), [0, 1, 2, 3].map((i) => `/parallel/${i}`));
  } finally {
    await Deno.remove(config);
  }
});
