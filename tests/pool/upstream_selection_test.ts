import assert from "node:assert/strict";
import { PoolBalancer } from "../../src/balancer/pool_balancer.ts";
import { CircuitBreaker } from "../../src/breaker/circuit_breaker.ts";
import {
  type RequestFacts,
  UpstreamSelection,
  type UpstreamSelectionOptions,
} from "../../src/pool/upstream_selection.ts";
import { ProxyError } from "../../src/errors.ts";
import { RetryBudget } from "../../src/retry/retry_budget.ts";
import { Upstream } from "../../src/upstream/upstream.ts";

function upstreams(n: number, backups = 0): Upstream[] {
  return Array.from(
    { length: n + backups },
    (_, i) => new Upstream(`http://127.0.0.1:${4001 + i}`, { backup: i >= n }),
  );
}

function selection(
  list: Upstream[],
  options: Partial<UpstreamSelectionOptions> = {},
  algorithm: "round_robin" | "consistent_hash" = "round_robin",
): UpstreamSelection {
  return new UpstreamSelection(new PoolBalancer("api", list, { algorithm, hashKey: "header:x-user" }), {
    panicThresholdPercent: 50,
    retries: 1,
    backoffMs: 0,
    retryBudget: new RetryBudget(),
    idleRetryAfterMs: 1_000,
    log: () => {},
    ...options,
  });
}

function facts(headers: Record<string, string> = {}, method = "GET"): RequestFacts {
  return { method, headers: new Headers(headers), peerIp: "192.0.2.1", trustedProxies: undefined, path: "/" };
}

function openBreaker(): CircuitBreaker {
  const breaker = new CircuitBreaker({
    consecutiveFailures: 1,
    baseOpenMs: 60_000,
    maxOpenMs: 60_000,
    jitter: 0,
  });
  breaker.recordFailure();
  return breaker;
}

Deno.test("UpstreamSelection.availableShare() counts backups as standing in for the primaries, capped at 1", () => {
  const list = upstreams(4, 1);
  const s = selection(list);
  assert.equal(s.availableShare(), 1);
  list[0]!.setHealthy(false);
  list[1]!.setHealthy(false);
  assert.equal(s.availableShare(), 1, "2/4 primaries + 1/1 backups");
  list[4]!.setHealthy(false);
  assert.equal(s.availableShare(), 0.5);
  list[2]!.setGate(openBreaker());
  assert.equal(s.availableShare(), 0.25, "an open breaker counts as unavailable");
});

Deno.test("UpstreamSelection panics only below the threshold, and never at 0%", () => {
  const list = upstreams(4);
  list[0]!.setHealthy(false);
  list[1]!.setHealthy(false);
  assert.equal(selection(list).panicking, false, "exactly half is not below half");
  list[2]!.setHealthy(false);
  assert.equal(selection(list).panicking, true);
  for (const upstream of list) upstream.setHealthy(false);
  assert.equal(selection(list, { panicThresholdPercent: 0 }).panicking, false);
  assert.throws(() => selection(list, { panicThresholdPercent: 101 }), RangeError);
});

Deno.test("UpstreamSelection.begin() in panic rotates over every upstream, available or not, and logs once", () => {
  const list = upstreams(3);
  for (const upstream of list) upstream.setHealthy(false);
  const logged: string[] = [];
  const s = selection(list, { log: (event) => logged.push(event), now: () => 5_000 });
  const picked = [0, 1, 2, 3].map(() => s.begin(facts()).upstream);
  assert.deepEqual(picked, [list[0], list[1], list[2], list[0]]);
  assert.deepEqual(logged, ["panic"]);
  assert.equal(s.begin(facts()).rule, "panic");
});

