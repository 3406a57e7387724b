/**
 * `proxy_websockets_open` and `/stats` `websocketsOpen` move with a real WebSocket relayed by the proxy: 1
 * while it is open, 0 once both sides closed. Real proxy, real admin app, a real echo upstream on loopback.
 */
import assert from "node:assert/strict";
import type { Stats } from "../../src/metrics/stats_types.ts";
import { startAdmin, type TestAdmin } from "../_support/admin.ts";
import { parsePrometheusText } from "../_support/prom_parser.ts";
import { startProxy } from "../_support/proxy.ts";

async function openGauge(admin: TestAdmin): Promise<[number, number]> {
  const families = parsePrometheusText(await (await fetch(`${admin.url}/metrics`)).text());
  const gauge = families.get("proxy_websockets_open")?.samples[0]?.value ?? Number.NaN;
  const stats = await (await fetch(`${admin.url}/stats`)).json() as Stats;
  return [gauge, stats.websocketsOpen];
}

Deno.test("an open relayed WebSocket shows in proxy_websockets_open and /stats, and leaves them on close", async () => {
  const upstreamClosed = Promise.withResolvers<void>();
  await using upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onmessage = (event) => socket.send(event.data);
    socket.onclose = () => upstreamClosed.resolve();
    return response;
  });
  await using proxy = startProxy(`server: { port: 0 }\nbackends: ["http://127.0.0.1:${upstream.addr.port}"]`);
  await using admin = startAdmin(proxy);
  assert.deepEqual(await openGauge(admin), [0, 0]);

  const client = new WebSocket(proxy.url.replace("http:", "ws:") + "/echo");
  const echoed = Promise.withResolvers<string>();
  client.onmessage = (event) => echoed.resolve(String(event.data));
  await new Promise((resolve) => client.onopen = resolve);
  client.send("ping");
  assert.equal(await echoed.promise, "ping");
  assert.deepEqual(await openGauge(admin), [1, 1], "one relayed WebSocket is open");

  const clientClosed = new Promise((resolve) => client.onclose = resolve);
  client.close(1000, "done");
  await Promise.all([clientClosed, upstreamClosed.promise]);
  let figures = await openGauge(admin);
  // The proxy's own bookkeeping runs on its close events; give it a bounded number of turns.
  for (let i = 0; i < 50 && (figures[0] !== 0 || figures[1] !== 0); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    figures = await openGauge(admin);
  }
  assert.deepEqual(figures, [0, 0], "closed WebSockets are no longer counted");
});
