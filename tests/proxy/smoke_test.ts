import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";
import { bothTransports } from "../_support/transports.ts";

bothTransports("proxy forwards a GET to the upstream and returns its body", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));
  const response = await fetch(`${proxy.url}/hello?x=1`);
  assert.equal(response.status, 200);
  assert.equal(await response.text(), `upstream ${upstream.port}`);
  assert.equal(upstream.received[0]?.path, "/hello?x=1");
  assert.ok(response.headers.get("x-request-id"));
});
