import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";
import { bothTransports } from "../_support/transports.ts";

bothTransports("traceparent and tracestate reach the upstream unchanged (W3C Trace Context)", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const tracestate = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
  const response = await fetch(proxy.url, { headers: { traceparent, tracestate } });
  await response.text();
  assert.equal(upstream.received.length, 1);
  assert.equal(upstream.received[0]!.headers.get("traceparent"), traceparent);
  assert.equal(upstream.received[0]!.headers.get("tracestate"), tracestate);
});

bothTransports("A request without traceparent reaches the upstream without one", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));
  await (await fetch(proxy.url)).text();
  assert.equal(upstream.received[0]!.headers.get("traceparent"), null);
});
