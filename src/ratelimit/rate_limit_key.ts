import { formatIp, isIpv4Mapped, parseIp, parseIpv4Uint32 } from "../net/client_address.ts";

/** Parsed `rate_limit.key`. */
export type RateLimitKeySpec =
  | { readonly kind: "client_ip" }
  | { readonly kind: "header"; readonly name: string }
  | { readonly kind: "global" };

/** Parses "client_ip" | "header:NAME" | "global"; TypeError otherwise. */
export function parseRateLimitKeySpec(spec: string): RateLimitKeySpec {
  if (spec === "client_ip") return { kind: "client_ip" };
  if (spec === "global") return { kind: "global" };
  const m = /^header:([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(spec);
  if (m) return { kind: "header", name: m[1]!.toLowerCase() };
  throw new TypeError(`Invalid rate limit key "${spec}": expected client_ip, header:NAME or global`);
}

/** Longest header value used as a key; longer values are cut so one key cannot pin much memory. */
const MAX_HEADER_KEY_LENGTH = 256;

/**
 * The bucket name for a request. client_ip: IPv4 per address, IPv6 per /64, because one host
 * usually owns a whole /64 and could otherwise rotate through 2^64 keys. header: the header's
 * value, falling back to the client address when absent so omitting it does not escape the
 * limit. Prefixes keep the kinds from colliding.
 */
export function rateLimitKey(
  spec: RateLimitKeySpec,
  request: { readonly clientAddress: string; readonly header: (name: string) => string | null | undefined },
): string {
  switch (spec.kind) {
    case "global":
      return "global";
    case "header": {
      const value = request.header(spec.name);
      if (value) return `h:${value.slice(0, MAX_HEADER_KEY_LENGTH)}`;
      return ipKey(request.clientAddress);
    }
    case "client_ip":
      return ipKey(request.clientAddress);
  }
}

function ipKey(address: string): string {
  // A valid dotted quad is already canonical (leading zeros are refused): skip parse and format.
  if (!address.includes(":") && parseIpv4Uint32(address) >= 0) return `ip:${address}`;
  const bytes = parseIp(address);
  if (!bytes) return `ip:${address}`;
  if (isIpv4Mapped(bytes)) return `ip:${formatIp(bytes)}`;
  bytes.fill(0, 8);
  return `ip:${formatIp(bytes)}/64`;
}
