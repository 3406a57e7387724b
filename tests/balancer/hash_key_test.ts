import assert from "node:assert/strict";
import { hashKeyFor, isHashKeySpec } from "../../src/balancer/hash_key.ts";

const input = {
  clientIp: "127.0.0.9",
  path: "/cart/42",
  headers: new Headers({ "X-User": "alice", cookie: "theme=dark; sid=abc123" }),
};

Deno.test("hashKeyFor() reads the client address, path, a header or a cookie", () => {
  assert.equal(hashKeyFor("client_ip", input), "127.0.0.9");
  assert.equal(hashKeyFor("path", input), "/cart/42");
  assert.equal(hashKeyFor("header:x-user", input), "alice");
  assert.equal(hashKeyFor("cookie:sid", input), "abc123");
});

Deno.test("hashKeyFor() returns undefined for an absent header or cookie", () => {
  assert.equal(hashKeyFor("header:x-tenant", input), undefined);
  assert.equal(hashKeyFor("cookie:nope", input), undefined);
  assert.equal(hashKeyFor("cookie:sid", { ...input, headers: new Headers() }), undefined);
});

Deno.test("isHashKeySpec() accepts the four forms and rejects anything else", () => {
  for (const ok of ["client_ip", "path", "header:X-User", "cookie:sid"]) {
    assert.equal(isHashKeySpec(ok), true, ok);
  }
  for (const bad of ["ip", "header:", "cookie:a b", "header:x:y", 3, undefined]) {
    assert.equal(isHashKeySpec(bad), false, String(bad));
  }
});
