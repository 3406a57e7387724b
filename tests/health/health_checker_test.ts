import assert from "node:assert/strict";
import { HealthChecker, type HealthCheckerOptions } from "../../src/health/health_checker.ts";
import { Upstream } from "../../src/upstream/upstream.ts";
import { closedPort, LoopbackUpstream } from "./loopback_upstream.ts";

/** Small intervals keep the tests quick; `random: 0` makes every first probe immediate. */
const fast: HealthCheckerOptions = { intervalMs: 20, timeoutMs: 10, jitter: 0, random: () => 0 };

interface Flip {
  upstream: Upstream;
  healthy: boolean;
  reason: string;
  probesSoFar: number;
}

/** Resolves on the checker's first health flip, noting how many probes the backend had seen. */
function nextFlip(checker: HealthChecker, backend?: LoopbackUpstream): Promise<Flip> {
  const { promise, resolve } = Promise.withResolvers<Flip>();
  const off = checker.onChange((upstream, healthy, reason) => {
    off();
    resolve({ upstream, healthy, reason, probesSoFar: backend?.probes ?? 0 });
  });
  return promise;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

Deno.test("HealthChecker marks an upstream unhealthy after unhealthyThreshold failed probes", async () => {
  await using backend = new LoopbackUpstream(500);
  const upstream = new Upstream(backend.url);
  await using checker = new HealthChecker([upstream], { ...fast, unhealthyThreshold: 3 });
  const flip = nextFlip(checker, backend);
  checker.start();
  const { healthy, reason, probesSoFar } = await flip;
  assert.equal(healthy, false);
  assert.equal(reason, "status 500");
  assert.equal(probesSoFar, 3);
  assert.equal(upstream.healthy, false);
  assert.equal(upstream.available, false);
});

Deno.test("HealthChecker marks an unhealthy upstream healthy after healthyThreshold good probes", async () => {
  await using backend = new LoopbackUpstream(200);
  const upstream = new Upstream(backend.url);
  upstream.setHealthy(false);
  await using checker = new HealthChecker([upstream], { ...fast, healthyThreshold: 2 });
  const flip = nextFlip(checker, backend);
  checker.start();
  const { healthy, reason, probesSoFar } = await flip;
  assert.deepEqual({ healthy, reason, probesSoFar }, { healthy: true, reason: "status 200", probesSoFar: 2 });
  assert.equal(upstream.healthy, true);
});

Deno.test("HealthChecker does not flip on failures that never reach the threshold in a row", async () => {
  // Two failures, one success, repeated: never three failures in a row.
  await using backend = new LoopbackUpstream((probe) => (probe % 3 === 0 ? 200 : 500));
  const upstream = new Upstream(backend.url);
  const flips: boolean[] = [];
  await using checker = new HealthChecker([upstream], { ...fast, unhealthyThreshold: 3 });
  checker.onChange((_, healthy) => flips.push(healthy));
  checker.start();
  await backend.probesReached(10);
  assert.deepEqual(flips, []);
  assert.equal(upstream.healthy, true);
});

Deno.test("HealthChecker counts a probe that exceeds timeoutMs as a failure", async () => {
  await using backend = new LoopbackUpstream("hang");
  const upstream = new Upstream(backend.url);
  await using checker = new HealthChecker([upstream], {
    ...fast,
    intervalMs: 50,
    timeoutMs: 25,
    unhealthyThreshold: 2,
  });
  const flip = nextFlip(checker, backend);
  checker.start();
  const { healthy, reason, probesSoFar } = await flip;
  assert.deepEqual({ healthy, reason, probesSoFar }, {
    healthy: false,
    reason: "timeout after 25 ms",
    probesSoFar: 2,
  });
});

Deno.test("HealthChecker counts a refused connection as a failure", async () => {
  const upstream = new Upstream(`http://127.0.0.1:${closedPort()}`);
  await using checker = new HealthChecker([upstream], { ...fast, unhealthyThreshold: 1 });
  const flip = nextFlip(checker);
  checker.start();
  const { healthy, reason } = await flip;
  assert.equal(healthy, false);
  assert.equal(reason, "connection refused");
});

Deno.test("HealthChecker judges statuses by the expectedStatus list", async () => {
  await using ok = new LoopbackUpstream(204);
  await using redirect = new LoopbackUpstream(302);
  await using plain = new LoopbackUpstream(200);
  const upstreams = [ok, redirect, plain].map((backend) => new Upstream(backend.url));
  await using checker = new HealthChecker(upstreams, {
    ...fast,
    expectedStatus: "204, 300-399",
    unhealthyThreshold: 1,
  });
  const flip = nextFlip(checker);
  checker.start();
  const { upstream, reason } = await flip;
  assert.equal(upstream, upstreams[2]);
  assert.equal(reason, "status 200");
  await Promise.all([ok.probesReached(3), redirect.probesReached(3)]);
  assert.deepEqual(
    upstreams.map((u) => u.healthy),
    [true, true, false],
    "302 is not followed and counts as ok",
  );
});

Deno.test("HealthChecker probes the configured path below the upstream's base path", async () => {
  await using backend = new LoopbackUpstream(200);
  await using checker = new HealthChecker([new Upstream(`${backend.url}/api`)], {
    ...fast,
    path: "/healthz?deep=1",
  });
  checker.start();
  await backend.probesReached(2);
  assert.equal(backend.paths[0], "/api/healthz?deep=1");
});

Deno.test("HealthChecker cancels probe response bodies instead of reading them", async () => {
  const cancelled = Promise.withResolvers<void>();
  // An endless body: only a cancel from the checker ends it.
  await using backend = new LoopbackUpstream(200, () =>
    new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(16_384));
      },
      cancel() {
        cancelled.resolve();
      },
    }));
  const upstream = new Upstream(backend.url);
  await using checker = new HealthChecker([upstream], fast);
  checker.start();
  await backend.probesReached(3);
  await cancelled.promise;
  assert.equal(upstream.healthy, true);
});

