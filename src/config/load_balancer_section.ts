import type { BalancerAlgorithm } from "../balancer/balancer.ts";
import { BALANCER_ALGORITHMS } from "../balancer/create_balancer.ts";
import { type HashKeySpec, isHashKeySpec } from "../balancer/hash_key.ts";
import { type ConfigReader, describe } from "./config_reader.ts";
import type { ConfigPath } from "./yaml_source.ts";

/** `load_balancer.sticky:` — session affinity through a signed cookie. */
export interface StickyConfig {
  readonly cookie: string;
  /** Cookie lifetime; undefined = session cookie. */
  readonly ttlMs: number | undefined;
  /** HMAC key; undefined = random per process (pins do not survive a restart). */
  readonly secret: string | undefined;
  readonly path: string;
  readonly secure: boolean;
  readonly sameSite: "Strict" | "Lax" | "None";
}

/** `load_balancer:` of a pool. */
export interface LoadBalancerConfig {
  readonly algorithm: BalancerAlgorithm;
  /** What consistent_hash hashes. */
  readonly hashKey: HashKeySpec;
  /** Ring points per unit of weight (consistent_hash). */
  readonly virtualNodes: number;
  readonly sticky: StickyConfig | undefined;
}

export const LOAD_BALANCER_KEYS = ["algorithm", "hash_key", "virtual_nodes", "sticky"];
const STICKY_KEYS = ["cookie", "ttl", "secret", "path", "secure", "same_site"];

export function readLoadBalancer(value: unknown, reader: ConfigReader, path: ConfigPath): LoadBalancerConfig {
  const m = reader.mapping(value, path, LOAD_BALANCER_KEYS) ?? {};
  const algorithm = reader.string(m.algorithm, [...path, "algorithm"], {
    default: "round_robin",
    oneOf: BALANCER_ALGORITHMS,
  });
  let hashKey: HashKeySpec = "client_ip";
  if (m.hash_key !== undefined) {
    if (isHashKeySpec(m.hash_key)) hashKey = m.hash_key;
    else {
      reader.fail(
        [...path, "hash_key"],
        `expected client_ip, path, header:NAME or cookie:NAME, got ${describe(m.hash_key)}`,
      );
    }
    if (algorithm !== "consistent_hash") {
      reader.fail(
        [...path, "hash_key"],
        `only used by algorithm consistent_hash (algorithm is ${algorithm})`,
        "key",
      );
    }
  }
  return {
    algorithm,
    hashKey,
    virtualNodes: reader.integer(m.virtual_nodes, [...path, "virtual_nodes"], {
      default: 160,
      min: 1,
      max: 10_000,
    }),
    sticky: readSticky(m.sticky, reader, [...path, "sticky"]),
  };
}

function readSticky(value: unknown, reader: ConfigReader, path: ConfigPath): StickyConfig | undefined {
  if (value === true) value = {};
  if (value === false) return undefined;
  const m = reader.mapping(value, path, STICKY_KEYS);
  if (!m) return undefined;
  const cookie = reader.string(m.cookie, [...path, "cookie"], { default: "proxy_sticky" });
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookie)) {
    reader.fail([...path, "cookie"], `not a valid cookie name: ${describe(cookie)}`);
  }
  const secret = reader.string(m.secret, [...path, "secret"]);
  if (secret !== undefined && new TextEncoder().encode(secret).length < 16) {
    reader.fail([...path, "secret"], "must be at least 16 bytes long");
  }
  const sameSite = reader.string(m.same_site, [...path, "same_site"], {
    default: "Lax",
    oneOf: ["Strict", "Lax", "None"] as const,
  });
  const secure = reader.boolean(m.secure, [...path, "secure"], sameSite === "None");
  if (sameSite === "None" && !secure) reader.fail([...path, "secure"], "must be true when same_site is None");
  const cookiePath = reader.string(m.path, [...path, "path"], { default: "/" });
  // RFC 6265 §4.1.1 path-value: any CHAR except CTLs or ";" (the Sticky constructor rejects others).
  if (!/^\/[\x20-\x3a\x3c-\x7e]*$/.test(cookiePath)) {
    reader.fail(
      [...path, "path"],
      `must start with "/" and hold no ";" or control characters, got ${describe(cookiePath)}`,
    );
  }
  return {
    cookie,
    ttlMs: reader.duration(m.ttl, [...path, "ttl"], { min: 1000 }),
    secret: secret !== undefined && secret.length >= 16 ? secret : undefined,
    path: cookiePath,
    secure,
    sameSite,
  };
}
