/**
 * Circuit breakers through the real proxy, with real upstreams on loopback: a 5xx storm opens the breaker
 * (fast 503s with Retry-After, upstream not hit), the open period doubles with each failed half-open probe up to
 * max_open_time, a successful probe closes it; max_ejection_percent keeps part of the pool in rotation, and
 * below panic_threshold the pool routes over every upstream, ignoring breakers and health checks.
 *
 * The failure-mode mapping itself (hang → 504, reset/close before headers → 502, close mid-body → truncated
 * body) is covered in tests/proxy/failures_test.ts.
 */
import assert from "node:assert/strict";
import { CircuitBreaker } from "../../src/breaker/circuit_breaker.ts";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";
import { EventLog, waitFor } from "./_support.ts";

/** The upstream's breaker (the test reads breaker-only counters such as `openings`). */
function breakerOf(proxy: ReturnType<typeof startProxy>, index = 0): CircuitBreaker {
  const gate = proxy.source.current.pools.get("default")?.upstreams[index]?.gate;
  assert.ok(gate instanceof CircuitBreaker);
  return gate;
}

/** Waits until the breaker's open period has elapsed (reading `state` performs open → half_open). */
async function untilHalfOpen(breaker: CircuitBreaker): Promise<void> {
  await waitFor(() => breaker.state === "half_open", "the breaker to go half-open");
}

async function get(url: string): Promise<{ status: number; body: string; retryAfter: string | null }> {
  const response = await fetch(url);
  return {
    status: response.status,
    body: await response.text(),
    retryAfter: response.headers.get("retry-after"),
  };
}

Deno.test("a 5xx storm opens the breaker: fast 503s, doubling half-open probes up to the cap, closing on recovery", async () => {
  let failing = true;
  let holdProbe: Promise<void> | undefined;
  await using upstream = startUpstream(async () => {
    await holdProbe;
    return new Response(failing ? "broken" : "fine", { status: failing ? 500 : 200 });
  });
  const events = new EventLog();
  await using proxy = startProxy(
    [
      "server: { port: 0 }",
      `backends: ["${upstream.url}"]`,
      "circuit_breaker: { consecutive_failures: 3, base_open_time: 200ms, max_open_time: 500ms, jitter: 0%,",
      "  max_ejection_percent: 100%, panic_threshold: 0% }",
      "retries: off",
    ].join("\n"),
    { log: events.log },
  );
  const breaker = breakerOf(proxy);
  const opened = () => events.named("circuit_state").filter((e) => e.fields.to === "open");

  // Closed: failures pass through as the upstream's own 500s until the third in a row trips the breaker.
  for (let i = 0; i < 3; i++) assert.equal((await get(proxy.url)).status, 500);
  assert.equal(upstream.received.length, 3);
  assert.equal(opened().length, 1);
  assert.deepEqual(
    { ...opened()[0]!.fields, retryAfterMs: undefined },
    { pool: "default", upstream: upstream.url, from: "closed", to: "open", retryAfterMs: undefined },
  );

  // Open: answered by the proxy without touching the upstream.
  for (let i = 0; i < 5; i++) {
    const response = await get(proxy.url);
    assert.equal(response.status, 503, response.body);
    assert.match(response.body, /no upstream available/);
    assert.equal(response.retryAfter, "1");
  }
  assert.equal(upstream.received.length, 3, "an open breaker keeps traffic off the upstream");

  // Half-open, probe fails: open again for twice as long; then again, capped at max_open_time.
  await untilHalfOpen(breaker);
  assert.equal((await get(proxy.url)).status, 500, "the probe reaches the upstream");
  assert.equal(upstream.received.length, 4);
  assert.equal((await get(proxy.url)).status, 503);
  await untilHalfOpen(breaker);
  assert.equal((await get(proxy.url)).status, 500);
  assert.equal(upstream.received.length, 5);
  assert.equal(breaker.openings, 3);

  const periods = opened().map((e) => e.fields.retryAfterMs as number);
  assert.equal(periods.length, 3);
  [200, 400, 500].forEach((expected, i) => {
    const period = periods[i]!;
    assert.ok(
      period <= expected && period >= expected - 20,
      `open periods ${periods} (expected 200, 400, 500)`,
    );
  });

  // Recovery: one probe at a time (half_open_probes: 1); its success closes the breaker.
  await untilHalfOpen(breaker);
  failing = false;
  const release = Promise.withResolvers<void>();
  holdProbe = release.promise;
  const probe = get(proxy.url);
  await waitFor(() => upstream.received.length === 6, "the probe to reach the upstream");
  assert.equal(
    (await get(proxy.url)).status,
    503,
    "a second request while the probe is in flight is refused",
  );
  release.resolve();
  assert.equal((await probe).status, 200);
  assert.equal(breaker.state, "closed");
  assert.deepEqual(
    events.named("circuit_state").map((e) => `${e.fields.from}→${e.fields.to}`),
    [
      "closed→open",
      "open→half_open",
      "half_open→open",
      "open→half_open",
      "half_open→open",
      "open→half_open",
      "half_open→closed",
    ],
  );
  holdProbe = undefined;
  for (let i = 0; i < 3; i++) assert.equal((await get(proxy.url)).body, "fine");
  assert.equal(upstream.received.length, 9);
});

