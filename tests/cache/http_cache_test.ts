import assert from "node:assert/strict";
import type { HeaderPairs } from "../../src/cache/header_list.ts";
import {
  type CacheLookup,
  type CacheRequest,
  HttpCache,
  type HttpCacheOptions,
} from "../../src/cache/http_cache.ts";
import { RequestCoalescer } from "../../src/cache/request_coalescer.ts";

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const URL_A = "http://a.test/page?x=1";
const body = (text: string) => new TextEncoder().encode(text);

function setup(options: HttpCacheOptions = {}) {
  let now = T0;
  const cache = new HttpCache({ now: () => now, ...options });
  return {
    cache,
    advance(ms: number) {
      now += ms;
    },
    get now() {
      return now;
    },
    store(
      headers: HeaderPairs,
      opts: { url?: string; status?: number; req?: HeaderPairs; text?: string } = {},
    ) {
      return cache.store(
        { method: "GET", url: opts.url ?? URL_A, headers: opts.req ?? [] },
        {
          status: opts.status ?? 200,
          headers: [["date", new Date(now).toUTCString()], ...headers],
          requestTime: now,
          responseTime: now,
        },
        body(opts.text ?? "hello"),
      );
    },
  };
}

const get = (headers: HeaderPairs = [], url = URL_A, method = "GET"): CacheRequest => ({
  method,
  url,
  headers,
});
const kindOf = (lookup: CacheLookup) => lookup.kind === "miss" ? `miss:${lookup.fwd}` : lookup.kind;

Deno.test("HttpCache.lookup() misses on an unknown URL, hits while fresh, then asks to revalidate", () => {
  const t = setup();
  assert.equal(kindOf(t.cache.lookup(get())), "miss:uri-miss");
  assert.equal(t.store([["cache-control", "max-age=60"], ["etag", '"v1"']]).stored, true);
  t.advance(10_000);
  const hit = t.cache.lookup(get());
  assert.equal(hit.kind, "hit");
  if (hit.kind !== "hit") return;
  assert.equal(hit.ageMs, 10_000);
  assert.equal(hit.ttlMs, 50_000);
  t.advance(51_000);
  const stale = t.cache.lookup(get());
  assert.equal(stale.kind, "revalidate");
  if (stale.kind !== "revalidate") return;
  assert.equal(stale.fwd, "stale");
  assert.deepEqual(stale.conditionalHeaders, [["if-none-match", '"v1"']]);
  assert.equal(stale.staleIfError, false);
});

Deno.test("HttpCache.lookup() answers HEAD from a stored GET and bypasses unsafe methods", () => {
  const t = setup();
  t.store([["cache-control", "max-age=60"]]);
  assert.equal(kindOf(t.cache.lookup(get([], URL_A, "HEAD"))), "hit");
  assert.equal(kindOf(t.cache.lookup(get([], URL_A, "POST"))), "miss:method");
});

Deno.test("HttpCache.servedHeaders() sets Age, Cache-Status and X-Cache on hits", () => {
  const t = setup();
  t.store([["cache-control", "max-age=60"], ["age", "5"]]);
  t.advance(3_500);
  const hit = t.cache.lookup(get());
  assert.ok(hit.kind === "hit");
  const headers = t.cache.servedHeaders(
    hit.entry,
    hit.ageMs,
    { hit: true, ttlSeconds: hit.ttlMs / 1000 },
    "HIT",
  );
  const map = new Map(headers);
  assert.equal(map.get("age"), "8");
  assert.equal(map.get("cache-status"), "proxy; hit; ttl=51");
  assert.equal(map.get("x-cache"), "HIT");
  assert.equal(headers.filter(([n]) => n === "age").length, 1);
});

Deno.test("HttpCache.lookup() matches Vary variants and never stores Vary: *", () => {
  const t = setup();
  t.store([["cache-control", "max-age=60"], ["vary", "Accept-Encoding"]], {
    req: [["accept-encoding", "gzip"]],
  });
  assert.equal(kindOf(t.cache.lookup(get([["accept-encoding", "gzip"]]))), "hit");
  assert.equal(kindOf(t.cache.lookup(get([["accept-encoding", "br"]]))), "miss:vary-miss");
  assert.equal(kindOf(t.cache.lookup(get())), "miss:vary-miss");
  t.store([["cache-control", "max-age=60"], ["vary", "Accept-Encoding"]], {
    req: [["accept-encoding", "br"]],
    text: "br",
  });
  assert.equal(t.cache.size, 2);
  const star = t.store([["cache-control", "max-age=60"], ["vary", "*"]], { url: "http://a.test/star" });
  assert.deepEqual(star, { stored: false, reason: "vary-star" });
  assert.equal(kindOf(t.cache.lookup(get([], "http://a.test/star"))), "miss:uri-miss");
});

