/**
 * The one owner of "which upstream does this request go to, and what happens after an attempt" (Caddy's
 * `proxyLoopIteration`). HTTP forwarding, WebSocket upgrades, the cache's fetches (through the forwarder) and
 * `/explain` all ask here, with plain request facts, so they cannot disagree:
 *
 * - the first pick honours the sticky cookie, then the consistent-hash key, then the balancer; backups only
 *   when no primary is available (all inside {@linkcode PoolBalancer});
 * - the upstream's gate (circuit breaker) is reserved before sending and told the outcome after;
 * - panic mode (Envoy's panic threshold): when the share of available upstreams falls below
 *   `panic_threshold`, requests go round robin over every upstream of the pool, ignoring health and breakers;
 * - a retry goes to an upstream not tried yet for this request, when the retry policy and budget allow;
 * - nothing to send to is a 503 whose Retry-After says when a breaker lets requests through again.
 *
 * No Hono, no network APIs: callers do the I/O.
 */
import type { PoolBalancer } from "../balancer/pool_balancer.ts";
import { readCookie } from "../balancer/read_cookie.ts";
import { isFailure, type UpstreamErrorReason } from "../breaker/is_failure.ts";
import { clientAddress, type TrustedProxies } from "../net/client_address.ts";
import { type FailureKind, ProxyError } from "../errors.ts";
import type { RetryBudget } from "../retry/retry_budget.ts";
import { backoffMs, isRetryable } from "../retry/retry_policy.ts";
import type { AdmissionGate, Upstream } from "../upstream/upstream.ts";
import { fieldValue } from "../proxy/field_list.ts";

/** What selection needs to know about a request. */
export interface RequestFacts {
  /** Request method, upper case. */
  readonly method: string;
  readonly headers: Headers;
  /** Address of the socket peer; `""` when not known (then `client_ip` hashing has no key). */
  readonly peerIp: string;
  /**
   * The trusted proxies when the peer is one of them (then `client_ip` hashing uses the client address
   * they forward for); undefined otherwise.
   */
  readonly trustedProxies: TrustedProxies | undefined;
  /** URL path without the query. */
  readonly path: string;
}

/** A log line sink: `event` names what happened, `fields` carry the facts. */
export type SelectionLog = (event: string, fields: Readonly<Record<string, unknown>>) => void;

export interface UpstreamSelectionOptions {
  /** Panic when fewer than this percent of the pool is available (0–100; 0: never). */
  panicThresholdPercent: number;
  /** Extra attempts after the first (`retries.attempts`). */
  retries: number;
  /** `retries.backoff` in ms. */
  backoffMs: number;
  /** Undefined when retries are off. */
  retryBudget: RetryBudget | undefined;
  /** Retry-After when no breaker will let a request through soon (the health-check interval), in ms. */
  idleRetryAfterMs: number;
  log: SelectionLog;
  /** Clock for rate-limiting the panic log, in ms. Default `Date.now`. */
  now?: () => number;
}

/** How the first upstream was (or would be) chosen. */
export type SelectionRule = "sticky_cookie" | "hash_key" | "balancer" | "panic" | "none";

/** What `/explain` reports: the same decision as a real request, without taking any state. */
export interface SelectionPreview {
  /** The upstream a request with these facts goes to now; undefined when only the balancer's turn decides. */
  readonly upstream: Upstream | undefined;
  readonly rule: SelectionRule;
  /** The consistent-hash key of the request, when the pool hashes and the key is present. */
  readonly hashKey: string | undefined;
  /** Share of the pool available (0–1; backups stand in for primaries), compared with the threshold. */
  readonly availableShare: number;
  readonly panic: boolean;
}

/** Failure kinds from the forwarder, in the breaker's and retry policy's vocabulary. */
const ERROR_REASON: Partial<Record<FailureKind, UpstreamErrorReason>> = {
  timeout: "timeout",
  refused: "refused",
  reset: "reset",
  bad_response: "reset",
  upstream_error: "reset",
};

/** The panic log is written at most this often per pool. */
const PANIC_LOG_INTERVAL_MS = 10_000;

export class UpstreamSelection {
  readonly #name: string;
  readonly #upstreams: readonly Upstream[];
  readonly #balancer: PoolBalancer;
  readonly #primaries: number;
  readonly #backups: number;
  /** Available primaries at which the share cannot be below the threshold: ⌈threshold × primaries⌉. */
  readonly #enoughPrimaries: number;
  readonly #options: UpstreamSelectionOptions;
  readonly #now: () => number;
  #panicCursor = 0;
  #lastPanicLog = -Infinity;
  /**
   * True while the last count found the pool not below the threshold and no upstream's availability changed
   * since (upstreams report health verdicts and gate state changes): the common case costs no pool scan.
   */
  #calm = false;

