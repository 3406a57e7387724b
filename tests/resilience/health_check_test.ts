/**
 * Active health checks through the real proxy: a flapping health endpoint flips the upstream only after
 * unhealthy_threshold failures or healthy_threshold successes in a row (probes counted at the upstream), a
 * down pool answers a fast 503 with Retry-After, and traffic returns once the upstream is healthy again.
 */
import assert from "node:assert/strict";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";
import { EventLog } from "./_support.ts";

Deno.test("a flapping health endpoint flips the upstream only after 3 failures / 2 successes in a row", async () => {
  const answers: boolean[] = [true, true, false, false, true, false, false, false];
  let idle = false; // the answer once the script has run out
  let probes = 0;
  await using upstream = startUpstream((request) => {
    if (new URL(request.url).pathname !== "/health") return new Response("traffic");
    probes++;
    const ok = answers.shift() ?? idle;
    return new Response(ok ? "up" : "down", { status: ok ? 200 : 500 });
  });
  const events = new EventLog();
  const flips: { healthy: unknown; probe: number }[] = [];
  await using proxy = startProxy(
    [
      "server: { port: 0 }",
      `backends: ["${upstream.url}"]`,
      "health_check: { interval: 100ms, timeout: 80ms, path: /health, expected_status: 200-299,",
      "  healthy_threshold: 2, unhealthy_threshold: 3, jitter: 0% }",
      // Without this, a pool with nothing available panics and routes to the unhealthy upstream anyway.
      "circuit_breaker: { panic_threshold: 0% }",
    ].join("\n"),
    {
      log: (event, fields) => {
        if (event === "health_change") flips.push({ healthy: fields.healthy, probe: probes });
        events.log(event, fields);
      },
    },
  );

  await events.next((e) => e.event === "health_change");
  // ok ok FAIL FAIL ok FAIL FAIL FAIL: the two failures before the success do not count.
  assert.deepEqual(flips, [{ healthy: false, probe: 8 }]);

  const refused = await fetch(proxy.url);
  assert.equal(refused.status, 503, await refused.text());
  assert.equal(refused.headers.get("retry-after"), "1");
  const traffic = () => upstream.received.filter((r) => r.path !== "/health").length;
  assert.equal(traffic(), 0, "an unhealthy upstream gets no traffic");

  // From the next probe on: ok FAIL ok ok → healthy at the fourth.
  const from = probes;
  answers.push(true, false, true, true);
  idle = true;
  await events.next((e) => e.event === "health_change");
  assert.deepEqual(flips[1], { healthy: true, probe: from + 4 });
  assert.equal(events.named("health_change")[1]!.fields.reason, "status 200");

  const back = await fetch(proxy.url);
  assert.equal(await back.text(), "traffic");
  assert.equal(traffic(), 1);
});

Deno.test("health checks stop when the runtime is disposed: no probe arrives afterwards", async () => {
  let probes = 0;
  await using upstream = startUpstream(() => {
    probes++;
    return new Response("up");
  });
  const events = new EventLog();
  const proxy = startProxy(
    `server: { port: 0 }\nbackends: ["${upstream.url}"]\nhealth_check: { interval: 100ms, jitter: 0% }`,
    { log: events.log },
  );
  const checker = proxy.source.current.pools.get("default")?.healthChecker;
  assert.equal(checker?.running, true, "Runtime.start() started the checker");
  await proxy.close();
  assert.equal(checker.running, false);
  const after = probes;
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(probes, after);
});
