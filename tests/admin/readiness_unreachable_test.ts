/**
 * The operator's first minutes: a proxy whose upstreams have nothing listening says so on start (one
 * `upstreams` event), and `/readyz` answers 503 instead of `ready: true` while every request would get a 502.
 * Once an upstream answers a request, `/readyz` counts it again.
 */
import assert from "node:assert/strict";
import { startChildProxy } from "../_support/child_proxy.ts";
import { freePort } from "../_support/ports.ts";

async function readyz(adminPort: number): Promise<{ status: number; body: { ready: boolean } }> {
  const response = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
  return { status: response.status, body: await response.json() };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

Deno.test("with nothing listening upstream: a start-up line says so and /readyz is 503 until one answers", async () => {
  const [a, b, adminPort] = [freePort(), freePort(), freePort()];
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(
    file,
    `server: { host: 127.0.0.1, port: 0 }
backends: ["http://127.0.0.1:${a}", "http://127.0.0.1:${b}"]
health_check: { interval: 30s, timeout: 1s, path: "/health" }
admin: { host: 127.0.0.1, port: ${adminPort} }
`,
  );
  await using proxy = await startChildProxy([
    "run",
    "--allow-net",
    "--allow-read",
    "main.ts",
    "--config",
    file,
  ]);
  try {
    await until(() => proxy.stderr().includes('"event":"upstreams"'), "the upstreams event");
    const line = proxy.stderr().split("\n").find((l) => l.includes('"event":"upstreams"'))!;
    const event = JSON.parse(line);
    assert.equal(event.configured, 2);
    assert.equal(event.answering, 0);
    assert.deepEqual(
      event.pools.default.map((u: { answers: boolean; reason: string }) => [u.answers, u.reason]),
      [[false, "connection refused"], [false, "connection refused"]],
    );
    await until(async () => {
      try {
        return (await readyz(adminPort)).status !== 0;
      } catch {
        return false;
      }
    }, "the admin listener");
    const down = await readyz(adminPort);
    assert.equal(down.status, 503);
    assert.equal(down.body.ready, false);

    // Upstream a comes up; the first request that reaches it makes the pool ready again.
    const upstream = Deno.serve({ hostname: "127.0.0.1", port: a, onListen() {} }, () => new Response("ok"));
    try {
      await until(async () => {
        const response = await fetch(`${proxy.url}/`);
        await response.body?.cancel();
        return response.status === 200;
      }, "a request answered by upstream a");
      const up = await readyz(adminPort);
      assert.equal(up.status, 200);
      assert.equal(up.body.ready, true);
    } finally {
      await upstream.shutdown();
    }
  } finally {
    await Deno.remove(file);
  }
});
