import type { Balancer } from "./balancer/balancer.ts";
import { RoundRobin } from "./balancer/round_robin.ts";
import type { Config, PoolConfig, RouteConfig } from "./config/types.ts";
import { DEFAULT_POOL } from "./config/validate_config.ts";
import { CidrSet } from "./net/cidr.ts";
import { Forwarder } from "./proxy/forward.ts";
import { Router, type RouteSpec } from "./router/router.ts";
import { Upstream } from "./upstream/upstream.ts";

/** One upstream pool, ready to pick from and forward to. */
export class PoolRuntime implements Disposable {
  readonly name: string;
  readonly upstreams: readonly Upstream[];
  readonly balancer: Balancer;
  readonly forwarder: Forwarder;
  /** TLS client for `wss://` backends when the pool names its own CA (tls.ca); else the system roots. */
  readonly webSocketClient: Deno.HttpClient | undefined;

  constructor(config: PoolConfig, forwarder: Forwarder, reuse: ReadonlyMap<string, Upstream>) {
    this.name = config.name;
    this.upstreams = config.backends.map((backend) => {
      const fresh = new Upstream(backend.url, { weight: backend.weight, backup: backend.backup });
      const old = reuse.get(fresh.id);
      return old && old.weight === fresh.weight && old.backup === fresh.backup ? old : fresh;
    });
    this.balancer = new RoundRobin(this.upstreams);
    this.forwarder = forwarder;
    this.webSocketClient = config.tls ? Deno.createHttpClient({ caCerts: [config.tls.ca] }) : undefined;
  }

  /** Picks an available upstream, or undefined when none is. */
  pick(): Upstream | undefined {
    return this.balancer.pick();
  }

  [Symbol.dispose](): void {
    this.forwarder[Symbol.dispose]();
    this.webSocketClient?.close();
  }
}

export interface RouteRuntime {
  readonly name: string;
  readonly config: RouteConfig | undefined;
  readonly pool: PoolRuntime;
}

export interface RuntimeOptions {
  /** The runtime being replaced: upstreams with an unchanged URL keep their state (health, counters). */
  previous?: Runtime | undefined;
  /** "https" when the listener terminates TLS. */
  proto?: "http" | "https";
}

/**
 * Everything compiled from one Config: routes, pools, balancers, HTTP clients. Requests take a snapshot at
 * their start, so a reload swaps the whole runtime atomically and in-flight requests finish on the old one.
 */
export class Runtime implements Disposable {
  readonly config: Config;
  readonly router: Router<RouteRuntime>;
  readonly pools: ReadonlyMap<string, PoolRuntime>;
  readonly trustedProxies: CidrSet;
  readonly via: string;
  readonly proto: "http" | "https";

  constructor(config: Config, options: RuntimeOptions = {}) {
    this.config = config;
    const server = config.server;
    this.via = `1.1 ${server.name}`;
    this.proto = options.proto ?? (server.tls ? "https" : "http");
    this.trustedProxies = new CidrSet(server.trustedProxies);
    const reuse = new Map<string, Upstream>();
    for (const pool of options.previous?.pools.values() ?? []) {
      for (const upstream of pool.upstreams) reuse.set(upstream.id, upstream);
    }
    const pools = new Map<string, PoolRuntime>();
    for (const [name, poolConfig] of config.pools) {
      const forwarder = new Forwarder({
        firstByteTimeoutMs: server.firstByteTimeoutMs,
        timeoutMs: server.timeoutMs,
        maxResponseHeaderBytes: server.maxResponseHeaderBytes,
        via: this.via,
        compression: server.compression,
        ...(poolConfig.tls ? { caCerts: [poolConfig.tls.ca] } : {}),
      });
      pools.set(name, new PoolRuntime(poolConfig, forwarder, reuse));
    }
    this.pools = pools;
    const routes = config.routes.map((route): RouteSpec<RouteRuntime> => ({
      host: route.match.host,
      path: route.match.path,
      pathPrefix: route.match.pathPrefix,
      methods: route.match.methods,
      value: { name: route.name, config: route, pool: pools.get(route.upstream)! },
    }));
    const defaultPool = pools.get(DEFAULT_POOL);
    this.router = new Router<RouteRuntime>(
      routes,
      defaultPool ? { name: DEFAULT_POOL, config: undefined, pool: defaultPool } : undefined,
    );
  }

  [Symbol.dispose](): void {
    for (const pool of this.pools.values()) pool[Symbol.dispose]();
  }
}

/** Where middleware finds the current runtime; `main.ts` swaps `current` on reload. */
export interface RuntimeSource {
  readonly current: Runtime;
}
