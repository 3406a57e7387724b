import assert from "node:assert/strict";
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
} from "../../src/breaker/circuit_breaker.ts";
import { EjectionGuard } from "../../src/breaker/ejection_guard.ts";
import { Upstream } from "../../src/upstream/upstream.ts";

/** A breaker on a hand-driven clock; `random` is 0.5 (no jitter) unless given. */
function setup(options: CircuitBreakerOptions = {}) {
  const clock = { now: 1_000_000 };
  const transitions: string[] = [];
  const breaker = new CircuitBreaker({ now: () => clock.now, random: () => 0.5, ...options });
  breaker.onStateChange((to, from) => transitions.push(`${from}->${to}`));
  return { clock, breaker, transitions };
}

function fail(breaker: CircuitBreaker, times: number): void {
  for (let i = 0; i < times; i++) breaker.recordFailure();
}

Deno.test("CircuitBreaker starts closed and admits requests", () => {
  const { breaker } = setup();
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.admits, true);
  assert.equal(breaker.reserve(), true);
  assert.equal(breaker.retryAfterMs, 0);
});

Deno.test("CircuitBreaker opens after the configured number of consecutive failures", () => {
  const { breaker, transitions } = setup({ consecutiveFailures: 3 });
  fail(breaker, 2);
  assert.equal(breaker.state, "closed");
  breaker.recordFailure();
  assert.equal(breaker.state, "open");
  assert.equal(breaker.admits, false);
  assert.equal(breaker.reserve(), false);
  assert.deepEqual(transitions, ["closed->open"]);
});

Deno.test("CircuitBreaker resets the consecutive count on a success", () => {
  const { breaker } = setup({ consecutiveFailures: 3 });
  fail(breaker, 2);
  breaker.recordSuccess();
  fail(breaker, 2);
  assert.equal(breaker.state, "closed");
});

Deno.test("CircuitBreaker goes half-open lazily when admits is read after the open period", () => {
  const { clock, breaker, transitions } = setup({ consecutiveFailures: 1, baseOpenMs: 1_000 });
  breaker.recordFailure();
  assert.equal(breaker.retryAfterMs, 1_000);
  clock.now += 999;
  assert.equal(breaker.admits, false);
  assert.equal(breaker.retryAfterMs, 1);
  clock.now += 1;
  assert.deepEqual(transitions, ["closed->open"], "nothing changes until someone asks");
  assert.equal(breaker.admits, true);
  assert.equal(breaker.state, "half_open");
  assert.equal(breaker.retryAfterMs, 0);
  assert.deepEqual(transitions, ["closed->open", "open->half_open"]);
});

Deno.test("CircuitBreaker in half-open admits only as many probes as configured", () => {
  const { clock, breaker } = setup({ consecutiveFailures: 1, baseOpenMs: 1_000, halfOpenProbes: 2 });
  breaker.recordFailure();
  clock.now += 1_000;
  assert.equal(breaker.reserve(), true);
  assert.equal(breaker.admits, true);
  assert.equal(breaker.reserve(), true);
  assert.equal(breaker.admits, false);
  assert.equal(breaker.reserve(), false);
  assert.equal(breaker.probesInFlight, 2);
  breaker.release();
  assert.equal(breaker.admits, true, "a released slot can be taken again");
  assert.equal(breaker.state, "half_open");
});

Deno.test("CircuitBreaker closes when a half-open probe succeeds", () => {
  const { clock, breaker, transitions } = setup({ consecutiveFailures: 2, baseOpenMs: 1_000 });
  fail(breaker, 2);
  clock.now += 1_000;
  assert.equal(breaker.reserve(), true);
  breaker.recordSuccess();
  assert.equal(breaker.state, "closed");
  assert.deepEqual(transitions, ["closed->open", "open->half_open", "half_open->closed"]);
  breaker.recordFailure();
  assert.equal(breaker.state, "closed", "the failure count started afresh");
});

Deno.test("CircuitBreaker re-opens with a doubled period when a probe fails, up to the cap", () => {
  const { clock, breaker } = setup({ consecutiveFailures: 1, baseOpenMs: 1_000, maxOpenMs: 5_000 });
  breaker.recordFailure();
  const periods: number[] = [];
  for (let i = 0; i < 5; i++) {
    periods.push(breaker.retryAfterMs);
    clock.now += breaker.retryAfterMs;
    assert.equal(breaker.reserve(), true);
    breaker.recordFailure();
    assert.equal(breaker.state, "open");
  }
  assert.deepEqual(periods, [1_000, 2_000, 4_000, 5_000, 5_000]);
  assert.equal(breaker.openings, 6);
});

Deno.test("CircuitBreaker spreads open periods by the jitter fraction and never exceeds the cap", () => {
  for (const [random, expected] of [[0, 900], [0.999_999, 1_100]] as const) {
    const { breaker } = setup({
      consecutiveFailures: 1,
      baseOpenMs: 1_000,
      jitter: 0.1,
      random: () => random,
    });
    breaker.recordFailure();
    assert.ok(Math.abs(breaker.retryAfterMs - expected) < 0.01, `random ${random}: ${breaker.retryAfterMs}`);
  }
  const { clock, breaker } = setup({
    consecutiveFailures: 1,
    baseOpenMs: 1_000,
    maxOpenMs: 2_000,
    jitter: 0.5,
    random: () => 0.999_999,
  });
  breaker.recordFailure();
  clock.now += breaker.retryAfterMs;
  breaker.reserve();
  breaker.recordFailure();
  assert.equal(breaker.retryAfterMs, 2_000, "jitter above the cap is clipped to it");
});

