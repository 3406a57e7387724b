import assert from "node:assert/strict";
import type { HeaderPairs } from "../../src/cache/header_list.ts";
import { formatHttpDate } from "../../src/cache/http_date.ts";
import { HttpCache } from "../../src/cache/http_cache.ts";
import { storability } from "../../src/cache/storability.ts";

// RFC 9111 §3: a response is storable when its status is final and it carries explicit freshness (among
// other conditions); §3 does not require the cache to know the status code's semantics for that.
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const base = { method: "GET", requestHeaders: [] as HeaderPairs, shared: true };
const verdict = (status: number, responseHeaders: HeaderPairs) => {
  const v = storability({ ...base, status, responseHeaders });
  return v.storable ? "ok" : v.reason;
};

Deno.test("Unknown final statuses 200–599 with explicit freshness are storable (RFC 9111 §3)", () => {
  for (const status of [299, 418, 499, 599, 226]) {
    assert.equal(verdict(status, [["cache-control", "max-age=60"]]), "ok", `${status} max-age`);
    assert.equal(verdict(status, [["cache-control", "s-maxage=60"]]), "ok", `${status} s-maxage`);
    assert.equal(verdict(status, [["expires", formatHttpDate(T0 + 60_000)]]), "ok", `${status} Expires`);
    // Without explicit freshness an unknown status cannot use heuristics (§4.2.2).
    assert.equal(verdict(status, []), "status", `${status} bare`);
    assert.equal(verdict(status, [["cache-control", "public"]]), "status", `${status} public only`);
    assert.equal(verdict(status, [["cache-control", "max-age=60, no-store"]]), "no-store");
  }
});

Deno.test("Interim, partial, 304 and out-of-range statuses are never stored", () => {
  for (const status of [100, 103, 199, 206, 304, 600, 999]) {
    assert.equal(verdict(status, [["cache-control", "max-age=60"]]), "status", String(status));
  }
});

Deno.test("HttpCache stores and serves a 599 with max-age, and it goes stale on time", () => {
  let now = T0;
  const cache = new HttpCache({ now: () => now });
  const request = { method: "GET", url: "http://a.test/x", headers: [] as HeaderPairs };
  const stored = cache.store(request, {
    status: 599,
    headers: [["date", formatHttpDate(now)], ["cache-control", "max-age=10"]],
    requestTime: now,
    responseTime: now,
  }, new TextEncoder().encode("odd"));
  assert.equal(stored.stored, true);
  const hit = cache.lookup(request);
  assert.equal(hit.kind, "hit");
  if (hit.kind === "hit") assert.equal(hit.entry.status, 599);
  now += 11_000;
  assert.equal(cache.lookup(request).kind, "revalidate");
});
