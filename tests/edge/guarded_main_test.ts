/** With `limits.connection_guard: true`, main.ts serves plain HTTP through the guard with --allow-net only: bare LF 400, the client IP reaches the upstream. */
import assert from "node:assert/strict";
import { rootPath, startChildProxy } from "../_support/child_proxy.ts";
import { freePort } from "../_support/ports.ts";
import { rawExchange, rawRequest } from "../_support/raw_upstream.ts";
import { startUpstream } from "../_support/upstream.ts";

Deno.test("main.ts with connection_guard: true guards its listener: bare LF gets 400, X-Forwarded-For carries the client address", async () => {
  await using upstream = startUpstream((request) =>
    new Response(request.headers.get("x-forwarded-for") ?? "")
  );
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(
      file,
      `server: { port: ${freePort()} }\nadmin: { port: ${freePort()} }\nbackends:\n  - url: "${upstream.url}"\n` +
        "limits: { connection_guard: true }\n",
    );
    await using proxy = await startChildProxy([
      "run",
      "--allow-net",
      `--allow-read=${file}`,
      rootPath("main.ts"),
      "--config",
      file,
    ]);
    assert.match(await rawExchange(proxy.port, "GET / HTTP/1.1\nHost: a\n\n"), /^HTTP\/1\.1 400 /);
    const response = await rawRequest(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert.equal(response.status, 200);
    assert.equal(new TextDecoder().decode(response.body), "127.0.0.1");
    assert.equal(upstream.received.at(-1)?.headers.get("x-edge-peer") ?? null, null);
  } finally {
    await Deno.remove(file);
  }
});
