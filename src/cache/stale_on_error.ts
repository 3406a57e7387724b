/**
 * Which upstream failures let `cache.serve_stale_on_error` serve a stored response past its freshness (RFC
 * 9111 §4.2.4, like nginx's `proxy_cache_use_stale error timeout`): the ones where no response arrived.
 * An upstream that answers, even with a 5xx, has answered: that response is relayed (only the origin's own
 * `stale-if-error` turns a 500/502/503/504 into a stale hit). A client that went away needs no answer.
 */
import { type FailureKind, ProxyError } from "../errors.ts";

const UNREACHABLE: ReadonlySet<FailureKind> = new Set<FailureKind>([
  "refused",
  "reset",
  "timeout",
  "upstream_error",
  "no_upstream",
]);

/** `error` when it means the upstream could not be reached, else undefined. */
export function unreachableError(error: unknown): ProxyError | undefined {
  return error instanceof ProxyError && UNREACHABLE.has(error.kind) ? error : undefined;
}

/** Cache-Status fields for a stale response served because of `error`: what the client would have got. */
export function staleOnErrorStatus(error: ProxyError): { fwdStatus: number; detail: string } {
  return { fwdStatus: error.status, detail: `serve-stale-on-error: ${error.kind}` };
}
