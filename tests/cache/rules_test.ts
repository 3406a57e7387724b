import assert from "node:assert/strict";
import { deltaSeconds, parseCacheControl } from "../../src/cache/cache_control.ts";
import { CacheKey, MEMO_ENTRIES, MEMO_URL_CHARS } from "../../src/cache/cache_key.ts";
import { formatCacheStatus } from "../../src/cache/cache_status.ts";
import { ageValueSeconds, currentAgeMs, freshnessLifetimeMs } from "../../src/cache/freshness.ts";
import type { HeaderPairs } from "../../src/cache/header_list.ts";
import { invalidationTargets } from "../../src/cache/invalidation.ts";
import {
  clientNotModified,
  conditionalHeaders,
  mergeNotModified,
  notModifiedMatches,
} from "../../src/cache/revalidation.ts";
import { storability } from "../../src/cache/storability.ts";
import { varyKey, varyNames } from "../../src/cache/vary.ts";

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const date = (ms: number) => new Date(ms).toUTCString();

Deno.test("parseCacheControl() lower-cases names, unquotes arguments and keeps the first duplicate", () => {
  const cc = parseCacheControl('Max-Age="60", no-cache, max-age=5, private="set-cookie, x"');
  assert.equal(cc.get("max-age"), "60");
  assert.equal(cc.get("no-cache"), true);
  assert.equal(cc.get("private"), "set-cookie, x");
  assert.equal(deltaSeconds(cc, "max-age"), 60);
  assert.ok(Number.isNaN(deltaSeconds(parseCacheControl("max-age=abc"), "max-age")!));
  assert.equal(deltaSeconds(cc, "s-maxage"), undefined);
  assert.equal(deltaSeconds(parseCacheControl("max-age=99999999999"), "max-age"), 2_147_483_648);
});

Deno.test("storability() follows RFC 9111 §3 for methods, statuses and directives", () => {
  const base = { method: "GET", requestHeaders: [] as HeaderPairs, status: 200, shared: true };
  const cases: Array<[string, Parameters<typeof storability>[0], string]> = [
    ["plain 200", { ...base, responseHeaders: [] }, "ok"],
    ["POST", { ...base, method: "POST", responseHeaders: [["cache-control", "max-age=60"]] }, "method"],
    ["HEAD", { ...base, method: "HEAD", responseHeaders: [] }, "ok"],
    ["206 not understood", { ...base, status: 206, responseHeaders: [] }, "status"],
    ["302 without freshness", { ...base, status: 302, responseHeaders: [] }, "no-freshness"],
    ["302 with max-age", { ...base, status: 302, responseHeaders: [["cache-control", "max-age=5"]] }, "ok"],
    ["404 heuristic", { ...base, status: 404, responseHeaders: [] }, "ok"],
    ["no-store", { ...base, responseHeaders: [["cache-control", "no-store"]] }, "no-store"],
    [
      "must-understand overrides no-store",
      { ...base, responseHeaders: [["cache-control", "must-understand, no-store, max-age=5"]] },
      "ok",
    ],
    [
      "request no-store",
      { ...base, requestHeaders: [["cache-control", "no-store"]], responseHeaders: [] },
      "request-no-store",
    ],
    ["private in shared cache", { ...base, responseHeaders: [["cache-control", "private"]] }, "private"],
    [
      "private in private cache",
      { ...base, shared: false, responseHeaders: [["cache-control", "private"]] },
      "ok",
    ],
    [
      "Authorization",
      {
        ...base,
        requestHeaders: [["authorization", "Basic x"]],
        responseHeaders: [["cache-control", "max-age=5"]],
      },
      "authorization",
    ],
    [
      "Authorization + public",
      {
        ...base,
        requestHeaders: [["authorization", "Basic x"]],
        responseHeaders: [["cache-control", "public"]],
      },
      "ok",
    ],
    [
      "Authorization + s-maxage",
      {
        ...base,
        requestHeaders: [["authorization", "x"]],
        responseHeaders: [["cache-control", "s-maxage=5"]],
      },
      "ok",
    ],
    [
      "Authorization + must-revalidate",
      {
        ...base,
        requestHeaders: [["authorization", "x"]],
        responseHeaders: [["cache-control", "must-revalidate, max-age=1"]],
      },
      "ok",
    ],
  ];
  for (const [name, input, expected] of cases) {
    const verdict = storability(input);
    assert.equal(verdict.storable ? "ok" : verdict.reason, expected, name);
  }
});

