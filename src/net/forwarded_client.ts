/** The client behind trusted proxies, from X-Forwarded-For, for hashing requests by client address. */

/** What {@linkcode forwardedClient} needs of the trusted-proxy set (`CidrSet` fits). */
export interface ProxySet {
  contains(address: string): boolean;
}

/**
 * The rightmost X-Forwarded-For entry that is not a trusted proxy: entries further left were written by the
 * client (or an untrusted hop) and could be forged. Call only when `peer` itself is trusted. Falls back to the
 * last trusted hop when the chain is empty, made only of trusted proxies, or holds a non-address ("unknown").
 */
export function forwardedClient(peer: string, xForwardedFor: string | null, trusted: ProxySet): string {
  if (xForwardedFor === null) return peer;
  let candidate = peer;
  let end = xForwardedFor.length;
  while (end > 0) {
    const start = xForwardedFor.lastIndexOf(",", end - 1) + 1;
    const entry = stripPort(xForwardedFor.slice(start, end).trim());
    end = start - 1;
    if (entry === "") continue;
    if (!/^[0-9a-fA-F:.]+$/.test(entry)) return candidate;
    candidate = entry;
    if (!trusted.contains(entry)) return candidate;
  }
  return candidate;
}

/** "[v6]:port" and "v4:port" down to the address. */
function stripPort(node: string): string {
  if (node.startsWith("[")) {
    const close = node.indexOf("]");
    return close > 0 ? node.slice(1, close) : node;
  }
  const colon = node.indexOf(":");
  return colon > 0 && colon === node.lastIndexOf(":") && node.includes(".") ? node.slice(0, colon) : node;
}
