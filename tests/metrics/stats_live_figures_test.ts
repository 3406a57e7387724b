/**
 * `/stats` figures that only move under real traffic: in-flight (totals and per upstream, and their gauges
 * in `/metrics`) while a request waits at the upstream, and the http1 transport's connections opened and
 * reused per upstream. Real proxy, real admin app, a real upstream on loopback.
 */
import assert from "node:assert/strict";
import type { Stats } from "../../src/metrics/stats_types.ts";
import { startAdmin, type TestAdmin } from "../_support/admin.ts";
import { parsePrometheusText } from "../_support/prom_parser.ts";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

async function stats(admin: TestAdmin): Promise<Stats> {
  return await (await fetch(`${admin.url}/stats`)).json() as Stats;
}

async function gauges(admin: TestAdmin): Promise<[number, number]> {
  const families = parsePrometheusText(await (await fetch(`${admin.url}/metrics`)).text());
  return [
    families.get("proxy_requests_in_flight")?.samples[0]?.value ?? Number.NaN,
    families.get("proxy_upstream_requests_in_flight")?.samples[0]?.value ?? Number.NaN,
  ];
}

Deno.test("/stats and /metrics count a request waiting at the upstream as in flight, then not", async () => {
  const arrived = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  await using upstream = startUpstream(async (_request, received) => {
    if (received.path === "/slow") {
      arrived.resolve();
      await release.promise;
    }
    return new Response("ok");
  });
  await using proxy = startProxy(`server: { port: 0 }\nbackends: ["${upstream.url}"]`);
  await using admin = startAdmin(proxy);

  const pending = fetch(`${proxy.url}/slow`);
  await arrived.promise;
  const during = await stats(admin);
  assert.equal(during.totals.inFlight, 1);
  assert.deepEqual(during.upstreams.map((u) => u.inFlight), [1]);
  assert.deepEqual(await gauges(admin), [1, 1]);

  release.resolve();
  assert.equal(await (await pending).text(), "ok");
  const after = await stats(admin);
  assert.equal(after.totals.inFlight, 0);
  assert.deepEqual(after.upstreams.map((u) => u.inFlight), [0]);
  assert.deepEqual(await gauges(admin), [0, 0]);
});

Deno.test("/stats counts the http1 transport's connections opened and reused per upstream", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(`server: { port: 0 }\nbackends: ["${upstream.url}"]\ntransport: http1`);
  await using admin = startAdmin(proxy);
  for (let i = 0; i < 3; i++) await (await fetch(`${proxy.url}/r${i}`)).text();
  const connections = (await stats(admin)).upstreams[0]?.connections;
  assert.ok(connections, "the http1 transport reports its connections");
  assert.equal(connections.opened, 1, "one keep-alive connection served the sequential requests");
  assert.equal(connections.reused, 2);
});
