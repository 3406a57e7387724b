import { createClient } from "@redis/client";
import { createHash } from "node:crypto";
import type { RateLimitStore } from "./rate_limit_store.ts";
import {
  type Decision,
  decisionFor,
  type TokenBucketPolicy,
  validateCost,
  validatePolicy,
} from "./token_bucket.ts";

/** What to answer while Redis cannot be asked: let requests through, or refuse them. */
export type FailureMode = "open" | "closed";
/** Whether the last Redis call succeeded. */
export type RedisState = "up" | "down";

/** Passed to `onStateChange` once per transition (never per request). */
export interface RedisStateChange {
  readonly state: RedisState;
  /** What went wrong, on a transition to "down". */
  readonly error?: string;
}

/** Options for {@link RedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions extends TokenBucketPolicy {
  /** Default "redis://127.0.0.1:6379". */
  readonly url?: string;
  /** Prefix of every bucket key, so several proxies or policies can share a database. Default "rl:". */
  readonly keyPrefix?: string;
  /** Longest wait for one Redis call before answering per `failureMode`. Default 100 ms. */
  readonly timeoutMs?: number;
  /** Default "open": a rate limiter outage should not become a site outage. */
  readonly failureMode?: FailureMode;
  /** Retry-After suggested while failing closed. Default 1000 ms. */
  readonly closedRetryAfterMs?: number;
  /** TCP connect timeout. Default 1000 ms. */
  readonly connectTimeoutMs?: number;
  /** Upper bound of the exponential reconnect delay. Default 2000 ms. */
  readonly maxReconnectDelayMs?: number;
  /** Logger hook, called once per up/down transition. Default: none. */
  readonly onStateChange?: (change: RedisStateChange) => void;
}

/**
 * The token bucket run atomically inside Redis. It reads the clock with TIME on the server so
 * that proxy instances whose clocks disagree still share one timeline (Redis ≥ 5 replicates the
 * script's effects, so the non-deterministic TIME is allowed). Numbers travel as strings:
 * Lua numbers in a reply are truncated to integers. A bucket that would be full is deleted, and
 * every other bucket expires when it would be full again, so idle keys cost nothing.
 * KEYS[1] = bucket; ARGV = burst, tokens per ms, cost. Returns {allowed 0|1, tokens}.
 */
const SCRIPT = `
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate)
  ts = now
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
local full_ms = math.ceil((burst - tokens) / rate)
if full_ms <= 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', ts))
  redis.call('PEXPIRE', KEYS[1], full_ms)
end
return {allowed, string.format('%.17g', tokens)}
`;
const SCRIPT_SHA = createHash("sha1").update(SCRIPT).digest("hex");

class RedisTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms`);
    this.name = "RedisTimeoutError";
  }
}

/**
 * Token buckets shared by every proxy instance through one Redis.
 *
 * Requests never wait longer than `timeoutMs` and never fail because of Redis: on error,
 * timeout or disconnection the store answers per `failureMode`, marks itself "down" and
 * reports the transition once. The client reconnects on its own (capped exponential backoff);
 * while down and disconnected calls fail fast, and while down but connected (a hung server)
 * only one call at a time probes Redis, so a stalled server cannot pile up requests.
 *
 * Call `connect()` at startup (it resolves either way) and dispose on shutdown.
 */
export class RedisRateLimitStore implements RateLimitStore, AsyncDisposable {
  readonly policy: TokenBucketPolicy;
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #keyPrefix: string;
  readonly #timeoutMs: number;
  readonly #failureMode: FailureMode;
  readonly #closedRetryAfterMs: number;
  readonly #onStateChange: ((change: RedisStateChange) => void) | undefined;
  readonly #client;
  #connecting: Promise<void> | undefined;
  #closed = false;
  #state: RedisState = "down";
  #announced = false;
  #probing = false;
  #errors = 0;
  #timeouts = 0;
  #fallbacks = 0;

  constructor(options: RedisRateLimitStoreOptions) {
    const {
      ratePerSecond,
      burst,
      url = "redis://127.0.0.1:6379",
      keyPrefix = "rl:",
      timeoutMs = 100,
      failureMode = "open",
      closedRetryAfterMs = 1000,
      connectTimeoutMs = 1000,
      maxReconnectDelayMs = 2000,
      onStateChange,
    } = options;
    validatePolicy({ ratePerSecond, burst });
    for (
      const [name, value] of Object.entries({
        timeoutMs,
        closedRetryAfterMs,
        connectTimeoutMs,
        maxReconnectDelayMs,
      })
    ) {
      if (!Number.isFinite(value) || value <= 0) {
        throw new RangeError(`${name} must be a number of ms > 0, got ${value}`);
      }
    }
    if (failureMode !== "open" && failureMode !== "closed") {
      throw new TypeError(`failureMode must be "open" or "closed", got ${String(failureMode)}`);
    }
    if (!/^rediss?:\/\//.test(url)) {
      throw new TypeError(`url must start with redis:// or rediss://, got "${url}"`);
    }
    if (onStateChange !== undefined && typeof onStateChange !== "function") {
      throw new TypeError("onStateChange must be a function");
    }
    this.policy = Object.freeze({ ratePerSecond, burst });
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#keyPrefix = keyPrefix;
    this.#timeoutMs = timeoutMs;
    this.#failureMode = failureMode;
    this.#closedRetryAfterMs = closedRetryAfterMs;
    this.#onStateChange = onStateChange;
    this.#client = createClient({
      url,
      // Fail fast instead of queueing while disconnected: a queued command would outlive its
      // request. Maintenance push notifications are off: they read REDIS_DEBUG_MAINTENANCE from
      // the environment and would need --allow-env.
      disableOfflineQueue: true,
      maintNotifications: "disabled",
      socket: {
        connectTimeout: connectTimeoutMs,
        reconnectStrategy: (retries: number) =>
          Math.min(50 * 2 ** Math.min(retries, 10), maxReconnectDelayMs),
      },
    });
    // Without an "error" listener the client would throw; errors are reported via state.
    this.#client.on("error", (error: unknown) => this.#setState("down", error));
    this.#client.on("ready", () => this.#setState("up"));
  }

  /** Opens the connection (idempotent). Resolves when connected or after `timeoutMs` × 10. */
  async connect(): Promise<void> {
    if (this.#closed) return;
    this.#connecting ??= this.#client.connect().then(
      () => {},
      (error: unknown) => this.#setState("down", error),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#connecting,
      new Promise<void>((resolve) => timer = setTimeout(resolve, this.#timeoutMs * 10)),
    ]);
    clearTimeout(timer);
  }

  async take(key: string, cost = 1): Promise<Decision> {
    validateCost(cost, this.#burst);
    if (this.#closed || !this.#client.isReady || (this.#state === "down" && this.#probing)) {
      if (!this.#closed && !this.#connecting) void this.connect();
      return this.#fallback();
    }
    const probe = this.#state === "down";
    if (probe) this.#probing = true;
    try {
      const reply = await this.#withTimeout(this.#evalTokenBucket(this.#keyPrefix + key, cost));
      this.#setState("up");
      const allowed = Array.isArray(reply) && reply[0] === 1;
      const tokens = Array.isArray(reply) ? Number(reply[1]) : Number.NaN;
      if (!Number.isFinite(tokens)) {
        throw new TypeError(`Unexpected reply from rate limit script: ${String(reply)}`);
      }
      return decisionFor(allowed, tokens, cost, this.#ratePerMs, this.#burst);
    } catch (error) {
      this.#errors++;
      if (error instanceof RedisTimeoutError) this.#timeouts++;
      this.#setState("down", error);
      return this.#fallback();
    } finally {
      if (probe) this.#probing = false;
    }
  }

  /** "up" after a successful call or connection, "down" after any failure. */
  get state(): RedisState {
    return this.#state;
  }

  /** Failed or timed-out Redis calls since construction (for metrics). */
  get errors(): number {
    return this.#errors;
  }

  /** The subset of `errors` that were timeouts. */
  get timeouts(): number {
    return this.#timeouts;
  }

  /** Decisions answered per `failureMode` instead of by Redis. */
  get fallbacks(): number {
    return this.#fallbacks;
  }

  /** Closes the connection and stops reconnecting; later takes answer per `failureMode`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#client.destroy();
    } catch {
      // never connected: nothing to tear down
    }
    await this.#connecting;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #evalTokenBucket(key: string, cost: number): Promise<unknown> {
    const args = ["1", key, String(this.#burst), String(this.#ratePerMs), String(cost)];
    try {
      return await this.#client.sendCommand(["EVALSHA", SCRIPT_SHA, ...args]);
    } catch (error) {
      // NOSCRIPT: the server restarted or flushed its script cache; EVAL loads it again.
      if (!String((error as Error)?.message).startsWith("NOSCRIPT")) throw error;
      return await this.#client.sendCommand(["EVAL", SCRIPT, ...args]);
    }
  }

  #withTimeout<T>(pending: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisTimeoutError(this.#timeoutMs)), this.#timeoutMs);
    });
    // The late answer (or error) of a timed-out call is dropped, not left unhandled.
    pending.catch(() => {});
    return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
  }

  #fallback(): Decision {
    this.#fallbacks++;
    if (this.#failureMode === "open") {
      return {
        allowed: true,
        remaining: Math.floor(this.#burst),
        limit: this.#burst,
        retryAfterMs: 0,
        resetMs: 0,
      };
    }
    return {
      allowed: false,
      remaining: 0,
      limit: this.#burst,
      retryAfterMs: this.#closedRetryAfterMs,
      resetMs: this.#closedRetryAfterMs,
    };
  }

  #setState(next: RedisState, error?: unknown): void {
    if (this.#closed || (this.#state === next && this.#announced)) return;
    // The first "down" before any success is announced too; the initial state is not.
    this.#state = next;
    this.#announced = true;
    if (!this.#onStateChange) return;
    const change: RedisStateChange = next === "down"
      ? { state: next, error: error instanceof Error ? error.message : String(error) }
      : { state: next };
    try {
      this.#onStateChange(change);
    } catch {
      // A faulty logger must not break rate limiting.
    }
  }
}
