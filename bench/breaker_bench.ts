import { CircuitBreaker } from "../src/breaker/circuit_breaker.ts";
import { PoolBalancer } from "../src/balancer/pool_balancer.ts";
import { UpstreamSelection } from "../src/pool/upstream_selection.ts";
import { RetryBudget } from "../src/retry/retry_budget.ts";
import { Upstream } from "../src/upstream/upstream.ts";

// The per-request cost the forwarder pays: ask, reserve, report.
const closed = new CircuitBreaker();
Deno.bench(
  "CircuitBreaker closed: admits + reserve + recordSuccess",
  { group: "breaker", baseline: true },
  () => {
    if (closed.admits && closed.reserve()) closed.recordSuccess();
  },
);

// Failures that never reach a threshold: the ratio window is summed on each one.
const noisy = new CircuitBreaker({ consecutiveFailures: 0, failureRatio: 1 });
let i = 0;
Deno.bench(
  "CircuitBreaker closed: admits + recordFailure/recordSuccess alternating",
  { group: "breaker" },
  () => {
    if (noisy.admits && noisy.reserve()) {
      if (i++ & 1) noisy.recordFailure();
      else noisy.recordSuccess();
    }
  },
);

// Open: the balancer's `available` check rejects the upstream.
const open = new CircuitBreaker({ consecutiveFailures: 1, baseOpenMs: 3_600_000, maxOpenMs: 3_600_000 });
open.recordFailure();
Deno.bench("CircuitBreaker open: admits", { group: "breaker" }, () => {
  if (open.admits) throw new Error("should be open");
});

const pool = Array.from({ length: 8 }, (_, n) => new Upstream(`http://127.0.0.1:${3001 + n}`));
for (const upstream of pool) upstream.setGate(new CircuitBreaker());
const selection = new UpstreamSelection(new PoolBalancer("bench", pool, { algorithm: "round_robin" }), {
  panicThresholdPercent: 50,
  retries: 0,
  backoffMs: 0,
  retryBudget: undefined,
  idleRetryAfterMs: 1_000,
  log: () => {},
});
Deno.bench("UpstreamSelection panic check over 8 upstreams", { group: "pool" }, () => {
  if (selection.panicking) throw new Error("should not panic");
});

const budget = new RetryBudget();
Deno.bench("RetryBudget.recordRequest", { group: "retry" }, () => {
  budget.recordRequest();
});
