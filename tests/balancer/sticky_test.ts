import assert from "node:assert/strict";
import { RoundRobin } from "../../src/balancer/round_robin.ts";
import { constantTimeEqual, Sticky } from "../../src/balancer/sticky.ts";
import { readCookie } from "../../src/balancer/read_cookie.ts";
import { port, upstreams } from "./_support.ts";

const SECRET = "0123456789abcdef-test-secret";

/** The cookie value a Set-Cookie header assigns, as a browser would send it back. */
function cookieValue(setCookie: string | undefined): string | undefined {
  return setCookie === undefined ? undefined : readCookie(setCookie.split(";")[0], "proxy_sticky");
}

Deno.test("Sticky.pickWithCookie() pins a new client and honours the cookie on its return", () => {
  const list = upstreams([1, 1, 1]);
  const sticky = new Sticky(new RoundRobin(list), list, { secret: SECRET });
  const first = sticky.pickWithCookie(undefined);
  assert.equal(port(first.upstream), "3001");
  assert.match(first.setCookie!, /^proxy_sticky=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax$/);
  const cookie = cookieValue(first.setCookie);
  for (let i = 0; i < 5; i++) {
    const again = sticky.pickWithCookie(cookie);
    assert.equal(again.upstream, first.upstream);
    assert.equal(again.setCookie, undefined);
  }
});

Deno.test("Sticky.pickWithCookie() re-pins when the pinned upstream is unavailable", () => {
  const list = upstreams([1, 1]);
  const sticky = new Sticky(new RoundRobin(list), list, { secret: SECRET });
  const cookie = cookieValue(sticky.setCookieFor(list[0]!));
  list[0]!.setHealthy(false);
  const moved = sticky.pickWithCookie(cookie);
  assert.equal(port(moved.upstream), "3002");
  assert.equal(cookieValue(moved.setCookie), cookieValue(sticky.setCookieFor(list[1]!)));
});

Deno.test("Sticky rejects forged, tampered and foreign cookies and re-pins instead", () => {
  const list = upstreams([1, 1]);
  const sticky = new Sticky(new RoundRobin(list), list, { secret: SECRET });
  const genuine = cookieValue(sticky.setCookieFor(list[1]!))!;
  assert.equal(sticky.verify(genuine), list[1]);
  const flipped = genuine.slice(0, -1) + (genuine.endsWith("A") ? "B" : "A");
  const otherSecret = new Sticky(new RoundRobin(list), list, { secret: "another-secret-of-16+bytes" });
  const forgeries = [
    flipped,
    genuine.slice(0, 4) + "x".repeat(18), // right locator, wrong MAC
    genuine + "A",
    "",
    list[1]!.id,
    cookieValue(otherSecret.setCookieFor(list[1]!))!,
  ];
  for (const forged of forgeries) {
    assert.equal(sticky.verify(forged), undefined, forged);
    const result = sticky.pickWithCookie(forged);
    assert.ok(result.upstream !== undefined);
    assert.equal(result.setCookie, sticky.setCookieFor(result.upstream), "a rejected cookie is replaced");
  }
});

Deno.test("Sticky cookies differ per upstream and do not reveal the upstream address", () => {
  const list = upstreams([1, 1]);
  const sticky = new Sticky(new RoundRobin(list), list, { secret: SECRET });
  const a = sticky.setCookieFor(list[0]!)!;
  const b = sticky.setCookieFor(list[1]!)!;
  assert.notEqual(a, b);
  assert.ok(!a.includes("127.0.0.1") && !a.includes("3001"));
});

Deno.test("Sticky with the default random secret still round-trips, and two instances disagree", () => {
  const list = upstreams([1, 1]);
  const one = new Sticky(new RoundRobin(list), list);
  const two = new Sticky(new RoundRobin(list), list);
  const cookie = cookieValue(one.setCookieFor(list[0]!))!;
  assert.equal(one.verify(cookie), list[0]);
  assert.equal(two.verify(cookie), undefined);
});

Deno.test("Sticky writes the cookie attributes it was given", () => {
  const list = upstreams([1]);
  const sticky = new Sticky(new RoundRobin(list), list, {
    secret: SECRET,
    cookieName: "srv",
    path: "/app",
    maxAgeSeconds: 3600,
    sameSite: "None",
  });
  assert.match(
    sticky.setCookieFor(list[0]!)!,
    /^srv=\S{22}; Path=\/app; Max-Age=3600; HttpOnly; Secure; SameSite=None$/,
  );
  assert.equal(sticky.cookieName, "srv");
});

Deno.test("Sticky.pickWithCookie() returns no upstream and no cookie when nothing is available", () => {
  const list = upstreams([1]);
  list[0]!.setHealthy(false);
  const sticky = new Sticky(new RoundRobin(list), list, { secret: SECRET });
  assert.deepEqual(sticky.pickWithCookie(cookieValue(sticky.setCookieFor(list[0]!))), {
    upstream: undefined,
    setCookie: undefined,
  });
});

Deno.test("Sticky rejects a short secret and malformed cookie options", () => {
  const list = upstreams([1]);
  const rr = new RoundRobin(list);
  assert.throws(() => new Sticky(rr, list, { secret: "short" }), RangeError);
  assert.throws(() => new Sticky(rr, list, { cookieName: "a b" }), TypeError);
  assert.throws(() => new Sticky(rr, list, { path: "/a;b" }), TypeError);
  assert.throws(() => new Sticky(rr, list, { maxAgeSeconds: 0 }), RangeError);
});

Deno.test("constantTimeEqual() compares whole strings", () => {
  assert.equal(constantTimeEqual("abc", "abc"), true);
  assert.equal(constantTimeEqual("abc", "abd"), false);
  assert.equal(constantTimeEqual("abc", "abcd"), false);
  assert.equal(constantTimeEqual("", ""), true);
});