  constructor(balancer: PoolBalancer, options: UpstreamSelectionOptions) {
    const { panicThresholdPercent, retries } = options;
    if (!(panicThresholdPercent >= 0 && panicThresholdPercent <= 100)) {
      throw new RangeError(
        `UpstreamSelection panicThresholdPercent must be 0–100, got ${panicThresholdPercent}`,
      );
    }
    if (!Number.isInteger(retries) || retries < 0) {
      throw new RangeError(`UpstreamSelection retries must be an integer ≥ 0, got ${retries}`);
    }
    this.#name = balancer.name;
    this.#upstreams = balancer.upstreams;
    this.#balancer = balancer;
    this.#backups = balancer.upstreams.filter((u) => u.backup).length;
    this.#primaries = balancer.upstreams.length - this.#backups;
    this.#enoughPrimaries = Math.ceil((panicThresholdPercent * this.#primaries) / 100);
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const changed = () => this.#calm = false;
    for (const upstream of this.#upstreams) upstream.onAvailabilityChange(changed);
  }

  /**
   * Chooses the first upstream for a request and reserves its gate. Throws `ProxyError("no_upstream")` with
   * a Retry-After when there is nothing to send to. Pass `replayable: false` when the body streams through
   * once (then a failed attempt is never retried).
   */
  begin(facts: RequestFacts, replayable = true): Attempt {
    this.#options.retryBudget?.recordRequest();
    const attempt = new Attempt(this, facts, replayable);
    if (this.#panicking()) {
      attempt.rule = "panic";
      attempt.upstream = this.#panicPick(undefined);
    } else {
      this.#firstPick(facts, attempt, false);
      // Nothing available: count afresh (a half-open breaker's probe slots change no state), maybe panic.
      if (attempt.upstream === undefined && this.#recount()) {
        attempt.rule = "panic";
        attempt.upstream = this.#panicPick(undefined);
      }
    }
    if (attempt.upstream === undefined) throw this.#noUpstream();
    attempt.reserve();
    return attempt;
  }

  /** The decision {@linkcode begin} would make for these facts now, without taking a turn or a reservation. */
  preview(facts: RequestFacts): SelectionPreview {
    const availableShare = this.availableShare();
    const panic = this.#panicking();
    const slot: PickSlot = { upstream: undefined, setCookie: undefined, rule: "none", hashKey: undefined };
    if (panic) slot.rule = "panic";
    else this.#firstPick(facts, slot, true);
    return { upstream: slot.upstream, rule: slot.rule, hashKey: slot.hashKey, availableShare, panic };
  }

  /**
   * Share of the pool that is available, 0–1: available primaries / primaries, plus available backups /
   * backups when the pool has backups (the backups as a whole stand in for the primaries, as Envoy's
   * priority levels do), capped at 1.
   */
  availableShare(): number {
    let primaries = 0;
    let backups = 0;
    for (const upstream of this.#upstreams) {
      if (!upstream.available) continue;
      if (upstream.backup) backups++;
      else primaries++;
    }
    const share = (this.#primaries === 0 ? 0 : primaries / this.#primaries) +
      (this.#backups === 0 ? 0 : backups / this.#backups);
    return Math.min(1, share);
  }

  /** True when panic mode is on and the available share is below the threshold. */
  get panicking(): boolean {
    return this.#panicking();
  }

  /**
   * How long until some upstream may be tried again (for Retry-After), in ms: the earliest moment an open
   * breaker of a healthy upstream lets requests through (at least 1 s), else the idle value (the
   * health-check interval, or 1 s).
   */
  retryAfterMs(): number {
    let best = Infinity;
    for (const upstream of this.#upstreams) {
      const gate = upstream.gate;
      if (upstream.healthy && gate !== undefined) best = Math.min(best, gate.retryAfterMs);
    }
    if (best !== Infinity) return Math.max(1_000, best);
    return this.#options.idleRetryAfterMs;
  }

  /** The next attempt after a failure: another upstream (not tried yet), or undefined. @internal */
  nextPick(attempt: Attempt, tried: ReadonlySet<Upstream>): void {
    if (this.#panicking()) {
      attempt.rule = "panic";
      attempt.upstream = this.#panicPick(tried);
    } else {
      attempt.upstream = this.#another(tried);
      if (attempt.upstream === undefined && this.#recount()) {
        attempt.rule = "panic";
        attempt.upstream = this.#panicPick(tried);
      }
    }
    // Sticky: pin the client to the upstream that serves it, not to the one that just failed.
    const upstream = attempt.upstream;
    if (upstream !== undefined && this.#balancer.stickyCookieName !== undefined) {
      attempt.setCookie = this.#balancer.setCookieFor(upstream);
    }
  }

  /** Whether a failed attempt may be sent again; takes a retry from the budget when it may. @internal */
  mayRetry(attempt: Attempt, reason: UpstreamErrorReason): boolean {
    const { retries, retryBudget } = this.#options;
    return attempt.count <= retries &&
      isRetryable({
        method: attempt.facts.method,
        hasIdempotencyKey: attempt.facts.headers.has("idempotency-key"),
        failure: reason,
        bodyReplayable: attempt.replayable,
      }) &&
      retryBudget !== undefined && retryBudget.tryRetry();
  }

  /** Pause before retry number `retry` (1 = first), in ms. @internal */
  backoffMs(retry: number): number {
    return backoffMs(retry, { baseMs: this.#options.backoffMs });
  }

  #panicking(): boolean {
    const threshold = this.#options.panicThresholdPercent;
    if (threshold === 0 || this.#calm) return false;
    this.#calm = !this.#belowThreshold(threshold);
    return !this.#calm;
  }

  /** {@linkcode #panicking} without the cached verdict. */
  #recount(): boolean {
    this.#calm = false;
    return this.#panicking();
  }

  #belowThreshold(threshold: number): boolean {
    // Enough available primaries settle it: stop counting there rather than scan the whole pool.
    const enough = this.#enoughPrimaries;
    if (enough > 0) {
      let count = 0;
      for (const upstream of this.#upstreams) {
        if (!upstream.backup && upstream.available && ++count >= enough) return false;
      }
    }
    return this.availableShare() * 100 < threshold;
  }

  /** Sticky cookie, then hash key, then the balancer. `dry`: decide only what needs no balancer turn. */
  #firstPick(facts: RequestFacts, slot: PickSlot, dry: boolean): void {
    const balancer = this.#balancer;
    const cookieName = balancer.stickyCookieName;
    if (cookieName !== undefined) {
      const pinned = balancer.pinned(readCookie(fieldValue(facts.headers, "cookie"), cookieName));
      if (pinned !== undefined) {
        slot.upstream = pinned;
        slot.rule = "sticky_cookie";
        return;
      }
    }
    let key: string | undefined;
    if (balancer.algorithm === "consistent_hash") {
      const clientIp = hashedClientIp(facts, balancer);
      // An empty address is "not known" (only /explain without `client=` has one): no key, not the key "".
      key = clientIp === "" && balancer.hashKey === "client_ip"
        ? undefined
        : balancer.keyFor({ clientIp, headers: facts.headers, path: facts.path });
      slot.hashKey = key;
    }
    // A consistent-hash pick with a key is a pure function of the ring; any other pick takes a turn.
    const deterministic = key !== undefined;
    slot.rule = deterministic ? "hash_key" : "balancer";
    if (dry && !deterministic) {
      if (!this.#upstreams.some((u) => u.available)) slot.rule = "none";
      return;
    }
    const upstream = balancer.pick(key === undefined ? undefined : { key });
    slot.upstream = upstream;
    if (upstream === undefined) slot.rule = "none";
    else if (cookieName !== undefined && !dry) slot.setCookie = balancer.setCookieFor(upstream);
  }

  /** A retry goes to an available upstream not tried yet: the balancer's choice if fresh, else the first fresh one. */
  #another(tried: ReadonlySet<Upstream>): Upstream | undefined {
    const choice = this.#balancer.pick();
    if (choice !== undefined && !tried.has(choice)) return choice;
    for (const upstream of this.#upstreams) {
      if (upstream.available && !tried.has(upstream) && !upstream.backup) return upstream;
    }
    for (const upstream of this.#upstreams) if (upstream.available && !tried.has(upstream)) return upstream;
    return undefined;
  }

  /** Round robin over every upstream of the pool, available or not, skipping those already tried. */
  #panicPick(tried: ReadonlySet<Upstream> | undefined): Upstream | undefined {
    const list = this.#upstreams;
    for (let i = 0; i < list.length; i++) {
      const index = (this.#panicCursor + i) % list.length;
      const upstream = list[index]!;
      if (tried?.has(upstream)) continue;
      this.#panicCursor = index + 1;
      const now = this.#now();
      if (now - this.#lastPanicLog >= PANIC_LOG_INTERVAL_MS) {
        this.#lastPanicLog = now;
        this.#options.log("panic", { pool: this.#name, ...this.#heldOut() });
      }
      return upstream;
    }
    return undefined;
  }

  /** Why the pool's upstreams are held out, for the panic log: counts per cause and a sentence. */
  #heldOut(): Record<string, string | number> {
    let breaker = 0;
    let health = 0;
    for (const upstream of this.#upstreams) {
      if (!upstream.healthy) health++;
      else if (!upstream.available) breaker++;
    }
    const causes = [
      breaker > 0 ? `${breaker} ejected by its breaker` : "",
      health > 0 ? `${health} failing its health check` : "",
    ].filter((cause) => cause !== "");
    const held = breaker + health;
    const total = this.#upstreams.length;
    const share = Math.round(this.availableShare() * 100);
    return {
      upstreams: total,
      held_out: held,
      breaker_open: breaker,
      unhealthy: health,
      available_percent: share,
      panic_threshold_percent: this.#options.panicThresholdPercent,
      reason: `${held} of ${total} upstreams held out (${causes.join(", ")}): ${share}% available is below ` +
        `panic_threshold ${this.#options.panicThresholdPercent}%; routing over all ${total} ignoring health ` +
        "and breakers",
    };
  }

  #noUpstream(): ProxyError {
    return new ProxyError("no_upstream", `pool "${this.#name}"`, this.retryAfterMs());
  }
}

interface PickSlot {
  upstream: Upstream | undefined;
  setCookie: string | undefined;
  rule: SelectionRule;
  hashKey: string | undefined;
}

/**
 * One request's attempts on a pool: the upstream to send to now, and what to tell the gate afterwards. Call
 * exactly one of {@linkcode answered}, {@linkcode abandoned} or {@linkcode failed} per attempt; `failed`
 * returning true means a next attempt is ready (await {@linkcode backoff}, then send to `upstream` again).
 */
export class Attempt implements PickSlot {
  /** The upstream to send this attempt to. */
  upstream: Upstream | undefined = undefined;
  /** Set-Cookie value pinning the client to `upstream` (sticky pools, when the client was (re-)pinned). */
  setCookie: string | undefined = undefined;
  /** How the first upstream was chosen (`panic` once a panic pick was made). */
  rule: SelectionRule = "none";
  hashKey: string | undefined = undefined;
  /** 1 for the first attempt, 2 for the first retry, ... */
  count = 1;
  readonly facts: RequestFacts;
  readonly replayable: boolean;
  readonly #selection: UpstreamSelection;
  #gate: AdmissionGate | undefined;
  #tried: Set<Upstream> | undefined;

