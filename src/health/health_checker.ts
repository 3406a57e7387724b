import type { Upstream } from "../upstream/upstream.ts";
import { parseStatusRanges, statusMatches, type StatusRanges } from "./status_ranges.ts";

/**
 * Active health checks: each upstream gets a GET to `path` every `intervalMs` (± `jitter`, so a
 * fleet of backends added together does not get probed in lock-step), and its health flips only
 * after `healthyThreshold` successes or `unhealthyThreshold` failures in a row (rise/fall, as in
 * HAProxy), so one lost packet does not eject a backend.
 *
 * Initial state: the checker adopts whatever `upstream.healthy` says when `start()` runs. A fresh
 * `Upstream` is healthy, so a new pool takes traffic at once, and a backend carried over a config
 * reload keeps its verdict. An upstream that is down at start is ejected after `unhealthyThreshold`
 * probes (first probe within one interval).
 *
 * The checker owns its timers: nothing runs until `start()`; `[Symbol.dispose]()` clears every
 * timer and aborts probes in flight; `[Symbol.asyncDispose]()` also waits for those to settle.
 */

/** Called when an upstream's health flips; `reason` describes the last probe. */
export type HealthListener = (upstream: Upstream, healthy: boolean, reason: string) => void;

export interface HealthCheckerOptions {
  /** Time between the end of one probe and the start of the next, in ms. Default 10 000. */
  intervalMs?: number;
  /** Deadline for a probe's response headers, in ms; must be < intervalMs. Default 2 000. */
  timeoutMs?: number;
  /** Request path (and query) probed on each upstream. Default "/". */
  path?: string;
  /** Statuses that count as healthy, e.g. "200-399" or "200,204". Default "200-399". */
  expectedStatus?: string;
  /** Consecutive successes that make an unhealthy upstream healthy (rise). Default 2. */
  healthyThreshold?: number;
  /** Consecutive failures that make a healthy upstream unhealthy (fall). Default 3. */
  unhealthyThreshold?: number;
  /** Relative spread of each interval, 0–1 (0.1 = ± 10 %). Default 0.1. */
  jitter?: number;
  /** Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Uniform [0, 1). Default `Math.random`. */
  random?: () => number;
}

interface Target {
  readonly upstream: Upstream;
  readonly url: URL;
  healthy: boolean;
  successes: number;
  failures: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  probe: AbortController | undefined;
  settled: Promise<void> | undefined;
}

export class HealthChecker {
  readonly #targets: readonly Target[];
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #expected: StatusRanges;
  readonly #healthyThreshold: number;
  readonly #unhealthyThreshold: number;
  readonly #jitter: number;
  readonly #fetch: typeof globalThis.fetch;
  readonly #random: () => number;
  readonly #listeners: HealthListener[] = [];
  #running = false;