Deno.test("freshnessLifetimeMs() prefers s-maxage, then max-age, then Expires − Date, then heuristics", () => {
  const opts = { shared: true, heuristicTtlMs: 300_000, responseTime: T0 };
  const expires: HeaderPairs = [["date", date(T0)], ["expires", date(T0 + 100_000)]];
  assert.equal(
    freshnessLifetimeMs(200, [["cache-control", "s-maxage=10, max-age=20"], ...expires], opts),
    10_000,
  );
  assert.equal(
    freshnessLifetimeMs(200, [["cache-control", "s-maxage=10, max-age=20"]], { ...opts, shared: false }),
    20_000,
  );
  assert.equal(freshnessLifetimeMs(200, [["cache-control", "max-age=20"], ...expires], opts), 20_000);
  assert.equal(freshnessLifetimeMs(200, expires, opts), 100_000);
  assert.equal(freshnessLifetimeMs(200, [["expires", "0"]], opts), 0, "invalid Expires means stale");
  assert.equal(freshnessLifetimeMs(200, [["cache-control", "max-age=x"]], opts), 0);
  assert.equal(freshnessLifetimeMs(200, [], opts), 300_000, "heuristic without validator");
  assert.equal(
    freshnessLifetimeMs(200, [["date", date(T0)], ["last-modified", date(T0 - 1_000_000)]], opts),
    100_000,
    "10% of the time since Last-Modified",
  );
  assert.equal(freshnessLifetimeMs(302, [], opts), 0, "302 is not heuristically cacheable");
  assert.equal(freshnessLifetimeMs(302, [["cache-control", "public"]], opts), 300_000);
  assert.equal(freshnessLifetimeMs(200, [], { ...opts, heuristicTtlMs: 0 }), 0);
});

Deno.test("currentAgeMs() combines Age, apparent age, response delay and resident time (§4.2.3)", () => {
  const times = { requestTime: T0 - 2_000, responseTime: T0 };
  // Age 10 s + 2 s delay beats apparent age 5 s; then 30 s resident.
  assert.equal(currentAgeMs([["date", date(T0 - 5_000)], ["age", "10"]], times, T0 + 30_000), 42_000);
  // Apparent age 60 s beats Age 1 + 2.
  assert.equal(currentAgeMs([["date", date(T0 - 60_000)], ["age", "1"]], times, T0), 60_000);
  // A Date in the future does not make age negative.
  assert.equal(currentAgeMs([["date", date(T0 + 60_000)]], times, T0), 2_000);
  // RFC 9111 §5.1: an Age that is not a non-negative integer is ignored (age from Date alone).
  for (const age of ["-5", "7200.0", "abc", "1 2", "", "0x10", "+5"]) {
    assert.equal(currentAgeMs([["date", date(T0)], ["age", age]], times, T0), 2_000, `Age: ${age}`);
  }
  // The first value of a list, or of several Age lines, counts; parameters are dropped.
  assert.equal(currentAgeMs([["date", date(T0)], ["age", "0, 7200"]], times, T0), 2_000);
  assert.equal(currentAgeMs([["date", date(T0)], ["age", "7200, 0"]], times, T0), 7_202_000);
  assert.equal(currentAgeMs([["date", date(T0)], ["age", "0"], ["age", "7200"]], times, T0), 2_000);
  assert.equal(currentAgeMs([["date", date(T0)], ["age", "7200"], ["age", "0"]], times, T0), 7_202_000);
  assert.equal(currentAgeMs([["date", date(T0)], ["age", "7200;foo=bar"]], times, T0), 7_202_000);
  // §1.2.2: values at or beyond 2^31 are capped there ("very old").
  for (const age of ["2147483648", "2147483649", "99999999999999999999"]) {
    assert.equal(currentAgeMs([["date", date(T0)], ["age", age]], times, T0), 2_147_483_648_000 + 2_000, age);
  }
});