Deno.test("HttpCache.lookup() honours request no-cache, Pragma, max-age, min-fresh, max-stale", () => {
  const t = setup();
  t.store([["cache-control", "max-age=60"]]);
  t.advance(30_000);
  const reval = (h: HeaderPairs) => {
    const l = t.cache.lookup(get(h));
    return l.kind === "revalidate" ? `revalidate:${l.fwd}` : l.kind;
  };
  assert.equal(reval([["cache-control", "no-cache"]]), "revalidate:request");
  assert.equal(reval([["pragma", "no-cache"]]), "revalidate:request");
  assert.equal(
    reval([["pragma", "no-cache"], ["cache-control", "max-age=100"]]),
    "hit",
    "Pragma ignored with CC",
  );
  assert.equal(reval([["cache-control", "max-age=10"]]), "revalidate:request");
  assert.equal(reval([["cache-control", "max-age=40"]]), "hit");
  assert.equal(reval([["cache-control", "min-fresh=40"]]), "revalidate:request");
  assert.equal(reval([["cache-control", "min-fresh=20"]]), "hit");
  t.advance(40_000); // 10 s stale
  assert.equal(reval([["cache-control", "max-stale=5"]]), "revalidate:stale");
  const stale = t.cache.lookup(get([["cache-control", "max-stale=20"]]));
  assert.ok(stale.kind === "hit" && stale.stale);
  assert.equal(reval([["cache-control", "max-stale"]]), "hit");
});

Deno.test("HttpCache.lookup() answers only-if-cached without a usable response with 'unavailable'", () => {
  const t = setup();
  const onlyIfCached: HeaderPairs = [["cache-control", "only-if-cached"]];
  assert.equal(t.cache.lookup(get(onlyIfCached)).kind, "unavailable");
  t.store([["cache-control", "max-age=10"]]);
  assert.equal(t.cache.lookup(get(onlyIfCached)).kind, "hit");
  t.advance(20_000);
  assert.equal(t.cache.lookup(get(onlyIfCached)).kind, "unavailable");
});

Deno.test("HttpCache.lookup() requires revalidation for response no-cache, must-revalidate and s-maxage", () => {
  const t = setup();
  t.store([["cache-control", "no-cache, max-age=60"]], { url: "http://a.test/nc" });
  assert.equal(t.cache.lookup(get([], "http://a.test/nc")).kind, "revalidate");
  t.store([["cache-control", "max-age=1, must-revalidate"]], { url: "http://a.test/mr" });
  t.store([["cache-control", "s-maxage=1, stale-while-revalidate=60"]], { url: "http://a.test/sm" });
  t.store([["cache-control", "max-age=1, stale-while-revalidate=60"]], { url: "http://a.test/ok" });
  t.advance(5_000);
  const maxStale: HeaderPairs = [["cache-control", "max-stale"]];
  assert.equal(t.cache.lookup(get(maxStale, "http://a.test/mr")).kind, "revalidate");
  assert.equal(t.cache.lookup(get([], "http://a.test/sm")).kind, "revalidate");
  assert.equal(t.cache.lookup(get([], "http://a.test/ok")).kind, "stale-while-revalidate");
});

Deno.test("HttpCache.lookup() applies stale-while-revalidate and stale-if-error windows", () => {
  const t = setup();
  t.store([["cache-control", "max-age=10, stale-while-revalidate=20, stale-if-error=100"], ["etag", '"e"']]);
  t.advance(25_000); // 15 s stale: inside SWR
  const swr = t.cache.lookup(get());
  assert.equal(swr.kind, "stale-while-revalidate");
  if (swr.kind === "stale-while-revalidate") {
    assert.deepEqual(swr.conditionalHeaders, [["if-none-match", '"e"']]);
  }
  t.advance(10_000); // 25 s stale: past SWR, inside SIE
  const sie = t.cache.lookup(get());
  assert.ok(sie.kind === "revalidate" && sie.staleIfError);
  t.advance(100_000); // 125 s stale: past SIE
  const late = t.cache.lookup(get());
  assert.ok(late.kind === "revalidate" && !late.staleIfError);
  const requested = t.cache.lookup(get([["cache-control", "stale-if-error=200"]]));
  assert.ok(requested.kind === "revalidate" && requested.staleIfError, "request stale-if-error counts");
});