  constructor(upstreams: readonly Upstream[], options: HealthCheckerOptions = {}) {
    const {
      intervalMs = 10_000,
      timeoutMs = 2_000,
      path = "/",
      expectedStatus = "200-399",
      healthyThreshold = 2,
      unhealthyThreshold = 3,
      jitter = 0.1,
      fetch = globalThis.fetch,
      random = Math.random,
    } = options;
    if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
      throw new RangeError(`HealthChecker intervalMs must be a positive number, got ${intervalMs}`);
    }
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs >= intervalMs) {
      throw new RangeError(`HealthChecker timeoutMs must be positive and < intervalMs, got ${timeoutMs}`);
    }
    if (!path.startsWith("/")) throw new TypeError(`HealthChecker path must start with "/", got "${path}"`);
    checkThreshold("healthyThreshold", healthyThreshold);
    checkThreshold("unhealthyThreshold", unhealthyThreshold);
    if (!(jitter >= 0 && jitter < 1)) {
      throw new RangeError(`HealthChecker jitter must be ≥ 0 and < 1, got ${jitter}`);
    }
    if (typeof fetch !== "function" || typeof random !== "function") {
      throw new TypeError("HealthChecker fetch and random must be functions");
    }
    this.#intervalMs = intervalMs;
    this.#timeoutMs = timeoutMs;
    this.#expected = parseStatusRanges(expectedStatus);
    this.#healthyThreshold = healthyThreshold;
    this.#unhealthyThreshold = unhealthyThreshold;
    this.#jitter = jitter;
    this.#fetch = fetch;
    this.#random = random;
    this.#targets = upstreams.map((upstream) => ({
      upstream,
      // Resolve against the upstream's base so a base path (http://host/api/) is kept.
      url: new URL(path.slice(1), upstream.url.href.endsWith("/") ? upstream.url : `${upstream.url.href}/`),
      healthy: upstream.healthy,
      successes: 0,
      failures: 0,
      timer: undefined,
      probe: undefined,
      settled: undefined,
    }));
  }

  get running(): boolean {
    return this.#running;
  }

  /** Begin probing. Each upstream's first probe comes at a random point within the first interval. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    for (const target of this.#targets) {
      target.healthy = target.upstream.healthy;
      this.#schedule(target, this.#random() * this.#intervalMs);
    }
  }

  /** Observe health flips; returns a function that removes the listener. */
  onChange(listener: HealthListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const index = this.#listeners.indexOf(listener);
      if (index !== -1) this.#listeners.splice(index, 1);
    };
  }

  /** Stop: clear every timer and abort probes in flight. */
  [Symbol.dispose](): void {
    this.#running = false;
    for (const target of this.#targets) {
      clearTimeout(target.timer);
      target.timer = undefined;
      target.probe?.abort(new DOMException("Health checker disposed", "AbortError"));
    }
  }

  /** Stop, then wait until aborted probes have settled (no promise outlives the checker). */
  async [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]();
    await Promise.all(this.#targets.map((target) => target.settled));
  }

  #schedule(target: Target, delayMs: number): void {
    target.timer = setTimeout(() => {
      target.timer = undefined;
      target.settled = this.#check(target);
    }, delayMs);
  }

  async #check(target: Target): Promise<void> {
    const verdict = await this.#probe(target);
    if (!this.#running) return;
    this.#judge(target, verdict.ok, verdict.reason);
    const spread = 1 + this.#jitter * (2 * this.#random() - 1);
    this.#schedule(target, this.#intervalMs * spread);
  }

  async #probe(target: Target): Promise<{ ok: boolean; reason: string }> {
    const controller = new AbortController();
    target.probe = controller;
    const deadline = setTimeout(
      () => controller.abort(new DOMException("timeout", "TimeoutError")),
      this.#timeoutMs,
    );
    try {
      const response = await this.#fetch(target.url, {
        method: "GET",
        redirect: "manual", // a 3xx is an answer from this upstream; following it would probe another
        signal: controller.signal,
        headers: { "user-agent": "proxy-health-check" },
      });
      // Only the status matters; cancel the body so the connection is not held open (no leak).
      await response.body?.cancel();
      target.upstream.noteAnswered();
      const ok = statusMatches(this.#expected, response.status);
      return { ok, reason: `status ${response.status}` };
    } catch (error) {
      if (controller.signal.aborted) {
        const cause = controller.signal.reason;
        const timedOut = cause instanceof DOMException && cause.name === "TimeoutError";
        if (timedOut) target.upstream.noteUnreachable();
        return { ok: false, reason: timedOut ? `timeout after ${this.#timeoutMs} ms` : "aborted" };
      }
      target.upstream.noteUnreachable();
      return { ok: false, reason: probeFailureReason(error) };
    } finally {
      clearTimeout(deadline);
      target.probe = undefined;
    }
  }

  #judge(target: Target, ok: boolean, reason: string): void {
    if (ok) {
      target.failures = 0;
      target.successes++;
      if (!target.healthy && target.successes >= this.#healthyThreshold) this.#flip(target, true, reason);
    } else {
      target.successes = 0;
      target.failures++;
      if (target.healthy && target.failures >= this.#unhealthyThreshold) this.#flip(target, false, reason);
    }
  }

  #flip(target: Target, healthy: boolean, reason: string): void {
    target.healthy = healthy;
    target.upstream.setHealthy(healthy);
    for (const listener of this.#listeners) listener(target.upstream, healthy, reason);
  }
}

function checkThreshold(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`HealthChecker ${name} must be an integer ≥ 1, got ${value}`);
  }
}

/**
 * The operator-facing reason for a probe that got no response. `fetch` reports every network failure as
 * `TypeError: fetch failed`; the real error is its `cause`.
 */
export function probeFailureReason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (cause instanceof Deno.errors.ConnectionRefused || /connection refused/i.test(message)) {
    return "connection refused";
  }
  if (cause instanceof Deno.errors.ConnectionReset || /connection reset/i.test(message)) {
    return "connection reset";
  }
  if (cause instanceof Deno.errors.TimedOut || /timed out/i.test(message)) return "timeout";
  return message;
}