Deno.test("max_ejection_percent keeps half the pool in rotation even when every upstream fails", async () => {
  await using a = startUpstream(() => new Response("a broken", { status: 500 }));
  await using b = startUpstream(() => new Response("b broken", { status: 500 }));
  const events = new EventLog();
  await using proxy = startProxy(
    [
      "server: { port: 0 }",
      `backends: ["${a.url}", "${b.url}"]`,
      "circuit_breaker: { consecutive_failures: 2, base_open_time: 1m, max_ejection_percent: 50% }",
      "retries: off",
    ].join("\n"),
    { log: events.log },
  );

  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await get(proxy.url)).status);

  assert.deepEqual(statuses, Array(12).fill(500), "the remaining upstream keeps answering; no 503");
  const opened = events.named("circuit_state").filter((e) => e.fields.to === "open");
  assert.equal(opened.length, 1, "only one of two upstreams may be ejected");
  const ejected = opened[0]!.fields.upstream;
  const kept = ejected === a.url ? b : a;
  assert.equal(kept.received.length, 12 - (ejected === a.url ? a : b).received.length);
  assert.ok(kept.received.length >= 10, `the kept upstream took the rest: ${kept.received.length}`);
  assert.equal(events.named("panic").length, 0);
});

Deno.test("below panic_threshold the pool routes over every upstream, ignoring breakers and health, and logs why once", async () => {
  // a: health check passes, traffic fails (its breaker opens). b: health check fails (down for real).
  await using a = startUpstream((request) =>
    new URL(request.url).pathname === "/health"
      ? new Response("ok")
      : new Response("a broken", { status: 500 })
  );
  await using b = startUpstream(() => new Response("down", { status: 503 }));
  const events = new EventLog();
  await using proxy = startProxy(
    [
      "server: { port: 0 }",
      `backends: ["${a.url}", "${b.url}"]`,
      "health_check: { interval: 100ms, timeout: 50ms, healthy_threshold: 1, unhealthy_threshold: 1, jitter: 0% }",
      "circuit_breaker: { consecutive_failures: 2, base_open_time: 1m }",
      "retries: off",
    ].join("\n"),
    { log: events.log },
  );
  await events.next((e) => e.event === "health_change" && e.fields.upstream === b.url);
  const traffic = (u: typeof a) => u.received.filter((r) => r.path !== "/health").length;

  // Half the pool is available: not below the default 50%, so only a takes traffic.
  assert.equal((await get(proxy.url)).status, 500);
  assert.equal((await get(proxy.url)).status, 500);
  assert.equal(breakerOf(proxy, 0).state, "open");
  assert.equal(traffic(b), 0);
  assert.equal(events.named("panic").length, 0);

  // Nothing is available now (0% < 50%): panic spreads requests over both, the unhealthy one included.
  const bodies: string[] = [];
  for (let i = 0; i < 4; i++) bodies.push((await get(proxy.url)).body);
  assert.deepEqual(bodies.sort(), ["a broken", "a broken", "down", "down"]);
  assert.equal(traffic(a), 4);
  assert.equal(traffic(b), 2, "panic ignores the failing health check");
  const panic = events.named("panic");
  assert.equal(panic.length, 1, "panic is logged once, not per request");
  assert.equal(panic[0]!.fields.pool, "default");
  assert.equal(
    panic[0]!.fields.reason,
    "2 of 2 upstreams held out (1 ejected by its breaker, 1 failing its health check): 0% available is below " +
      "panic_threshold 50%; routing over all 2 ignoring health and breakers",
  );
  assert.equal(panic[0]!.fields.held_out, 2);
  assert.equal(panic[0]!.fields.breaker_open, 1);
  assert.equal(panic[0]!.fields.unhealthy, 1);
  assert.equal(panic[0]!.fields.available_percent, 0);
});