Deno.test("HttpCache.lookup() allows serve_stale_on_error up to its window, never against a directive", () => {
  const t = setup({ serveStaleOnErrorMs: 60_000 });
  t.store([["cache-control", "max-age=10"], ["etag", '"e"']]);
  t.advance(70_000); // 60 s stale: at the edge of the window
  const inside = t.cache.lookup(get());
  assert.ok(inside.kind === "revalidate" && inside.staleOnError && !inside.staleIfError);
  t.advance(1_000); // 61 s stale
  const outside = t.cache.lookup(get());
  assert.ok(outside.kind === "revalidate" && !outside.staleOnError);
  // A fresh entry revalidated for the client's no-cache may be served too when the upstream is down.
  t.store([["cache-control", "max-age=600"], ["etag", '"e"']], { url: "http://a.test/fresh" });
  const requested = t.cache.lookup(get([["cache-control", "no-cache"]], "http://a.test/fresh"));
  assert.ok(requested.kind === "revalidate" && requested.staleOnError);
  for (const cc of ["max-age=0, must-revalidate", "max-age=0, proxy-revalidate", "s-maxage=0", "no-cache"]) {
    const url = `http://a.test/${encodeURIComponent(cc)}`;
    t.store([["cache-control", cc], ["etag", '"e"']], { url });
    const forbidden = t.cache.lookup(get([], url));
    assert.ok(forbidden.kind === "revalidate" && !forbidden.staleOnError, cc);
  }
  const off = setup();
  off.store([["cache-control", "max-age=0"], ["etag", '"e"']]);
  const none = off.cache.lookup(get());
  assert.ok(none.kind === "revalidate" && !none.staleOnError, "off by default");
});

Deno.test("HttpCache.lookup() flags client conditionals satisfied by the stored response", () => {
  const t = setup();
  t.store([["cache-control", "max-age=60"], ["etag", '"v1"']]);
  const match = t.cache.lookup(get([["if-none-match", '"v1"']]));
  const other = t.cache.lookup(get([["if-none-match", '"v2"']]));
  assert.ok(match.kind === "hit" && match.notModified);
  assert.ok(other.kind === "hit" && !other.notModified);
});

Deno.test("HttpCache.revalidated() merges a 304 and restarts freshness", () => {
  const t = setup();
  t.store([["cache-control", "max-age=10"], ["etag", '"v1"'], ["x-a", "old"], ["content-length", "5"]]);
  t.advance(20_000);
  const stale = t.cache.lookup(get());
  assert.ok(stale.kind === "revalidate");
  const fresh = t.cache.revalidated(stale.entry, {
    status: 304,
    headers: [["etag", '"v1"'], ["cache-control", "max-age=100"], ["x-a", "new"], ["content-length", "0"]],
    requestTime: t.now,
    responseTime: t.now,
  });
  assert.ok(fresh !== undefined);
  const map = new Map(fresh.headers);
  assert.equal(map.get("x-a"), "new");
  assert.equal(map.get("content-length"), "5");
  assert.equal(fresh.lifetimeMs, 100_000);
  const hit = t.cache.lookup(get());
  assert.ok(hit.kind === "hit");
  assert.equal(new TextDecoder().decode(hit.entry.body), "hello");
  const mismatch = t.cache.revalidated(hit.entry, {
    status: 304,
    headers: [["etag", '"v2"']],
    requestTime: t.now,
    responseTime: t.now,
  });
  assert.equal(mismatch, undefined);
});

Deno.test("HttpCache.store() applies the object size cap and heuristic rules", () => {
  const t = setup({ maxObjectBytes: 4, defaultTtlMs: 0 });
  assert.deepEqual(t.store([["cache-control", "max-age=60"]]), { stored: false, reason: "too-large" });
  assert.deepEqual(t.store([], { text: "ok" }), { stored: false, reason: "not-reusable" });
  assert.equal(t.store([["etag", '"x"']], { text: "ok" }).stored, true, "validator makes it worth keeping");
  assert.deepEqual(
    t.cache.store(
      get([], URL_A, "HEAD"),
      { status: 200, headers: [], requestTime: T0, responseTime: T0 },
      body(""),
    ),
    { stored: false, reason: "method" },
  );
  const h = setup({ defaultTtlMs: 300_000 });
  h.store([]);
  h.advance(299_000);
  assert.equal(h.cache.lookup(get()).kind, "hit");
  h.advance(2_000);
  assert.equal(h.cache.lookup(get()).kind, "revalidate");
});

Deno.test("HttpCache evicts by entry count and by bytes", () => {
  const byCount = setup({ maxEntries: 2 });
  for (const p of ["a", "b", "c"]) {
    byCount.store([["cache-control", "max-age=60"]], { url: `http://a.test/${p}` });
  }
  assert.equal(byCount.cache.size, 2);
  assert.equal(kindOf(byCount.cache.lookup(get([], "http://a.test/a"))), "miss:uri-miss");
  const evicted: string[] = [];
  // Each entry: 1000 body bytes, the same again as its text form, headers and the fixed overhead.
  const byBytes = setup({ maxBytes: 5000, onEvict: (e) => evicted.push(e.primaryKey) });
  for (const p of ["a", "b", "c"]) {
    byBytes.store([["cache-control", "max-age=60"]], { url: `http://a.test/${p}`, text: "x".repeat(1000) });
  }
  assert.equal(byBytes.cache.size, 2);
  assert.ok(byBytes.cache.bytes <= 5000);
  assert.ok(byBytes.cache.bytes > 4000, `text form not charged: ${byBytes.cache.bytes}`);
  assert.deepEqual(evicted, ["http://a.test/a"]);
});

