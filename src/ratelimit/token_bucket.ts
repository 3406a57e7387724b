/**
 * Token bucket arithmetic shared by every rate-limit store.
 *
 * A bucket holds at most `burst` tokens and refills continuously at `ratePerSecond`. A request
 * costing `cost` tokens is allowed when that many are present. The state is two numbers
 * (tokens, updatedAtMs) so that stores can keep many buckets in one typed array and the Redis
 * store can run the same rule in Lua; `takeTokens` is the allocation-free core.
 */

/** Outcome of one `take`. Times are milliseconds from `now`. */
export interface Decision {
  readonly allowed: boolean;
  /** Whole tokens left after this take (what `RateLimit: r=` reports). */
  readonly remaining: number;
  /** The bucket size, i.e. the quota advertised in `RateLimit-Policy: q=`. */
  readonly limit: number;
  /** 0 when allowed; otherwise the wait until `cost` tokens are present. */
  readonly retryAfterMs: number;
  /** Time until the bucket is full again (0 when already full). */
  readonly resetMs: number;
}

/** Refill rule of a bucket: validated once, shared by all buckets of a store. */
export interface TokenBucketPolicy {
  /** Tokens added per second (may be fractional, must be > 0). */
  readonly ratePerSecond: number;
  /** Maximum tokens held; also the initial amount of a fresh bucket (≥ 1). */
  readonly burst: number;
}

/** Throws RangeError unless the policy is usable; returns it for chaining. */
export function validatePolicy(policy: TokenBucketPolicy): TokenBucketPolicy {
  const { ratePerSecond, burst } = policy;
  if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
    throw new RangeError(`ratePerSecond must be a finite number > 0, got ${ratePerSecond}`);
  }
  if (!Number.isFinite(burst) || burst < 1) {
    throw new RangeError(`burst must be a finite number >= 1, got ${burst}`);
  }
  return policy;
}

/** Throws RangeError for a cost that can never be satisfied or is not a number ≥ 0. */
export function validateCost(cost: number, burst: number): void {
  if (!(cost >= 0 && cost <= burst)) {
    throw new RangeError(`cost must be between 0 and burst (${burst}), got ${cost}`);
  }
}

/**
 * Advances the bucket stored at `state[at]` (tokens) and `state[at + 1]` (updatedAtMs) to `now`
 * and takes `cost` tokens if present. Returns whether the take was allowed; the new token count
 * is left in `state[at]`. A clock that steps backwards refills nothing (never negative time).
 */
export function takeTokens(
  state: Float64Array,
  at: number,
  now: number,
  cost: number,
  ratePerMs: number,
  burst: number,
): boolean {
  const updatedAt = state[at + 1]!;
  let tokens = state[at]!;
  if (now > updatedAt) {
    tokens = Math.min(burst, tokens + (now - updatedAt) * ratePerMs);
    state[at + 1] = now;
  }
  const allowed = tokens >= cost;
  if (allowed) tokens -= cost;
  state[at] = tokens;
  return allowed;
}

/** Builds the Decision for a bucket left with `tokens` after a take of `cost`. */
export function decisionFor(
  allowed: boolean,
  tokens: number,
  cost: number,
  ratePerMs: number,
  burst: number,
): Decision {
  return {
    allowed,
    remaining: Math.floor(tokens),
    limit: burst,
    retryAfterMs: allowed ? 0 : Math.ceil((cost - tokens) / ratePerMs),
    resetMs: Math.ceil((burst - tokens) / ratePerMs),
  };
}

/** Options for a single {@link TokenBucket}. */
export interface TokenBucketOptions extends TokenBucketPolicy {
  /** Clock reading (ms) at creation; the bucket starts full. Default 0. */
  readonly startMs?: number;
}

/**
 * One bucket. `take()` returns a fresh Decision (one small object); `tryTake()` is the
 * allocation-free variant for hot loops, with the details readable from getters afterwards.
 */
export class TokenBucket {
  readonly #state = new Float64Array(2);
  readonly #ratePerMs: number;
  readonly #burst: number;

  constructor(options: TokenBucketOptions) {
    validatePolicy(options);
    const { ratePerSecond, burst, startMs = 0 } = options;
    if (!Number.isFinite(startMs)) throw new RangeError(`startMs must be finite, got ${startMs}`);
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#state[0] = burst;
    this.#state[1] = startMs;
  }

  /** Takes `cost` tokens at clock reading `now` (ms) if present. */
  take(now: number, cost = 1): Decision {
    const allowed = this.tryTake(now, cost);
    return decisionFor(allowed, this.#state[0]!, cost, this.#ratePerMs, this.#burst);
  }

  /** Like `take` without building a Decision. */
  tryTake(now: number, cost = 1): boolean {
    validateCost(cost, this.#burst);
    return takeTokens(this.#state, 0, now, cost, this.#ratePerMs, this.#burst);
  }

  /** Tokens held after the last take (fractional; not refilled to any later time). */
  get tokens(): number {
    return this.#state[0]!;
  }

  get burst(): number {
    return this.#burst;
  }

  get ratePerSecond(): number {
    return this.#ratePerMs * 1000;
  }
}
