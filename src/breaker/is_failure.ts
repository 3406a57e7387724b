/**
 * Passive outlier detection: the forwarder classifies every live request's outcome and feeds
 * failures to the upstream's breaker (`recordFailure`) and the rest to `recordSuccess`.
 *
 * Pure module.
 */

/** Why a request to an upstream produced no response (the forwarder's failure kinds, grouped). */
export type UpstreamErrorReason =
  /** No response (headers) within the deadline. */
  | "timeout"
  /** TCP connection refused: nothing listens; no byte of the request reached the upstream. */
  | "refused"
  /** Connection reset or closed mid-exchange, or an unusable response head. */
  | "reset";

/** The result of one attempt, as far as the forwarder knows it. */
export type UpstreamOutcome =
  | { readonly kind: "response"; readonly status: number }
  | { readonly kind: "error"; readonly reason: UpstreamErrorReason };

/**
 * True when the outcome counts against the upstream's health.
 *
 * - Transport errors count. (A client that went away is not an outcome: the caller releases the
 *   reservation instead of reporting.)
 * - 5xx responses count, except 501 Not Implemented and 505 HTTP Version Not Supported: those
 *   are deterministic answers about the request (RFC 9110 §15.6.2, §15.6.6), not signs of
 *   a sick server, and ejecting for them would punish a healthy upstream.
 * - 4xx count as success: the upstream works, the client asked for something wrong.
 */
export function isFailure(outcome: UpstreamOutcome): boolean {
  if (outcome.kind === "error") return true;
  const { status } = outcome;
  return status >= 500 && status <= 599 && status !== 501 && status !== 505;
}