Deno.test("ageValueSeconds(): an ignored Age keeps a max-age response fresh; a huge one makes it stale", () => {
  const times = { requestTime: T0, responseTime: T0 };
  const lifetime = 3_600_000;
  for (const age of ["abc", "-7200", "7200.0", "0, 0", "0, 7200"]) {
    assert.ok(currentAgeMs([["date", date(T0)], ["age", age]], times, T0) < lifetime, age);
  }
  for (const age of ["2147483647", "2147483648", "7200, 0"]) {
    assert.ok(currentAgeMs([["date", date(T0)], ["age", age]], times, T0) >= lifetime, age);
  }
  assert.equal(ageValueSeconds([["age", "2147483649"]]), 2_147_483_648);
  assert.equal(ageValueSeconds([["age", " 15 "]]), 15);
  assert.equal(ageValueSeconds([]), 0);
});

Deno.test("varyNames() and varyKey() normalize nominated headers; '*' is reported", () => {
  assert.deepEqual(varyNames([["vary", "Accept-Encoding, accept-language"]]), [
    "accept-encoding",
    "accept-language",
  ]);
  assert.equal(varyNames([["vary", "accept, *"]]), "*");
  const names = ["accept-encoding"];
  assert.equal(
    varyKey(names, [["accept-encoding", "gzip,  br"]]),
    varyKey(names, [["Accept-Encoding", "gzip, br"]]),
  );
  assert.notEqual(varyKey(names, [["accept-encoding", "gzip"]]), varyKey(names, [["accept-encoding", "br"]]));
  assert.notEqual(varyKey(names, []), varyKey(names, [["accept-encoding", ""]]));
});

Deno.test("conditionalHeaders() builds If-None-Match and If-Modified-Since from stored validators", () => {
  assert.deepEqual(conditionalHeaders([["etag", '"v1"'], ["last-modified", date(T0)]]), [
    ["if-none-match", '"v1"'],
    ["if-modified-since", date(T0)],
  ]);
  assert.deepEqual(conditionalHeaders([["content-type", "text/plain"]]), []);
});

Deno.test("mergeNotModified() replaces stored fields except Content-Length and connection fields", () => {
  const stored: HeaderPairs = [
    ["content-type", "text/plain"],
    ["content-length", "5"],
    ["cache-control", "max-age=1"],
    ["x-old", "1"],
  ];
  const merged = mergeNotModified(stored, [
    ["cache-control", "max-age=60"],
    ["content-length", "0"],
    ["connection", "x-hop"],
    ["x-hop", "1"],
    ["x-new", "2"],
  ]);
  assert.deepEqual(merged, [
    ["content-type", "text/plain"],
    ["content-length", "5"],
    ["x-old", "1"],
    ["cache-control", "max-age=60"],
    ["x-new", "2"],
  ]);
});

Deno.test("notModifiedMatches() selects the stored response by strong ETag or Last-Modified", () => {
  assert.equal(notModifiedMatches([["etag", '"a"']], [["etag", '"a"']]), true);
  assert.equal(notModifiedMatches([["etag", '"a"']], [["etag", '"b"']]), false);
  assert.equal(notModifiedMatches([["etag", 'W/"a"']], [["etag", 'W/"a"']]), false);
  assert.equal(
    notModifiedMatches([["last-modified", date(T0)]], [["last-modified", date(T0 - 1000)]]),
    false,
  );
  assert.equal(notModifiedMatches([], []), true);
});

