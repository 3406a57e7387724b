import assert from "node:assert/strict";
import {
  createSharedRateLimitTable,
  releaseSharedLocks,
  SharedMemoryRateLimitStore,
} from "../../src/ratelimit/store_shared_memory.ts";
import { RateLimiter } from "../../src/ratelimit/rate_limiter.ts";
import { parseConfig } from "../../src/config/load_config.ts";
import { TrustedProxies } from "../../src/net/client_address.ts";
import { InFlightAllocator, SharedInFlightCell } from "../../src/workers/shared_in_flight.ts";
import { Upstream } from "../../src/upstream/upstream.ts";
import { mergeExpositions } from "../../src/workers/metrics_merge.ts";
import { parsePrometheusText } from "../_support/prom_parser.ts";

Deno.test("SharedMemoryRateLimitStore: two stores on one table take from the same bucket", () => {
  let now = 1_000;
  const table = createSharedRateLimitTable(100);
  const a = new SharedMemoryRateLimitStore(table, { ratePerSecond: 1, burst: 3, now: () => now });
  const b = new SharedMemoryRateLimitStore(table, { ratePerSecond: 1, burst: 3, now: () => now });
  assert.deepEqual([a.take("k"), b.take("k"), a.take("k"), b.take("k")].map((d) => d.allowed), [
    true,
    true,
    true,
    false,
  ]);
  assert.equal(b.take("other").allowed, true, "other keys have their own bucket");
  now += 1_000;
  assert.equal(a.take("k").allowed, true, "one token refilled after 1 s");
  assert.equal(b.take("k").allowed, false);
  assert.equal(a.size, 2);
});

Deno.test("SharedMemoryRateLimitStore: the table is bounded; reusing a bucket that is not full counts an eviction", () => {
  const now = 0;
  const table = createSharedRateLimitTable(8); // one set of 8 slots
  const store = new SharedMemoryRateLimitStore(table, { ratePerSecond: 1, burst: 2, now: () => now });
  assert.equal(store.capacity, 8);
  for (let i = 0; i < 8; i++) store.take(`key${i}`);
  assert.equal(store.evictions, 0);
  store.take("key8");
  assert.equal(store.evictions, 1);
  assert.equal(store.size, 8);
});

Deno.test("SharedMemoryRateLimitStore: buckets are shared with a Worker isolate", async () => {
  const table = createSharedRateLimitTable(64);
  const url = new URL("./take_worker.ts", import.meta.url);
  const worker = new Worker(url, { type: "module" });
  try {
    const reply = Promise.withResolvers<number>();
    worker.onmessage = (event: MessageEvent<number>) => reply.resolve(event.data);
    worker.postMessage({ table, takes: 7 });
    assert.equal(await reply.promise, 7, "the worker was allowed 7 of burst 10");
    const store = new SharedMemoryRateLimitStore(table, { ratePerSecond: 0.001, burst: 10 });
    const allowed = Array.from({ length: 5 }, () => store.take("global").allowed).filter(Boolean).length;
    assert.equal(allowed, 3, "this isolate finds 3 tokens left");
  } finally {
    worker.terminate();
  }
});

Deno.test("RateLimiter memoryStore: the factory makes every memory policy's store", () => {
  const config = parseConfig(
    `rate_limit: { requests_per_second: 5, burst: 5 }
routes:
  - { name: a, match: { path_prefix: /a }, upstream: default, rate_limit: { requests_per_second: 1, burst: 2 } }
backends: ["http://127.0.0.1:1"]
`,
    "config.yaml",
  );
  const made: string[] = [];
  const limiter = RateLimiter.build({
    config: config.rateLimit,
    routes: config.routes,
    trustedProxies: new TrustedProxies([]),
    memoryStore: (settings) => {
      made.push(settings.name);
      return new SharedMemoryRateLimitStore(createSharedRateLimitTable(settings.maxKeys), settings);
    },
  })!;
  assert.deepEqual(made, ["default", "a"]);
  assert.deepEqual(limiter.stats().map((s) => [s.policy, s.store, s.keys]), [["default", "memory", 0], [
    "a",
    "memory",
    0,
  ]]);
});

Deno.test("shared in-flight counts: each worker writes its row, reads sum every row, a dead worker's row clears", () => {
  const allocator = new InFlightAllocator(2);
  const tables = allocator.assign(["default\nhttp://a", "default\nhttp://b"]);
  const [index, column] = tables.slots.get("default\nhttp://b")!;
  const view = new Int32Array(tables.buffers[index]!);
  const one = new Upstream("http://b");
  const two = new Upstream("http://b");
  one.shareInFlight(new SharedInFlightCell(view, 1, column, tables));
  two.shareInFlight(new SharedInFlightCell(view, 2, column, tables));
  one.acquire();
  one.acquire();
  two.acquire();
  assert.equal(one.inFlight, 3);
  assert.equal(two.inFlight, 3);
  two.release();
  two.release(); // never below zero in its own row
  assert.equal(one.inFlight, 2);
  allocator.clearRow(1);
  assert.equal(two.inFlight, 0);
  assert.equal(allocator.assign(["default\nhttp://b"]).slots.get("default\nhttp://b")![1], column, "kept");
});

Deno.test("mergeExpositions sums worker samples, takes the max of shared gauges and the control plane's own families", () => {
  const worker = (requests: number, up: number) =>
    `# HELP proxy_requests_total Requests.
# TYPE proxy_requests_total counter
proxy_requests_total{route="r",code="200"} ${requests}
# HELP proxy_upstream_up Up.
# TYPE proxy_upstream_up gauge
proxy_upstream_up{upstream="u"} ${up}
# HELP proxy_config_reloads_total Reloads.
# TYPE proxy_config_reloads_total counter
proxy_config_reloads_total{result="success"} 1
`;
  const control = `# HELP proxy_config_reloads_total Reloads.
# TYPE proxy_config_reloads_total counter
proxy_config_reloads_total{result="success"} 3
`;
  const text = mergeExpositions(
    [worker(5, 1), worker(7, 1)],
    control,
    new Set(["proxy_config_reloads_total"]),
  );
  const families = parsePrometheusText(text);
  assert.equal(families.get("proxy_requests_total")!.samples[0]!.value, 12);
  assert.equal(families.get("proxy_upstream_up")!.samples[0]!.value, 1);
  assert.equal(families.get("proxy_config_reloads_total")!.samples[0]!.value, 3);
});

Deno.test("releaseSharedLocks frees the set locks of an isolate that ended inside its critical section", () => {
  const table = createSharedRateLimitTable(8);
  const store = new SharedMemoryRateLimitStore(table, { ratePerSecond: 1, burst: 2, owner: 2 });
  store.take("k");
  // Simulate worker 3 terminated while holding the only set's lock.
  const locks = new Int32Array(table.buffer, table.buffer.byteLength - 4, 1);
  Atomics.store(locks, 0, 3);
  assert.equal(releaseSharedLocks(table, 2), 0, "worker 2 holds nothing");
  assert.equal(releaseSharedLocks(table, 3), 1);
  assert.equal(store.take("k").allowed, true, "the set is usable again (no endless spin)");
});
