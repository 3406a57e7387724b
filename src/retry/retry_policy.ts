import type { UpstreamErrorReason } from "../breaker/is_failure.ts";

/**
 * When a failed attempt may be sent again (usually to another upstream). Pure functions.
 *
 * The rule follows RFC 9110 §9.2.2: a client may automatically retry a request whose method is
 * idempotent; for anything else, a retry is safe only when we know the first attempt never
 * reached the upstream (connection refused), or when the client made the
 * request idempotent itself with an `Idempotency-Key` header
 * (draft-ietf-httpapi-idempotency-key-header).
 */

/** Methods whose repetition has the same effect as one request (RFC 9110 §9.2.2). */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);

export interface RetryQuestion {
  /** Request method, upper case as sent. */
  readonly method: string;
  /** The request carries an `Idempotency-Key` header. */
  readonly hasIdempotencyKey: boolean;
  /** Why the failed attempt produced no response head (a response, whatever its status, is never retried). */
  readonly failure: UpstreamErrorReason;
  /** The request body can be sent again: no body, or buffered (see `replayableBody`). */
  readonly bodyReplayable: boolean;
}

export function isRetryable(question: RetryQuestion): boolean {
  const { method, hasIdempotencyKey, failure, bodyReplayable } = question;
  // A body that streamed through once cannot be sent again. (Only attempts without a response head are
  // asked about, so the client has received nothing yet.)
  if (!bodyReplayable) return false;
  switch (failure) {
    case "refused":
      // Nothing reached the upstream, so nothing can have happened twice.
      return true;
    case "timeout":
    case "reset":
      return hasIdempotencyKey || IDEMPOTENT_METHODS.has(method);
  }
}

export interface BackoffOptions {
  /** Delay before the first retry, before jitter, in ms. Default 25. */
  baseMs?: number;
  /** Ceiling for the doubled delay, in ms. Default 1 000. */
  maxMs?: number;
  /** Uniform [0, 1). Default `Math.random`. */
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (1 = first retry): "full jitter", a uniform draw from
 * [0, min(maxMs, baseMs × 2^(attempt-1))), which spreads retries of many clients best
 * (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function backoffMs(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 25, maxMs = 1_000, random = Math.random } = options;
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`backoffMs attempt must be an integer ≥ 1, got ${attempt}`);
  }
  if (!(baseMs >= 0) || !(maxMs >= baseMs)) {
    throw new RangeError(`backoffMs needs 0 ≤ baseMs ≤ maxMs, got ${baseMs} and ${maxMs}`);
  }
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 52));
  return random() * ceiling;
}