Deno.test("clientNotModified() prefers If-None-Match (weak comparison) over If-Modified-Since", () => {
  const stored: HeaderPairs = [["etag", 'W/"a"'], ["last-modified", date(T0)]];
  assert.equal(clientNotModified([["if-none-match", '"x", "a"']], stored), true);
  assert.equal(clientNotModified([["if-none-match", '"x"'], ["if-modified-since", date(T0)]], stored), false);
  assert.equal(clientNotModified([["if-modified-since", date(T0)]], stored), true);
  assert.equal(clientNotModified([["if-modified-since", date(T0 - 1000)]], stored), false);
});

Deno.test("invalidationTargets() lists the URI and same-origin Location/Content-Location after unsafe methods", () => {
  const targets = invalidationTargets("POST", "http://a.test/items", 201, [
    ["location", "/items/7"],
    ["content-location", "http://other.test/x"],
  ]);
  assert.deepEqual(targets.map((u) => u.href), ["http://a.test/items", "http://a.test/items/7"]);
  assert.deepEqual(invalidationTargets("GET", "http://a.test/", 200, []), []);
  assert.deepEqual(invalidationTargets("DELETE", "http://a.test/", 500, []), []);
  assert.equal(invalidationTargets("PUT", "http://a.test/x", 302, []).length, 1);
});

Deno.test("formatCacheStatus() writes RFC 9211 parameters in order", () => {
  assert.equal(formatCacheStatus("proxy", { hit: true, ttlSeconds: 42.9 }), "proxy; hit; ttl=42");
  assert.equal(
    formatCacheStatus("proxy", { fwd: "uri-miss", fwdStatus: 200, stored: true }),
    "proxy; fwd=uri-miss; fwd-status=200; stored",
  );
  assert.equal(
    formatCacheStatus("my cache", { fwd: "stale", ttlSeconds: -3 }),
    '"my cache"; fwd=stale; ttl=-3',
  );
});

Deno.test("CacheKey.for() drops fragments and ignored params, keeps query order unless sorting", () => {
  const plain = new CacheKey();
  assert.equal(plain.for("HTTP://Example.COM:80/a?b=1&a=2#frag"), "http://example.com/a?b=1&a=2");
  const tuned = new CacheKey({ ignoredQueryParams: ["utm_*", "fbclid"], sortQuery: true });
  assert.equal(tuned.for("https://x.test/p?z=1&utm_source=m&fbclid=q&a=2"), "https://x.test/p?a=2&z=1");
  assert.equal(tuned.for("https://x.test/p?utm_medium=1"), "https://x.test/p");
  assert.throws(() => new CacheKey({ ignoredQueryParams: [""] }), TypeError);
});

Deno.test("CacheKey.for() gives the same keys from its memo: repeats, past the memo's size, long URLs, bad URLs", () => {
  const key = new CacheKey({ ignoredQueryParams: ["utm_*"] });
  for (let round = 0; round < 2; round++) {
    assert.equal(key.for("HTTP://Example.COM:80/a?b=1&utm_x=2#f"), "http://example.com/a?b=1");
    assert.equal(key.for("http://x.test/a b?q=é"), "http://x.test/a%20b?q=%C3%A9");
  }
  // More distinct URLs than the memo holds: it is cleared and refilled, and every key stays right.
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i <= MEMO_ENTRIES + 10; i++) {
      assert.equal(key.for(`http://X.test/p/${i}?utm_s=1&k=${i}`), `http://x.test/p/${i}?k=${i}`);
    }
  }
  const long = `http://x.test/${"a".repeat(MEMO_URL_CHARS)}?utm_a=1`;
  assert.equal(key.for(long), `http://x.test/${"a".repeat(MEMO_URL_CHARS)}`);
  assert.equal(key.for(long), `http://x.test/${"a".repeat(MEMO_URL_CHARS)}`);
  for (let round = 0; round < 2; round++) assert.throws(() => key.for("http://[bad/"), TypeError);
  // A URL object is keyed directly.
  assert.equal(key.for(new URL("http://x.test/u?utm_z=1&b=2")), "http://x.test/u?b=2");
});
