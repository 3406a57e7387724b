import assert from "node:assert/strict";
import { readCookie } from "../../src/balancer/read_cookie.ts";

Deno.test("readCookie() finds a cookie among several", () => {
  assert.equal(readCookie("a=1; session=xyz; b=2", "session"), "xyz");
  assert.equal(readCookie("a=1;session=xyz", "session"), "xyz");
});

Deno.test("readCookie() returns the first of repeated cookies and unwraps quotes", () => {
  assert.equal(readCookie('id="q1"; id=q2', "id"), "q1");
});

Deno.test("readCookie() does not match a name that is only a suffix or prefix", () => {
  assert.equal(readCookie("xid=1; idx=2", "id"), undefined);
  assert.equal(readCookie(null, "id"), undefined);
  assert.equal(readCookie("", "id"), undefined);
  assert.equal(readCookie("id", "id"), undefined);
});