Deno.test("panic_threshold is a share: 1 of 4 available panics below 30% but not at 25%", async () => {
  const upstreams = [startUpstream(), startUpstream(), startUpstream(), startUpstream()];
  try {
    for (const [threshold, panics] of [["30%", true], ["25%", false]] as const) {
      for (const upstream of upstreams) upstream.received.length = 0;
      const events = new EventLog();
      await using proxy = startProxy(
        [
          "server: { port: 0 }",
          `backends: [${upstreams.map((u) => `"${u.url}"`).join(", ")}]`,
          `circuit_breaker: { panic_threshold: ${threshold} }`,
        ].join("\n"),
        { log: events.log },
      );
      const pool = proxy.source.current.pools.get("default")!;
      for (const upstream of pool.upstreams.slice(1)) upstream.setHealthy(false);
      for (let i = 0; i < 8; i++) assert.equal((await get(proxy.url)).status, 200);
      const counts = upstreams.map((u) => u.received.length);
      assert.deepEqual(counts, panics ? [2, 2, 2, 2] : [8, 0, 0, 0], `panic_threshold ${threshold}`);
      assert.equal(events.named("panic").length, panics ? 1 : 0);
    }
  } finally {
    for (const upstream of upstreams) await upstream[Symbol.asyncDispose]();
  }
});

Deno.test("a breaker opening on one of three upstreams puts a pool with panic_threshold 70% into panic at once", async () => {
  await using broken = startUpstream(() => new Response("broken", { status: 500 }));
  await using b = startUpstream();
  await using c = startUpstream();
  const events = new EventLog();
  await using proxy = startProxy(
    [
      "server: { port: 0 }",
      `backends: ["${broken.url}", "${b.url}", "${c.url}"]`,
      "load_balancer: { algorithm: round_robin }",
      "circuit_breaker: { consecutive_failures: 1, base_open_time: 1m, panic_threshold: 70% }",
      "retries: off",
    ].join("\n"),
    { log: events.log },
  );
  for (let i = 0; i < 3 && broken.received.length === 0; i++) await get(proxy.url);
  assert.equal(breakerOf(proxy, 0).state, "open");
  assert.equal(events.named("panic").length, 0);
  // 2 of 3 available (67%) is below 70%: round robin over all three, the ejected one included.
  const before = [broken, b, c].map((u) => u.received.length);
  for (let i = 0; i < 6; i++) await get(proxy.url);
  const after = [broken, b, c].map((u, i) => u.received.length - before[i]!);
  assert.deepEqual(after, [2, 2, 2], "panic traffic reaches the upstream its breaker holds out");
  assert.equal(events.named("panic").length, 1);
  assert.equal(events.named("panic")[0]!.fields.available_percent, 67);
});

Deno.test("panic_threshold: 0% turns panic mode off: an ejected last upstream yields 503 with Retry-After", async () => {
  await using upstream = startUpstream(() => new Response("broken", { status: 502 }));
  await using proxy = startProxy(
    [
      "server: { port: 0 }",
      `backends: ["${upstream.url}"]`,
      "circuit_breaker: { consecutive_failures: 1, base_open_time: 3s, jitter: 0%, panic_threshold: 0% }",
    ].join("\n"),
    { log: () => {} },
  );
  assert.equal((await get(proxy.url)).status, 502);
  const refused = await get(proxy.url);
  assert.equal(refused.status, 503);
  assert.equal(refused.retryAfter, "3");
  assert.equal(upstream.received.length, 1);
});