Deno.test("CircuitBreaker opens on the failure ratio once the window holds enough requests", () => {
  const { breaker } = setup({ consecutiveFailures: 0, failureRatio: 0.5, minimumRequests: 10 });
  for (let i = 0; i < 4; i++) {
    breaker.recordSuccess();
    breaker.recordFailure();
  }
  assert.equal(breaker.state, "closed", "8 requests are below the minimum");
  breaker.recordSuccess();
  breaker.recordFailure();
  assert.equal(breaker.state, "open", "5 of 10 failed");
});

Deno.test("CircuitBreaker stays closed while the failure ratio is below the threshold", () => {
  const { breaker } = setup({ consecutiveFailures: 0, failureRatio: 0.5, minimumRequests: 10 });
  for (let i = 0; i < 30; i++) {
    breaker.recordSuccess();
    breaker.recordSuccess();
    breaker.recordFailure();
  }
  assert.equal(breaker.state, "closed");
});

Deno.test("CircuitBreaker forgets failures that slid out of the ratio window", () => {
  const { clock, breaker } = setup({
    consecutiveFailures: 0,
    failureRatio: 0.5,
    minimumRequests: 10,
    windowMs: 10_000,
  });
  fail(breaker, 9);
  clock.now += 11_000;
  breaker.recordFailure();
  assert.equal(breaker.state, "closed", "only 1 request remains in the window");
  for (let i = 0; i < 9; i++) breaker.recordSuccess();
  assert.equal(breaker.state, "closed", "1 failure in 10 requests");
});

Deno.test("CircuitBreaker starts again from the base period after a healthy period closed", () => {
  const { clock, breaker } = setup({ consecutiveFailures: 1, baseOpenMs: 1_000, healthyResetMs: 60_000 });
  breaker.recordFailure();
  clock.now += 1_000;
  breaker.reserve();
  breaker.recordFailure(); // second opening: 2 s
  clock.now += 2_000;
  breaker.reserve();
  breaker.recordSuccess();
  assert.equal(breaker.openings, 2);
  clock.now += 59_999;
  breaker.recordFailure();
  assert.equal(breaker.retryAfterMs, 4_000, "closed too briefly: the backoff keeps growing");
  clock.now += 4_000;
  breaker.reserve();
  breaker.recordSuccess();
  clock.now += 60_000;
  assert.equal(breaker.openings, 0);
  breaker.recordFailure();
  assert.equal(breaker.retryAfterMs, 1_000);
});

Deno.test("CircuitBreaker ignores late outcomes that arrive while open", () => {
  const { breaker } = setup({ consecutiveFailures: 1 });
  breaker.recordFailure();
  breaker.recordSuccess();
  breaker.recordFailure();
  assert.equal(breaker.state, "open");
  assert.equal(breaker.openings, 1);
});

Deno.test("CircuitBreaker stays closed when the ejection guard refuses, and asks again on the next failure", () => {
  const pool = [new Upstream("http://127.0.0.1:1"), new Upstream("http://127.0.0.1:2")];
  const guard = new EjectionGuard(pool, { maxEjectionPercent: 50 });
  const clock = { now: 0 };
  const options = {
    consecutiveFailures: 1,
    baseOpenMs: 1_000,
    guard,
    now: () => clock.now,
    random: () => 0.5,
  };
  const a = new CircuitBreaker(options);
  const b = new CircuitBreaker(options);
  a.recordFailure();
  b.recordFailure();
  assert.equal(a.state, "open");
  assert.equal(b.state, "closed", "a second ejection would exceed 50 % of 2");
  assert.equal(guard.ejected, 1);
  clock.now += 1_000;
  a.reserve();
  a.recordFailure();
  assert.equal(guard.ejected, 1, "re-opening from half-open is not a new ejection");
  clock.now += 2_000;
  a.reserve();
  a.recordSuccess();
  assert.equal(guard.ejected, 0);
  b.recordFailure();
  assert.equal(b.state, "open");
});

Deno.test("CircuitBreaker makes its upstream unavailable while open", () => {
  const clock = { now: 0 };
  const upstream = new Upstream("http://127.0.0.1:1");
  const breaker = new CircuitBreaker({ consecutiveFailures: 1, baseOpenMs: 1_000, now: () => clock.now });
  upstream.setGate(breaker);
  breaker.recordFailure();
  assert.equal(upstream.available, false);
  clock.now += 2_000;
  assert.equal(upstream.available, true);
});

Deno.test("CircuitBreaker observers can unsubscribe", () => {
  const seen: CircuitState[] = [];
  const breaker = new CircuitBreaker({ consecutiveFailures: 1, now: () => 0 });
  const off = breaker.onStateChange((to) => seen.push(to));
  off();
  breaker.recordFailure();
  assert.deepEqual(seen, []);
});

Deno.test("CircuitBreaker rejects invalid options with RangeError", () => {
  const bad: CircuitBreakerOptions[] = [
    { consecutiveFailures: -1 },
    { consecutiveFailures: 1.5 },
    { failureRatio: 1.5 },
    { windowMs: 0 },
    { minimumRequests: 0 },
    { baseOpenMs: 0 },
    { baseOpenMs: 10, maxOpenMs: 5 },
    { jitter: 1 },
    { halfOpenProbes: 0 },
    { healthyResetMs: -1 },
  ];
  for (const options of bad) {
    assert.throws(() => new CircuitBreaker(options), RangeError, JSON.stringify(options));
  }
});
