/**
 * health_check, circuit_breaker and retries: defaults, and every bad value rejected with an exact
 * `file:line:col key.path: message` line (so a typo never reaches the runtime, where the modules would throw).
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/config_reader.ts";
import { parseConfig } from "../../src/config/load_config.ts";
import { Runtime } from "../../src/runtime.ts";

const HEAD = 'server: { port: 0 }\nbackends: ["http://127.0.0.1:3001"]\n';

function errorsOf(section: string): string[] {
  try {
    parseConfig(HEAD + section, "test.yaml");
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return [...error.lines];
  }
  assert.fail("config was accepted");
}

function poolOf(section: string) {
  const pool = parseConfig(HEAD + section, "test.yaml").pools.get("default");
  assert.ok(pool);
  return pool;
}

Deno.test("omitted circuit_breaker and retries sections mean the documented defaults", () => {
  const pool = poolOf("");
  assert.equal(pool.healthCheck, undefined);
  assert.deepEqual(pool.circuitBreaker, {
    consecutiveFailures: 5,
    failureRatio: 0.5,
    windowMs: 10_000,
    minimumRequests: 20,
    baseOpenMs: 5_000,
    maxOpenMs: 300_000,
    jitter: 0.1,
    halfOpenProbes: 1,
    healthyResetMs: 60_000,
    maxEjectionPercent: 50,
    panicThresholdPercent: 50,
  });
  assert.deepEqual(pool.retries, {
    attempts: 1,
    budgetRatio: 0.2,
    budgetMin: 10,
    maxBufferedBodyBytes: 65_536,
    backoffMs: 25,
  });
});

Deno.test("off turns the breaker off and retries to zero attempts", () => {
  const pool = poolOf("circuit_breaker: off\nretries: off\n");
  assert.equal(pool.circuitBreaker, undefined);
  assert.equal(pool.retries.attempts, 0);
});

Deno.test("health_check defaults the timeout to 5s, or half a shorter interval", () => {
  assert.equal(poolOf("health_check: { interval: 30s }").healthCheck?.timeoutMs, 5_000);
  assert.equal(poolOf("health_check: { interval: 2s }").healthCheck?.timeoutMs, 1_000);
  assert.equal(poolOf("health_check: { interval: 100ms }").healthCheck?.timeoutMs, 50);
});

Deno.test("a health_check whose interval is shorter than the default timeout builds a runtime", async () => {
  // Regression: the default timeout used to equal a short interval, which HealthChecker rejects with a RangeError.
  const config = parseConfig(HEAD + "health_check: { interval: 2s }", "test.yaml");
  await using runtime = new Runtime(config, { log: () => {} });
  assert.equal(runtime.pools.get("default")?.healthChecker?.running, false);
});

Deno.test("health_check rejects negative durations, zero thresholds, timeout ≥ interval and jitter ≥ 100%", () => {
  assert.deepEqual(errorsOf("health_check: { interval: -5s }"), [
    'test.yaml:3:27 health_check.interval: must not be negative, got "-5s"',
  ]);
  assert.deepEqual(errorsOf("health_check: { interval: 50ms }"), [
    "test.yaml:3:27 health_check.interval: must be at least 100ms, got 50ms",
  ]);
  assert.deepEqual(errorsOf("health_check: { interval: 1s, timeout: 2s }"), [
    "test.yaml:3:40 health_check.timeout: must be less than interval (1s)",
  ]);
  assert.deepEqual(errorsOf("health_check: { interval: 1s, timeout: 1s }"), [
    "test.yaml:3:40 health_check.timeout: must be less than interval (1s)",
  ]);
  assert.deepEqual(errorsOf("health_check: { timeout: -1s }"), [
    'test.yaml:3:26 health_check.timeout: must not be negative, got "-1s"',
  ]);
  assert.deepEqual(errorsOf("health_check: { healthy_threshold: 0, unhealthy_threshold: -1 }"), [
    "test.yaml:3:36 health_check.healthy_threshold: must be at least 1, got 0",
    "test.yaml:3:60 health_check.unhealthy_threshold: must be at least 1, got -1",
  ]);
  assert.deepEqual(errorsOf("health_check: { jitter: 150% }"), [
    'test.yaml:3:25 health_check.jitter: expected a percentage from 0% to 100%, got "150%"',
  ]);
  assert.deepEqual(errorsOf("health_check: { jitter: 100% }"), [
    'test.yaml:3:25 health_check.jitter: must be below 100%, got "100%"',
  ]);
  assert.deepEqual(errorsOf('health_check: { expected_status: "600" }').length, 1);
  assert.deepEqual(errorsOf('health_check: { path: "health" }'), [
    'test.yaml:3:23 health_check.path: must start with "/": "health"',
  ]);
});

Deno.test("circuit_breaker rejects negative durations, thresholds below 1 and percentages over 100", () => {
  assert.deepEqual(errorsOf("circuit_breaker: { base_open_time: -1s }"), [
    'test.yaml:3:36 circuit_breaker.base_open_time: must not be negative, got "-1s"',
  ]);
  assert.deepEqual(errorsOf("circuit_breaker: { window: -10s, healthy_reset: 0s }"), [
    'test.yaml:3:28 circuit_breaker.window: must not be negative, got "-10s"',
    "test.yaml:3:49 circuit_breaker.healthy_reset: must be at least 1ms, got 0s",
  ]);
  assert.deepEqual(errorsOf("circuit_breaker: { base_open_time: 10s, max_open_time: 1s }"), [
    "test.yaml:3:56 circuit_breaker.max_open_time: must be at least base_open_time",
  ]);
  assert.deepEqual(
    errorsOf("circuit_breaker: { consecutive_failures: -1, half_open_probes: 0, minimum_requests: 0 }"),
    [
      "test.yaml:3:42 circuit_breaker.consecutive_failures: must be at least 0, got -1",
      "test.yaml:3:64 circuit_breaker.half_open_probes: must be at least 1, got 0",
      "test.yaml:3:85 circuit_breaker.minimum_requests: must be at least 1, got 0",
    ],
  );
  assert.deepEqual(errorsOf("circuit_breaker: { max_ejection_percent: 150 }"), [
    "test.yaml:3:42 circuit_breaker.max_ejection_percent: expected a percentage from 0% to 100%, got 150",
  ]);
  assert.deepEqual(errorsOf("circuit_breaker: { failure_ratio: 101%, panic_threshold: -5% }"), [
    'test.yaml:3:35 circuit_breaker.failure_ratio: expected a percentage from 0% to 100%, got "101%"',
    'test.yaml:3:58 circuit_breaker.panic_threshold: expected a percentage from 0% to 100%, got "-5%"',
  ]);
  assert.deepEqual(errorsOf("circuit_breaker: { jitter: 100% }"), [
    'test.yaml:3:28 circuit_breaker.jitter: must be below 100%, got "100%"',
  ]);
  assert.deepEqual(errorsOf("circuit_breaker: { max_open_tme: 1m }"), [
    'test.yaml:3:20 circuit_breaker.max_open_tme: unknown key (did you mean "max_open_time"?)',
  ]);
});

Deno.test("retries rejects negative counts and durations and percentages over 100", () => {
  assert.deepEqual(errorsOf("retries: { attempts: -1, budget: 120% }"), [
    "test.yaml:3:22 retries.attempts: must be at least 0, got -1",
    'test.yaml:3:34 retries.budget: expected a percentage from 0% to 100%, got "120%"',
  ]);
  assert.deepEqual(errorsOf("retries: { attempts: 11 }"), [
    "test.yaml:3:22 retries.attempts: must be at most 10, got 11",
  ]);
  assert.deepEqual(errorsOf("retries: { backoff: -25ms, max_buffered_body: -1, budget_min: -2 }"), [
    'test.yaml:3:21 retries.backoff: must not be negative, got "-25ms"',
    "test.yaml:3:47 retries.max_buffered_body: must be at least 0, got -1",
    "test.yaml:3:63 retries.budget_min: must be at least 0, got -2",
  ]);
});

Deno.test("durations still need a unit in the resilience sections", () => {
  assert.deepEqual(errorsOf("circuit_breaker: { base_open_time: 5 }"), [
    'test.yaml:3:36 circuit_breaker.base_open_time: expected a duration like 250ms, 30s or 5m, got 5 (add a unit: "5s" or "5ms")',
  ]);
});