Deno.test("HealthChecker stops probing after dispose", async () => {
  await using backend = new LoopbackUpstream(500);
  const checker = new HealthChecker([new Upstream(backend.url)], { ...fast, unhealthyThreshold: 2 });
  const flip = nextFlip(checker, backend);
  checker.start();
  // Observers run just before the next probe is scheduled, so a timer is pending right now.
  await flip;
  checker[Symbol.dispose]();
  assert.equal(checker.running, false);
  const after = backend.probes;
  await sleep(150); // several intervals: any surviving timer would have probed again
  assert.equal(backend.probes, after);
});

Deno.test("HealthChecker dispose aborts a probe in flight", async () => {
  await using backend = new LoopbackUpstream("hang");
  const upstream = new Upstream(backend.url);
  const checker = new HealthChecker([upstream], { ...fast, intervalMs: 10_000, timeoutMs: 5_000 });
  const flips: boolean[] = [];
  checker.onChange((_, healthy) => flips.push(healthy));
  checker.start();
  await backend.probesReached(1);
  await checker[Symbol.asyncDispose](); // would wait 5 s (and trip the test's sanitizers) if not aborted
  assert.deepEqual(flips, [], "an aborted probe is not a verdict");
  assert.equal(upstream.healthy, true);
});

Deno.test("HealthChecker rejects invalid options", () => {
  const upstreams = [new Upstream("http://127.0.0.1:1")];
  const bad: [HealthCheckerOptions, ErrorConstructor][] = [
    [{ intervalMs: 0 }, RangeError],
    [{ intervalMs: 100, timeoutMs: 100 }, RangeError],
    [{ healthyThreshold: 0 }, RangeError],
    [{ unhealthyThreshold: 1.5 }, RangeError],
    [{ jitter: 1 }, RangeError],
    [{ expectedStatus: "2xx" }, RangeError],
    [{ path: "healthz" }, TypeError],
  ];
  for (const [options, error] of bad) {
    assert.throws(() => new HealthChecker(upstreams, options), error, JSON.stringify(options));
  }
});
