import assert from "node:assert/strict";
import type { HeaderPairs } from "../../src/cache/header_list.ts";
import { formatHttpDate } from "../../src/cache/http_date.ts";
import { HttpCache } from "../../src/cache/http_cache.ts";
import { parseDictionary } from "../../src/cache/structured_fields.ts";
import { targetedCacheControl } from "../../src/cache/targeted_fields.ts";

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const CDN = ["cdn-cache-control"];

Deno.test("parseDictionary reads RFC 9651 members, parameters and inner lists", () => {
  const d = parseDictionary(`max-age=60, no-store, private="set-cookie", a=(1 2);x, b=?0, c=1.5, d=tok/x`);
  assert.ok(d);
  assert.deepEqual([...d.keys()], ["max-age", "no-store", "private", "a", "b", "c", "d"]);
  assert.deepEqual(d.get("max-age"), { item: { type: "integer", value: 60 }, params: new Map() });
  assert.deepEqual(d.get("c"), { item: { type: "decimal", value: 1.5 }, params: new Map() });
  assert.equal(parseDictionary("")?.size, 0);
});

Deno.test("parseDictionary fails the whole field on invalid syntax (RFC 9651 §4.2)", () => {
  for (
    const bad of [
      "Max-Age=60", // keys are lower case
      "max-age=60,", // trailing comma
      "max-age=60 no-store", // missing comma
      'private="unterminated',
      "max-age=1.", // decimal without fraction
      "max-age=1234567890123456", // integer of 16 digits
      "a=?2",
      "a=(1 2",
      "1abc",
    ]
  ) assert.equal(parseDictionary(bad), undefined, bad);
});

Deno.test("targetedCacheControl: first valid, non-empty field on the list wins (RFC 9213 §2.2)", () => {
  const h: HeaderPairs = [["cdn-cache-control", "Max-Age=5"], ["x-mine", "max-age=7"], [
    "x-other",
    "max-age=9",
  ]];
  assert.equal(targetedCacheControl(h, ["cdn-cache-control", "x-mine", "x-other"])?.get("max-age"), "7");
  assert.equal(targetedCacheControl([["cdn-cache-control", ""]], CDN), undefined);
  assert.equal(targetedCacheControl(h, []), undefined);
  // Directives of the wrong type are dropped; ?0 means absent.
  const cc = targetedCacheControl(
    [["cdn-cache-control", `max-age="60", s-maxage=-1, no-store=?0, private`]],
    CDN,
  );
  assert.deepEqual(cc && [...cc], [["private", true]]);
});

function store(headers: Array<[string, string]>, fields?: string[]) {
  const now = T0;
  const cache = new HttpCache({ now: () => now, ...(fields ? { targetedFields: fields } : {}) });
  const request = { method: "GET", url: "http://a.test/x", headers: [] as HeaderPairs };
  const result = cache.store(request, {
    status: 200,
    headers: [["date", formatHttpDate(now)], ...headers],
    requestTime: now,
    responseTime: now,
  }, new TextEncoder().encode("x"));
  return { cache, result, request };
}

Deno.test("CDN-Cache-Control replaces Cache-Control and Expires for storing and freshness (RFC 9213 §2.2)", () => {
  // Cache-Control: no-store for browsers, CDN-Cache-Control: max-age for us: stored for 60 s.
  const a = store([["cache-control", "no-store"], ["cdn-cache-control", "max-age=60"]]);
  assert.equal(a.result.stored, true);
  if (a.result.stored) assert.equal(a.result.entry.lifetimeMs, 60_000);
  // The targeted no-store beats a Cache-Control max-age.
  const b = store([["cache-control", "max-age=60"], ["cdn-cache-control", "no-store"]]);
  assert.deepEqual(b.result, { stored: false, reason: "no-store" });
  const c = store([["cache-control", "public, max-age=60"], ["cdn-cache-control", "private"]]);
  assert.deepEqual(c.result, { stored: false, reason: "private" });
  // Expires is ignored while the targeted field is in charge: lifetime from its s-maxage only.
  const d = store([["expires", formatHttpDate(T0 + 3_600_000)], [
    "cdn-cache-control",
    "s-maxage=10, max-age=99",
  ]]);
  assert.equal(d.result.stored && d.result.entry.lifetimeMs, 10_000);
  // no-cache: stored, but every reuse revalidates.
  const e = store([["cache-control", "max-age=60"], ["cdn-cache-control", "no-cache"], ["etag", '"1"']]);
  assert.equal(e.result.stored, true);
  assert.equal(e.cache.lookup(e.request).kind, "revalidate");
});

Deno.test("An invalid or disabled targeted field leaves Cache-Control in charge", () => {
  const a = store([["cache-control", "max-age=30"], ["cdn-cache-control", "No-Store"]]);
  assert.equal(a.result.stored && a.result.entry.lifetimeMs, 30_000);
  const b = store([["cache-control", "max-age=30"], ["cdn-cache-control", "no-store"]], []);
  assert.equal(b.result.stored && b.result.entry.lifetimeMs, 30_000);
  // A stored entry keeps the targeted field in its headers (forwarded downstream unchanged).
  const c = store([["cdn-cache-control", "max-age=60"]]);
  assert.ok(
    c.result.stored &&
      c.result.entry.headers.some(([k, v]) => k === "cdn-cache-control" && v === "max-age=60"),
  );
});
