/**
 * Cache hot paths. Target: LRU get/set ≤ 0.3 µs. `MapLru` is the Map-only alternative (delete + re-insert
 * on every hit) kept here to justify the linked-list choice in src/cache/lru.ts.
 */
import { HttpCache } from "../src/cache/http_cache.ts";
import { Lru } from "../src/cache/lru.ts";

class MapLru<K, V> {
  readonly #map = new Map<K, V>();
  constructor(readonly max: number) {}
  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }
  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) this.#map.delete(this.#map.keys().next().value!);
  }
}

const N = 10_000;
const keys = Array.from({ length: N }, (_, i) => `http://a.test/item/${i}`);
const lru = new Lru<string, number>({ maxEntries: N });
const mapLru = new MapLru<string, number>(N);
for (let i = 0; i < N; i++) {
  lru.set(keys[i]!, i, 100);
  mapLru.set(keys[i]!, i);
}
let i = 0;

Deno.bench("Lru.get (linked list, hit)", { group: "lru-get", baseline: true }, () => {
  lru.get(keys[i++ % N]!);
});
Deno.bench("MapLru.get (Map re-insert, hit)", { group: "lru-get" }, () => {
  mapLru.get(keys[i++ % N]!);
});
const churn = new Lru<string, number>({ maxEntries: N / 2 });
Deno.bench("Lru.set (with eviction)", { group: "lru-set", baseline: true }, () => {
  churn.set(keys[i++ % N]!, i, 100);
});
const mapChurn = new MapLru<string, number>(N / 2);
Deno.bench("MapLru.set (with eviction)", { group: "lru-set" }, () => {
  mapChurn.set(keys[i++ % N]!, i);
});

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const cache = new HttpCache({ now: () => T0 + 1_000 });
const headers: Array<[string, string]> = [
  ["date", new Date(T0).toUTCString()],
  ["cache-control", "public, max-age=300"],
  ["content-type", "text/html; charset=utf-8"],
  ["etag", '"abc"'],
  ["vary", "Accept-Encoding"],
];
const requestHeaders: Array<[string, string]> = [
  ["host", "a.test"],
  ["user-agent", "bench"],
  ["accept", "*/*"],
  ["accept-encoding", "gzip, br"],
];
cache.store({ method: "GET", url: "http://a.test/page?x=1", headers: requestHeaders }, {
  status: 200,
  headers,
  requestTime: T0,
  responseTime: T0,
}, new Uint8Array(2048));
const request = { method: "GET", url: "http://a.test/page?x=1", headers: requestHeaders };

Deno.bench("HttpCache.lookup (fresh hit, Vary)", { group: "http-cache" }, () => {
  const result = cache.lookup(request);
  if (result.kind !== "hit") throw new Error("expected hit");
});
Deno.bench("HttpCache.lookup + servedHeaders (fresh hit)", { group: "http-cache" }, () => {
  const result = cache.lookup(request);
  if (result.kind !== "hit") throw new Error("expected hit");
  cache.servedHeaders(result.entry, result.ageMs, { hit: true, ttlSeconds: result.ttlMs / 1000 }, "HIT");
});
