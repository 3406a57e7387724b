import assert from "node:assert/strict";
import { hit, startCluster } from "./_e2e.ts";

const SLOW_MS = 40;
const REQUESTS = 150;

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
  assert.deepEqual(rr, { a: 50, b: 50, c: 50 });
  // Peak-EWMA × (in-flight + 1) over two random choices: c loses every comparison once measured; it gets the
  // first request or two (unmeasured upstreams cost 0) and little else.
  assert.ok(ewma.c <= rr.c / 5, `slow upstream: ${ewma.c} requests under ewma vs ${rr.c} under round_robin`);
  assert.ok(ewma.c >= 1, "the slow upstream was measured at least once");
  assert.equal(ewma.a + ewma.b + ewma.c, REQUESTS);
  assert.ok(cluster.upstream("c", "fast_first").latencyEwmaMs(performance.now()) >= SLOW_MS / 2);
});
