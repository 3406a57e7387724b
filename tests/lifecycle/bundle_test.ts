import assert from "node:assert/strict";
import { runDeno, startChildProxy } from "../_support/child_proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

Deno.test("deno bundle produces one JS file that proxies a request end to end with --allow-net --allow-read", async () => {
  await using upstream = startUpstream();
  const dir = await Deno.makeTempDir();
  try {
    const bundle = `${dir}/proxy.js`;
    // The same command as `deno task bundle`, into a temp dir.
    const built = await runDeno(["bundle", "--output", bundle, "main.ts"]);
    assert.equal(built.code, 0, built.stderr);
    const config = `${dir}/proxy.yaml`;
    await Deno.writeTextFile(config, `server: { host: 127.0.0.1, port: 0 }\nbackends: ["${upstream.url}"]\n`);

    await using proxy = await startChildProxy([
      "run",
      "--allow-net",
      "--allow-read",
      bundle,
      "--config",
      config,
    ]);
    const response = await fetch(`${proxy.url}/through/the/bundle`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), `upstream ${upstream.port}`);
    assert.equal(upstream.received[0]?.path, "/through/the/bundle");
    assert.equal(await proxy.stop("SIGTERM"), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