  constructor(selection: UpstreamSelection, facts: RequestFacts, replayable: boolean) {
    this.#selection = selection;
    this.facts = facts;
    this.replayable = replayable;
  }

  /** Reserves the upstream's gate (a panic pick past an open breaker holds none, and reports nothing). */
  reserve(): void {
    const gate = this.upstream?.gate;
    this.#gate = gate !== undefined && gate.reserve() ? gate : undefined;
  }

  /** The upstream answered with `status` (a response head, or a WebSocket handshake answer). */
  answered(status: number): void {
    this.upstream?.noteAnswered();
    const gate = this.#gate;
    this.#gate = undefined;
    if (gate === undefined) return;
    if (isFailure({ kind: "response", status })) gate.recordFailure();
    else gate.recordSuccess();
  }

  /** The attempt ended with no verdict on the upstream (our own limit, or the client left). */
  abandoned(): void {
    this.#gate?.release();
    this.#gate = undefined;
  }

  /**
   * The attempt failed with `error`. Reports it to the gate (unless the upstream is not to blame) and, when
   * the request may be retried on an upstream not tried yet, moves to it and returns true.
   */
  failed(error: ProxyError): boolean {
    if (error.kind === "client_closed" || error.kind === "pool_full") {
      // Neither is the upstream's fault: no breaker failure, no retry (a full pool is our own limit).
      this.abandoned();
      return false;
    }
    if (error.kind === "refused" || error.kind === "reset" || error.kind === "timeout") {
      this.upstream?.noteUnreachable();
    }
    this.#gate?.recordFailure();
    this.#gate = undefined;
    const reason = ERROR_REASON[error.kind] ?? "reset";
    const selection = this.#selection;
    if (!selection.mayRetry(this, reason)) return false;
    (this.#tried ??= new Set()).add(this.upstream!);
    selection.nextPick(this, this.#tried);
    if (this.upstream === undefined) return false;
    this.count++;
    this.reserve();
    return true;
  }

  /** Waits the backoff before the current retry. */
  async backoff(): Promise<void> {
    const wait = this.#selection.backoffMs(this.count - 1);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** The address `client_ip` hashing uses: behind trusted proxies the client they forward for. */
function hashedClientIp(facts: RequestFacts, balancer: PoolBalancer): string {
  if (facts.trustedProxies === undefined || balancer.hashKey !== "client_ip") return facts.peerIp;
  return clientAddress({
    peer: facts.peerIp,
    xForwardedFor: fieldValue(facts.headers, "x-forwarded-for"),
    trusted: facts.trustedProxies,
  });
}
