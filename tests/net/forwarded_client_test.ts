import assert from "node:assert/strict";
import { CidrSet } from "../../src/net/cidr.ts";
import { forwardedClient } from "../../src/net/forwarded_client.ts";

const trusted = new CidrSet(["10.0.0.0/8"]);

Deno.test("forwardedClient() takes the rightmost X-Forwarded-For entry that is not a trusted proxy", () => {
  assert.equal(forwardedClient("10.0.0.1", "198.51.100.7", trusted), "198.51.100.7");
  // The client wrote 6.6.6.6 itself; the first trusted hop saw 198.51.100.7.
  assert.equal(forwardedClient("10.0.0.1", "6.6.6.6, 198.51.100.7, 10.0.0.2", trusted), "198.51.100.7");
});

Deno.test("forwardedClient() strips ports and brackets and handles IPv6", () => {
  assert.equal(forwardedClient("10.0.0.1", "198.51.100.7:5000", trusted), "198.51.100.7");
  assert.equal(forwardedClient("10.0.0.1", "[2001:db8::5]:443", trusted), "2001:db8::5");
  assert.equal(forwardedClient("10.0.0.1", "2001:db8::6", trusted), "2001:db8::6");
});

Deno.test("forwardedClient() falls back to the last trusted hop for an empty, all-trusted or garbled chain", () => {
  assert.equal(forwardedClient("10.0.0.1", null, trusted), "10.0.0.1");
  assert.equal(forwardedClient("10.0.0.1", "", trusted), "10.0.0.1");
  assert.equal(forwardedClient("10.0.0.1", "10.0.0.3, 10.0.0.2", trusted), "10.0.0.3");
  assert.equal(forwardedClient("10.0.0.1", "198.51.100.7, unknown", trusted), "10.0.0.1");
  assert.equal(forwardedClient("10.0.0.1", "198.51.100.7, , 10.0.0.2", trusted), "198.51.100.7");
});
