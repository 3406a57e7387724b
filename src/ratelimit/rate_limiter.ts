import { clientAddress, type ForwardedHeaderKind, type TrustedProxies } from "../net/client_address.ts";
import { formatRateLimitPolicy, rateLimitFormatter } from "./rate_limit_headers.ts";
import { rateLimitKey, type RateLimitKeySpec } from "./rate_limit_key.ts";
import type { RateLimitConfig, RateLimitHeadersMode, RouteRateLimitConfig } from "./rate_limit_settings.ts";
import type { RateLimitStore } from "./rate_limit_store.ts";
import { MemoryRateLimitStore } from "./store_memory.ts";
import { SharedMemoryRateLimitStore } from "./store_shared_memory.ts";
import { RedisRateLimitStore, type RedisStateChange } from "./store_redis.ts";
import type { Decision } from "./token_bucket.ts";

/**
 * One named quota and the store holding its buckets. Routes that name the same policy with the same
 * limits share it (and so share buckets). It outlives a reload when its settings are unchanged, buckets
 * and counters included.
 */
export class RateLimitPolicy {
  readonly name: string;
  readonly store: RateLimitStore;
  /** Precomputed `RateLimit-Policy` value. */
  readonly header: string;
  /** The `RateLimit` value after a decision. */
  readonly format: (decision: Decision) => string;
  #allowed = 0;
  #limited = 0;

  constructor(name: string, store: RateLimitStore) {
    this.name = name;
    this.store = store;
    this.header = formatRateLimitPolicy(name, store.policy);
    this.format = rateLimitFormatter(name);
  }

  /** Counts a decision (for metrics). */
  record(decision: Decision): void {
    if (decision.allowed) this.#allowed++;
    else this.#limited++;
  }

  /** Requests let through since the policy was created. */
  get allowed(): number {
    return this.#allowed;
  }

  /** Requests answered 429 since the policy was created. */
  get limited(): number {
    return this.#limited;
  }
}

/** What applies to one route: a policy and how requests are grouped into its buckets. */
export interface RateLimitRule {
  readonly policy: RateLimitPolicy;
  readonly key: RateLimitKeySpec;
}

/** A snapshot of one policy's counters, for metrics and the admin API. */
export interface RateLimitPolicyStats {
  readonly policy: string;
  readonly store: "memory" | "redis";
  readonly allowed: number;
  readonly limited: number;
  /** Memory store: buckets held and active buckets evicted because the table was full. */
  readonly keys?: number;
  readonly evictions?: number;
  /** Redis store: connection state, failed calls (timeouts included), answers given per failure_mode. */
  readonly redisState?: "up" | "down";
  readonly redisErrors?: number;
  readonly redisTimeouts?: number;
  readonly redisFallbacks?: number;
}

/** What the rate limiter reads of a route (the config's `RouteConfig` is one). */
export interface RateLimitedRoute {
  readonly name: string;
  readonly rateLimit?: RouteRateLimitConfig | "off";
}

/** Options for {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** The top-level `rate_limit` section (undefined: only routes with their own limits are limited). */
  readonly config: RateLimitConfig | undefined;
  readonly routes: readonly RateLimitedRoute[];
  readonly trustedProxies: TrustedProxies;
  /** The limiter of the runtime being replaced: policies with unchanged settings are taken over. */
  readonly previous?: RateLimiter | undefined;
  /**
   * Makes the store of a `memory` policy; default a {@link MemoryRateLimitStore} of its own. With
   * `server.workers` > 1 the worker isolates pass one that returns the policy's shared-memory table.
   */
  readonly memoryStore?: ((settings: MemoryPolicySettings) => RateLimitStore) | undefined;
  /** Where Redis up/down transitions are reported, once each. Default console.error. */
  readonly log?: (message: string) => void;
}

/** What a `memory` policy's store is made from; `signature` names the policy's settings (equal when equal). */
export interface MemoryPolicySettings {
  readonly signature: string;
  readonly name: string;
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly maxKeys: number;
}

/**
 * The rate limiting of one runtime: which policy applies to which route, how a request's bucket key
 * is derived, and the stores. Built only when some route is limited (see {@link RateLimiter.build}).
 */
export class RateLimiter implements Disposable {
  readonly headers: RateLimitHeadersMode;
  readonly #default: RateLimitRule | undefined;
  /** Routes with their own rule (null: `rate_limit: off`). Keyed by the route's config object. */
  readonly #byRoute = new Map<RateLimitedRoute, RateLimitRule | null>();
  readonly #trusted: TrustedProxies;
  readonly #forwardedHeader: ForwardedHeaderKind;
  /** Policies by settings signature; the ones a successor took over are removed (it owns them now). */
  readonly #policies = new Map<string, RateLimitPolicy>();
  #closing: Promise<void> | undefined;

  /** Undefined when nothing is limited, so the middleware costs one property check. */
  static build(options: RateLimiterOptions): RateLimiter | undefined {
    const limited = options.config !== undefined ||
      options.routes.some((route) => route.rateLimit !== undefined && route.rateLimit !== "off");
    return limited ? new RateLimiter(options) : undefined;
  }

