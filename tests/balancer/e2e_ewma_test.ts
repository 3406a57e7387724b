import assert from "node:assert/strict";
import { hit, startCluster } from "./_e2e.ts";

// Peak-EWMA keeps one slow observation of a fast upstream for seconds (by design: slower samples count at
// once). On a contended 2-core machine a fast upstream's request now and then takes 30–80 ms, which made a
// 40 ms "slow" upstream look no worse than it; 120 ms stays slower than that noise.
const SLOW_MS = 120;
const REQUESTS = 60;

Deno.test("ewma sends a slow upstream clearly less traffic than round_robin does", async () => {
  // Two pools over the same three upstreams, so both algorithms see the same real delay in one test.
  await using cluster = startCluster(
    (backends) =>
      [
        "server: { port: 0 }",
        "upstreams:",
        "  rr:",
        "    backends:",
        backends,
        "    load_balancer: { algorithm: round_robin }",
        "  fast_first:",
        "    backends:",
        backends,
        "    load_balancer: { algorithm: ewma }",
        "routes:",
        "  - { match: { path_prefix: /rr }, upstream: rr }",
        "  - { match: { path_prefix: /ewma }, upstream: fast_first }",
      ].join("\n"),
    {
      indent: "      ",
      backends: { c: { before: () => new Promise((resolve) => setTimeout(resolve, SLOW_MS)) } },
    },
  );
  for (let i = 0; i < REQUESTS; i++) await hit(cluster.proxy, "/rr");
  for (let i = 0; i < REQUESTS; i++) await hit(cluster.proxy, "/ewma");
  const rr = cluster.counts("/rr");
  const ewma = cluster.counts("/ewma");
  assert.deepEqual(rr, { a: 20, b: 20, c: 20 });
  // Peak-EWMA × (in-flight + 1) over two random choices: c loses every comparison once measured; it gets the
  // first request or two (unmeasured upstreams cost 0) and little else.
  assert.ok(ewma.c <= rr.c / 5, `slow upstream: ${ewma.c} requests under ewma vs ${rr.c} under round_robin`);
  assert.ok(ewma.c >= 1, "the slow upstream was measured at least once");
  assert.equal(ewma.a + ewma.b + ewma.c, REQUESTS);
  assert.ok(cluster.upstream("c", "fast_first").latencyEwmaMs(performance.now()) >= SLOW_MS / 2);
});