Deno.test("UpstreamSelection.begin() with nothing available and panic off throws no_upstream with Retry-After", () => {
  const list = upstreams(2);
  list[0]!.setGate(openBreaker());
  list[1]!.setHealthy(false);
  const s = selection(list, { panicThresholdPercent: 0, idleRetryAfterMs: 30_000 });
  let error: unknown;
  try {
    s.begin(facts());
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof ProxyError);
  assert.equal(error.kind, "no_upstream");
  assert.ok(error.retryAfterMs! > 59_000 && error.retryAfterMs! <= 60_000, `${error.retryAfterMs}`);
  list[0]!.setHealthy(false);
  assert.equal(s.retryAfterMs(), 30_000, "no healthy upstream: the idle value (health-check interval)");
});

Deno.test("Attempt reports the upstream's answer to its breaker: 5xx fails, 4xx succeeds, abandon releases", () => {
  const list = upstreams(1);
  const breaker = new CircuitBreaker({ consecutiveFailures: 2 });
  list[0]!.setGate(breaker);
  const s = selection(list, { retries: 0 });
  s.begin(facts()).answered(503);
  s.begin(facts()).answered(404);
  s.begin(facts()).answered(503);
  assert.equal(breaker.state, "closed", "the 404 in between reset the run of failures");
  s.begin(facts()).answered(502);
  assert.equal(breaker.state, "open");
  s.begin(facts()).abandoned(); // panic pick past the open breaker: nothing reserved, nothing to release
});

Deno.test("Attempt.failed() retries on an upstream not tried yet, only when the method is safe to repeat", () => {
  const list = upstreams(3);
  const s = selection(list, { retries: 2 });
  const get = s.begin(facts());
  const seen = [get.upstream];
  assert.equal(get.failed(new ProxyError("timeout")), true);
  seen.push(get.upstream);
  assert.equal(get.failed(new ProxyError("reset")), true);
  seen.push(get.upstream);
  assert.equal(new Set(seen).size, 3, "three different upstreams");
  assert.equal(get.count, 3);
  assert.equal(get.failed(new ProxyError("timeout")), false, "retries exhausted");

  const post = s.begin(facts({}, "POST"));
  assert.equal(post.failed(new ProxyError("timeout")), false, "a POST may have been acted on");
  const refused = s.begin(facts({}, "POST"));
  assert.equal(refused.failed(new ProxyError("refused")), true, "nothing reached the upstream");
  const gone = s.begin(facts());
  assert.equal(gone.failed(new ProxyError("client_closed")), false);
});

Deno.test("UpstreamSelection.preview() agrees with begin() for hash keys and says when the balancer decides", () => {
  const list = upstreams(3);
  const hashed = selection(list, {}, "consistent_hash");
  for (const user of ["u1", "u2", "u3", "u4"]) {
    const preview = hashed.preview(facts({ "x-user": user }));
    assert.equal(preview.rule, "hash_key");
    assert.equal(preview.hashKey, user);
    assert.equal(preview.upstream, hashed.begin(facts({ "x-user": user })).upstream);
  }
  const keyless = hashed.preview(facts());
  assert.deepEqual([keyless.rule, keyless.upstream], ["balancer", undefined]);
  const rr = selection(list);
  assert.deepEqual([rr.preview(facts()).rule, rr.preview(facts()).upstream], ["balancer", undefined]);
  for (const upstream of list) upstream.setHealthy(false);
  assert.equal(rr.preview(facts()).rule, "panic");
  assert.equal(selection(list, { panicThresholdPercent: 0 }).preview(facts()).rule, "none");
});

Deno.test("UpstreamSelection re-counts after a health verdict changes, not on every request", () => {
  const list = upstreams(4);
  const s = selection(list);
  assert.equal(s.begin(facts()).rule, "balancer", "calm: all available");
  for (const upstream of list.slice(1)) upstream.setHealthy(false);
  assert.equal(s.begin(facts()).rule, "panic", "1 of 4 is below 50%: the verdicts were reported");
  for (const upstream of list) upstream.setHealthy(true);
  assert.equal(s.begin(facts()).rule, "balancer");
});
