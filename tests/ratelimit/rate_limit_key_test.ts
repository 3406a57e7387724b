import assert from "node:assert/strict";
import { parseRateLimitKeySpec, rateLimitKey } from "../../src/ratelimit/rate_limit_key.ts";

Deno.test("rateLimitKey() groups IPv6 clients by /64 and keeps IPv4 per address", () => {
  const key = (clientAddress: string) =>
    rateLimitKey({ kind: "client_ip" }, { clientAddress, header: () => null });
  assert.equal(key("2001:db8:1:2:aaaa::1"), "ip:2001:db8:1:2::/64");
  assert.equal(key("2001:db8:1:2:bbbb:cccc:dddd:eeee"), key("2001:db8:1:2::9"));
  assert.notEqual(key("2001:db8:1:3::1"), key("2001:db8:1:2::1"));
  assert.equal(key("192.0.2.1"), "ip:192.0.2.1");
  assert.notEqual(key("192.0.2.1"), key("192.0.2.2"));
  assert.equal(key("::ffff:192.0.2.1"), "ip:192.0.2.1");
});

Deno.test("rateLimitKey() uses a header value, falling back to the client address, or one global key", () => {
  const spec = parseRateLimitKeySpec("header:X-Api-Key");
  assert.deepEqual(spec, { kind: "header", name: "x-api-key" });
  const headers = new Headers({ "x-api-key": "k1" });
  const withHeader = { clientAddress: "192.0.2.1", header: (n: string) => headers.get(n) };
  assert.equal(rateLimitKey(spec, withHeader), "h:k1");
  assert.equal(rateLimitKey(spec, { clientAddress: "192.0.2.1", header: () => null }), "ip:192.0.2.1");
  assert.equal(rateLimitKey(parseRateLimitKeySpec("global"), withHeader), "global");
  assert.equal(rateLimitKey(parseRateLimitKeySpec("client_ip"), withHeader), "ip:192.0.2.1");
  for (const bad of ["ip", "header:", "header:bad name", "Global"]) {
    assert.throws(() => parseRateLimitKeySpec(bad), TypeError, bad);
  }
});