Deno.test("HttpCache.invalidate() purges the target and same-origin Location after a POST", () => {
  const t = setup();
  t.store([["cache-control", "max-age=60"]], { url: "http://a.test/list" });
  t.store([["cache-control", "max-age=60"]], { url: "http://a.test/list/1" });
  t.store([["cache-control", "max-age=60"]], { url: "http://a.test/other" });
  const removed = t.cache.invalidate("POST", "http://a.test/list", 201, [["location", "/list/1"]]);
  assert.equal(removed, 2);
  assert.equal(kindOf(t.cache.lookup(get([], "http://a.test/list/1"))), "miss:uri-miss");
  assert.equal(t.cache.lookup(get([], "http://a.test/other")).kind, "hit");
  assert.equal(t.cache.invalidate("POST", "http://a.test/other", 500, []), 0);
});

Deno.test("HttpCache purges by URL (all variants), by prefix and by tag", () => {
  const t = setup();
  const cc: [string, string] = ["cache-control", "max-age=60"];
  t.store([cc, ["vary", "accept"]], { url: "http://a.test/img/1", req: [["accept", "a"]] });
  t.store([cc, ["vary", "accept"]], { url: "http://a.test/img/1", req: [["accept", "b"]] });
  t.store([cc, ["surrogate-key", "red blue"]], { url: "http://a.test/img/2" });
  t.store([cc, ["cache-tag", "blue, green"]], { url: "http://a.test/doc/1" });
  t.store([cc], { url: "http://a.test/doc/2" });
  assert.equal(t.cache.purgeUrl("http://a.test/img/1"), 2);
  assert.equal(t.cache.purgeTag("blue"), 2);
  assert.equal(t.cache.purgeTag("blue"), 0);
  assert.equal(t.cache.size, 1);
  assert.equal(t.cache.purgePrefix("http://a.test/doc/"), 1);
  assert.equal(t.cache.size, 0);
});

Deno.test("HttpCache ignores configured query params in the key", () => {
  const t = setup({ ignoredQueryParams: ["utm_*"] });
  t.store([["cache-control", "max-age=60"]], { url: "http://a.test/p?utm_source=x" });
  assert.equal(t.cache.lookup(get([], "http://a.test/p")).kind, "hit");
});

Deno.test("RequestCoalescer.run() shares one fetch among concurrent callers for a key", async () => {
  const coalescer = new RequestCoalescer<string>();
  let fetches = 0;
  let release!: (value: string) => void;
  const fetch = () => {
    fetches++;
    return new Promise<string>((resolve) => (release = resolve));
  };
  const runs = [coalescer.run("k", fetch), coalescer.run("k", fetch), coalescer.run("k", fetch)];
  const other = coalescer.run("j", () => Promise.resolve("j"));
  assert.equal(coalescer.pending, 2);
  release("v");
  const results = await Promise.all(runs);
  assert.equal(fetches, 1);
  assert.deepEqual(results.map((r) => r.role), ["leader", "follower", "follower"]);
  assert.deepEqual(results.map((r) => "value" in r ? r.value : undefined), ["v", "v", "v"]);
  assert.deepEqual(await other, { role: "leader", value: "j" });
  assert.equal(coalescer.pending, 0);
});

Deno.test("RequestCoalescer.run() releases followers on leader failure and after maxWaitMs", async () => {
  const timers: Array<() => void> = [];
  const coalescer = new RequestCoalescer<string>({
    maxWaitMs: 50,
    setTimeout: (cb) => timers.push(cb),
    clearTimeout: () => {},
  });
  const failing = coalescer.run("k", () => Promise.reject(new Error("boom")));
  const follower = coalescer.run("k", () => Promise.resolve("unused"));
  await assert.rejects(failing, /boom/);
  assert.deepEqual(await follower, { role: "leader-failed" });

  let release!: (value: string) => void;
  const slow = coalescer.run("s", () => new Promise<string>((resolve) => (release = resolve)));
  const waiting = coalescer.run("s", () => Promise.resolve("unused"));
  timers.at(-1)!(); // the injected clock says maxWaitMs elapsed
  assert.deepEqual(await waiting, { role: "timeout" });
  release("done");
  assert.deepEqual(await slow, { role: "leader", value: "done" });
  assert.throws(() => new RequestCoalescer({ maxWaitMs: 0 }), RangeError);
});
