import type { Balancer, BalancerAlgorithm, PickContext } from "./balancer.ts";
import { BALANCER_ALGORITHMS, createBalancer } from "./create_balancer.ts";
import { hashKeyFor, type HashKeyInput, type HashKeySpec, isHashKeySpec } from "./hash_key.ts";
import { Sticky, type StickyOptions } from "./sticky.ts";
import type { Upstream } from "../upstream/upstream.ts";

export interface PoolBalancerOptions {
  /** Load-balancing algorithm for the primaries (and, separately, for the backups). */
  algorithm: BalancerAlgorithm;
  /** What `consistent_hash` hashes; see {@linkcode PoolBalancer.keyFor}. Default "client_ip". */
  hashKey?: HashKeySpec;
  /** Uniform random number in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Clock in ms for `ewma`; the same clock the forwarder passes to `observeLatency`. Default `performance.now`. */
  now?: () => number;
  /** `consistent_hash`: ring points per unit of weight. Default 160. */
  virtualNodes?: number;
  /** Session affinity; omitted means none. The `honours` option is set by the pool. */
  sticky?: Omit<StickyOptions, "honours">;
}

/**
 * A named group of upstreams behind one balancer. Backups (`backup: true`) get their own balancer,
 * consulted only when no primary is available (nginx's `backup` semantics).
 */
export class PoolBalancer implements Balancer {
  readonly name: string;
  readonly upstreams: readonly Upstream[];
  readonly algorithm: BalancerAlgorithm;
  readonly hashKey: HashKeySpec;
  readonly #primaries: readonly Upstream[];
  readonly #primary: Balancer;
  readonly #backup: Balancer | undefined;
  readonly #sticky: Sticky | undefined;

  constructor(name: string, upstreams: readonly Upstream[], options: PoolBalancerOptions) {
    if (typeof name !== "string" || name === "") {
      throw new TypeError("Pool: name must be a non-empty string");
    }
    if (!Array.isArray(upstreams) || upstreams.length === 0) {
      throw new RangeError(`Pool "${name}": needs at least one upstream`);
    }
    const { algorithm, hashKey = "client_ip", random, now, virtualNodes, sticky } = options;
    if (!BALANCER_ALGORITHMS.includes(algorithm)) {
      throw new TypeError(`Pool "${name}": unknown algorithm ${JSON.stringify(algorithm)}`);
    }
    if (!isHashKeySpec(hashKey)) {
      throw new TypeError(`Pool "${name}": invalid hash key ${JSON.stringify(hashKey)}`);
    }
    const ids = new Set<string>();
    for (const upstream of upstreams) {
      if (ids.has(upstream.id)) {
        throw new TypeError(`Pool "${name}": duplicate upstream ${upstream.id}`);
      }
      ids.add(upstream.id);
    }
    this.name = name;
    this.upstreams = upstreams;
    this.algorithm = algorithm;
    this.hashKey = hashKey;
    const balancerOptions = {
      ...(random === undefined ? {} : { random }),
      ...(now === undefined ? {} : { now }),
      ...(virtualNodes === undefined ? {} : { virtualNodes }),
    };
    this.#primaries = upstreams.filter((u) => !u.backup);
    const backups = upstreams.filter((u) => u.backup);
    this.#primary = createBalancer(algorithm, this.#primaries, balancerOptions);
    this.#backup = backups.length === 0 ? undefined : createBalancer(algorithm, backups, balancerOptions);
    this.#sticky = sticky === undefined ? undefined : new Sticky(this, upstreams, {
      ...sticky,
      // A client pinned to a backup goes back to the primaries as soon as one is up.
      honours: (upstream) => !upstream.backup || !this.#primaries.some((u) => u.available),
    });
  }

  /** A primary if any is available, else a backup, else undefined (the caller answers 503). */
  pick(context?: PickContext): Upstream | undefined {
    return this.#primary.pick(context) ?? this.#backup?.pick(context);
  }

  /** The hash key for a request under this pool's `hashKey` spec (pass it as `context.key`). */
  keyFor(input: HashKeyInput): string | undefined {
    return hashKeyFor(this.hashKey, input);
  }

  /** The sticky cookie's name, or undefined when affinity is off. */
  get stickyCookieName(): string | undefined {
    return this.#sticky?.cookieName;
  }

  /** The Set-Cookie value pinning a client to `upstream`; undefined when affinity is off. */
  setCookieFor(upstream: Upstream): string | undefined {
    return this.#sticky?.setCookieFor(upstream);
  }

  /** The upstream a sticky cookie value pins to when the pin is honoured now; undefined without affinity. */
  pinned(cookieValue: string | undefined): Upstream | undefined {
    return this.#sticky?.pinned(cookieValue);
  }
}