  constructor(options: RateLimiterOptions) {
    const { config, routes, trustedProxies, previous, memoryStore, log = console.error } = options;
    this.headers = config?.headers ?? "all";
    this.#trusted = trustedProxies;
    this.#forwardedHeader = config?.forwardedHeader ?? "x-forwarded-for";
    const policyFor = (name: string, requestsPerSecond: number, burst: number): RateLimitPolicy => {
      const store = config?.store ?? { kind: "memory" as const };
      const settings = {
        name,
        requestsPerSecond,
        burst,
        maxKeys: config?.maxKeys ?? 100_000,
        store,
        failureMode: config?.failureMode ?? "open",
      };
      const signature = JSON.stringify(settings);
      const mine = this.#policies.get(signature);
      if (mine) return mine;
      const taken = previous === undefined ? undefined : previous.#takeOver(signature);
      if (taken) {
        this.#policies.set(signature, taken);
        return taken;
      }
      let created: RateLimitStore;
      if (store.kind === "memory") {
        created = memoryStore
          ? memoryStore({
            signature,
            name,
            ratePerSecond: requestsPerSecond,
            burst,
            maxKeys: settings.maxKeys,
          })
          : new MemoryRateLimitStore({
            ratePerSecond: requestsPerSecond,
            burst,
            maxKeys: settings.maxKeys,
          });
      } else {
        const where = redactUrl(store.url);
        const redis = new RedisRateLimitStore({
          url: store.url,
          ratePerSecond: requestsPerSecond,
          burst,
          timeoutMs: store.timeoutMs,
          keyPrefix: `${store.keyPrefix}${name}:`,
          failureMode: settings.failureMode,
          onStateChange: (change: RedisStateChange) =>
            log(
              change.state === "up"
                ? `rate limit: redis ${where} is up (policy "${name}")`
                : `rate limit: redis ${where} is down (policy "${name}"): ${change.error}; failing ${settings.failureMode}`,
            ),
        });
        // Connecting starts now so the first requests find it ready; `ready()` lets main.ts wait for it.
        void redis.connect();
        created = redis;
      }
      const policy = new RateLimitPolicy(name, created);
      this.#policies.set(signature, policy);
      return policy;
    };
    const defaultKey: RateLimitKeySpec = config?.key ?? { kind: "client_ip" };
    this.#default = config
      ? { policy: policyFor(config.policy, config.requestsPerSecond, config.burst), key: defaultKey }
      : undefined;
    for (const route of routes) {
      const own = route.rateLimit;
      if (own === undefined) continue;
      this.#byRoute.set(
        route,
        own === "off" ? null : {
          policy: policyFor(own.policy ?? route.name, own.requestsPerSecond, own.burst),
          key: own.key ?? defaultKey,
        },
      );
    }
  }

  /** The rule for a route (undefined route config: the default pool's catch-all); undefined when unlimited. */
  ruleFor(route: RateLimitedRoute | undefined): RateLimitRule | undefined {
    if (route === undefined || this.#byRoute.size === 0) return this.#default;
    const own = this.#byRoute.get(route);
    return own === undefined ? this.#default : own ?? undefined;
  }

  /**
   * The bucket key of a request. The forwarding header is read only when the socket peer is a trusted
   * proxy (`peerTrusted`, computed once per request by the request context).
   */
  keyFor(rule: RateLimitRule, peer: string, peerTrusted: boolean, headers: Headers): string {
    const spec = rule.key;
    if (spec.kind === "global") return "global";
    const address = peerTrusted
      ? clientAddress({
        peer,
        xForwardedFor: headers.get("x-forwarded-for"),
        forwarded: headers.get("forwarded"),
        trusted: this.#trusted,
        header: this.#forwardedHeader,
      })
      : peer;
    return rateLimitKey(spec, { clientAddress: address, header: (name) => headers.get(name) });
  }

  /** Counters of every policy this limiter uses (for metrics). */
  stats(): RateLimitPolicyStats[] {
    return [...new Set(this.#allRules().map((rule) => rule.policy))].map(policyStats);
  }

  /** Resolves once every Redis store has connected or given up for now (they keep retrying). */
  async ready(): Promise<void> {
    await Promise.all(
      [...this.#policies.values()].map((p) => isRedis(p.store) ? p.store.connect() : undefined),
    );
  }

  /** Closes the stores this limiter still owns (not those a successor took over). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all(
      [...this.#policies.values()].map((p) => isRedis(p.store) ? p.store.close() : undefined),
    ).then(() => {});
    return this.#closing;
  }

  [Symbol.dispose](): void {
    void this.close();
  }

  #allRules(): RateLimitRule[] {
    const rules = [...this.#byRoute.values()].filter((rule): rule is RateLimitRule => rule !== null);
    return this.#default ? [this.#default, ...rules] : rules;
  }

  #takeOver(signature: string): RateLimitPolicy | undefined {
    if (this.#closing) return undefined;
    const policy = this.#policies.get(signature);
    this.#policies.delete(signature);
    return policy;
  }
}

function isRedis(store: RateLimitStore): store is RedisRateLimitStore {
  return store instanceof RedisRateLimitStore;
}

function policyStats(policy: RateLimitPolicy): RateLimitPolicyStats {
  const store = policy.store;
  const base = { policy: policy.name, allowed: policy.allowed, limited: policy.limited };
  if (store instanceof MemoryRateLimitStore || store instanceof SharedMemoryRateLimitStore) {
    return { ...base, store: "memory", keys: store.size, evictions: store.evictions };
  }
  if (isRedis(store)) {
    return {
      ...base,
      store: "redis",
      redisState: store.state,
      redisErrors: store.errors,
      redisTimeouts: store.timeouts,
      redisFallbacks: store.fallbacks,
    };
  }
  return { ...base, store: "memory" };
}

/** The URL without credentials, for logs. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
