import { CircuitBreaker } from "../breaker/circuit_breaker.ts";
import { EjectionGuard } from "../breaker/ejection_guard.ts";
import type { PoolConfig } from "../config/types.ts";
import { HealthChecker } from "../health/health_checker.ts";
import type { Forwarder } from "../proxy/forward.ts";
import { RetryBudget } from "../retry/retry_budget.ts";
import { PoolBalancer } from "../balancer/pool_balancer.ts";
import { Upstream } from "../upstream/upstream.ts";
import { type SelectionLog, UpstreamSelection } from "./upstream_selection.ts";

/** A log line sink: `event` names what happened, `fields` carry the facts. */
export type RuntimeLog = SelectionLog;

export interface PoolRuntimeOptions {
  forwarder: Forwarder;
  /** Upstreams of the runtime being replaced, keyed `pool\nid`: reused so health and breaker state carry over. */
  reuse: ReadonlyMap<string, Upstream>;
  /** The same pool in the runtime being replaced, if any. */
  previous: PoolRuntime | undefined;
  /** Process-wide HMAC key for sticky cookies when the config sets none (pins survive reloads). */
  stickySecret: Uint8Array;
  log: RuntimeLog;
}

/**
 * One upstream pool, ready to pick from and forward to: its upstreams (with health and breaker state), the
 * balancer, the HTTP client, the health checker and the retry budget.
 */
export class PoolRuntime implements AsyncDisposable {
  readonly name: string;
  readonly config: PoolConfig;
  readonly upstreams: readonly Upstream[];
  /** Balancer over the primaries, backups when every primary is down, sticky cookies when configured. */
  readonly balancer: PoolBalancer;
  readonly forwarder: Forwarder;
  readonly retryBudget: RetryBudget | undefined;
  readonly healthChecker: HealthChecker | undefined;
  readonly guard: EjectionGuard | undefined;
  /** Chooses upstreams and keeps score of attempts: every entry point (HTTP, WebSocket, explain) asks it. */
  readonly selection: UpstreamSelection;
  /** TLS client for `wss://` backends when the pool names its own CA (`tls.ca`); else the system roots. */
  readonly webSocketClient: Deno.HttpClient | undefined;
  readonly #breakerSignature: string;

  constructor(config: PoolConfig, options: PoolRuntimeOptions) {
    const { forwarder, reuse, previous, log } = options;
    this.name = config.name;
    this.config = config;
    this.forwarder = forwarder;
    this.webSocketClient = config.tls ? Deno.createHttpClient({ caCerts: [config.tls.ca] }) : undefined;
    this.upstreams = config.backends.map((backend) => {
      const fresh = new Upstream(backend.url, { weight: backend.weight, backup: backend.backup });
      const old = reuse.get(`${config.name}\n${fresh.id}`);
      return old && old.weight === fresh.weight && old.backup === fresh.backup ? old : fresh;
    });

    const lb = config.loadBalancer;
    const sticky = lb.sticky;
    this.balancer = new PoolBalancer(config.name, this.upstreams, {
      algorithm: lb.algorithm,
      hashKey: lb.hashKey,
      virtualNodes: lb.virtualNodes,
      ...(sticky && {
        sticky: {
          cookieName: sticky.cookie,
          path: sticky.path,
          secure: sticky.secure,
          sameSite: sticky.sameSite,
          secret: sticky.secret ?? options.stickySecret,
          ...(sticky.ttlMs !== undefined && { maxAgeSeconds: Math.round(sticky.ttlMs / 1000) }),
        },
      }),
    });

    // Breakers carry over a reload only when the pool's members and breaker settings are unchanged (the
    // ejection guard counts open breakers of exactly this member list).
    const cb = config.circuitBreaker;
    this.#breakerSignature = JSON.stringify([cb, this.upstreams.map((u) => u.id)]);
    if (cb === undefined) {
      this.guard = undefined;
      for (const upstream of this.upstreams) upstream.setGate(undefined);
    } else if (
      previous !== undefined && previous.#breakerSignature === this.#breakerSignature && previous.guard
    ) {
      this.guard = previous.guard;
    } else {
      const guard = new EjectionGuard(this.upstreams, { maxEjectionPercent: cb.maxEjectionPercent });
      this.guard = guard;
      for (const upstream of this.upstreams) {
        const breaker = new CircuitBreaker({
          consecutiveFailures: cb.consecutiveFailures,
          failureRatio: cb.failureRatio,
          windowMs: cb.windowMs,
          minimumRequests: cb.minimumRequests,
          baseOpenMs: cb.baseOpenMs,
          maxOpenMs: cb.maxOpenMs,
          jitter: cb.jitter,
          halfOpenProbes: cb.halfOpenProbes,
          healthyResetMs: cb.healthyResetMs,
          guard,
        });
        breaker.onStateChange((to, from) => {
          upstream.gateChanged();
          log("circuit_state", {
            pool: this.name,
            upstream: upstream.id,
            from,
            to,
            retryAfterMs: breaker.retryAfterMs,
          });
        });
        upstream.setGate(breaker);
      }
    }

    const retries = config.retries;
    this.retryBudget = retries.attempts > 0
      ? new RetryBudget({ ratio: retries.budgetRatio, minRetries: retries.budgetMin })
      : undefined;

    this.selection = new UpstreamSelection(this.balancer, {
      // panic_threshold belongs to circuit_breaker: without breakers there is no panic mode.
      panicThresholdPercent: cb?.panicThresholdPercent ?? 0,
      retries: retries.attempts,
      backoffMs: retries.backoffMs,
      retryBudget: this.retryBudget,
      idleRetryAfterMs: config.healthCheck?.intervalMs ?? 1_000,
      log,
    });

    const hc = config.healthCheck;
    if (hc) {
      this.healthChecker = new HealthChecker(this.upstreams, {
        intervalMs: hc.intervalMs,
        timeoutMs: hc.timeoutMs,
        path: hc.path,
        expectedStatus: hc.expectedStatus,
        healthyThreshold: hc.healthyThreshold,
        unhealthyThreshold: hc.unhealthyThreshold,
        jitter: hc.jitter,
      });
      this.healthChecker.onChange((upstream, healthy, reason) =>
        log("health_change", { pool: this.name, upstream: upstream.id, healthy, reason })
      );
    } else {
      this.healthChecker = undefined;
      // Without active checks nothing would ever mark a reused upstream healthy again.
      for (const upstream of this.upstreams) upstream.setHealthy(true);
    }
  }

  /** Starts the health checker's timers (not done in the constructor: whoever starts timers owns them). */
  start(): void {
    this.healthChecker?.start();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.forwarder[Symbol.dispose]();
    this.webSocketClient?.close();
    await this.healthChecker?.[Symbol.asyncDispose]();
  }
}
