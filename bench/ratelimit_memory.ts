/**
 * RSS of a MemoryRateLimitStore holding 100,000 distinct keys.
 * Run: deno run --v8-flags=--expose-gc bench/ratelimit_memory.ts
 */
import { MemoryRateLimitStore } from "../src/ratelimit/store_memory.ts";

const KEYS = 100_000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

gc();
const before = Deno.memoryUsage();
let t = 0;
const store = new MemoryRateLimitStore({ ratePerSecond: 1, burst: 10, maxKeys: KEYS, now: () => t });
for (let i = 0; i < KEYS; i++) {
  store.take(`ip:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  t += 0.01;
}
gc();
const after = Deno.memoryUsage();
console.log(`keys held: ${store.size}`);
console.log(`rss:  ${mb(before.rss)} MB -> ${mb(after.rss)} MB (+${mb(after.rss - before.rss)} MB)`);
console.log(
  `heap: ${mb(before.heapUsed)} MB -> ${mb(after.heapUsed)} MB (+${mb(after.heapUsed - before.heapUsed)} MB)`,
);
console.log(`external (typed arrays): ${mb(after.external)} MB`);
console.log(`per key: ${((after.rss - before.rss) / KEYS).toFixed(0)} B rss`);
