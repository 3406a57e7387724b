import { createHmac } from "node:crypto";
import type { Balancer, PickContext } from "./balancer.ts";
import type { Upstream } from "../upstream/upstream.ts";
import { checkUpstreams } from "./random_available_index.ts";

export interface StickyOptions {
  /** HMAC key; at least 16 bytes. Default: 32 random bytes (pins then last until restart). */
  secret?: string | Uint8Array;
  /** Cookie name. Default "proxy_sticky". */
  cookieName?: string;
  /** Cookie Path attribute. Default "/". */
  path?: string;
  /** Cookie Max-Age in seconds (integer ≥ 1); omitted means a session cookie. Default none. */
  maxAgeSeconds?: number;
  /** Add the Secure attribute (set it when the listener is HTTPS). Default false. */
  secure?: boolean;
  /** SameSite attribute. Default "Lax". */
  sameSite?: "Strict" | "Lax" | "None";
  /**
   * Extra condition for honouring a pin besides `available` (the pool uses it so a client pinned to a
   * backup moves back once a primary is up). Default: always true.
   */
  honours?: (upstream: Upstream) => boolean;
}

/** Result of a sticky pick: the upstream, and a Set-Cookie header value when the client must be re-pinned. */
export interface StickyPick {
  readonly upstream: Upstream | undefined;
  readonly setCookie: string | undefined;
}

/** Characters of the base64url HMAC kept in the cookie: 22 × 6 = 132 bits (RFC 2104 §5: keep ≥ half the hash). */
const TOKEN_LENGTH = 22;
/** Leading token characters used only to find the candidate upstream; the whole token is then compared. */
const LOCATOR_LENGTH = 4;

interface Entry {
  readonly upstream: Upstream;
  readonly token: string;
}

/**
 * Session affinity over any balancer. Each upstream's cookie value is HMAC-SHA256(secret, id),
 * computed once at construction, so verifying a cookie on the hot path is a map lookup plus a
 * constant-time string compare — no hashing per request. Without the secret a client cannot produce
 * a valid value for any upstream (HMAC unforgeability), and the value reveals nothing about the
 * upstream's address.
 */
export class Sticky {
  readonly #inner: Balancer;
  readonly #byLocator = new Map<number, Entry[]>();
  readonly #byUpstream = new Map<Upstream, string>();
  readonly #cookieName: string;
  readonly #attributes: string;
  readonly #honours: ((upstream: Upstream) => boolean) | undefined;

  constructor(inner: Balancer, upstreams: readonly Upstream[], options: StickyOptions = {}) {
    if (typeof inner?.pick !== "function") throw new TypeError("Sticky: inner must be a Balancer");
    checkUpstreams(upstreams, "Sticky");
    const {
      secret = crypto.getRandomValues(new Uint8Array(32)),
      cookieName = "proxy_sticky",
      path = "/",
      maxAgeSeconds,
      secure = false,
      sameSite = "Lax",
      honours,
    } = options;
    const secretLength = typeof secret === "string" ? new TextEncoder().encode(secret).length : secret.length;
    if (secretLength < 16) {
      throw new RangeError(`Sticky: secret must be at least 16 bytes, got ${secretLength}`);
    }
    // RFC 6265 §4.1.1: cookie-name is an RFC 2616 token.
    if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName)) {
      throw new TypeError(`Sticky: invalid cookie name ${JSON.stringify(cookieName)}`);
    }
    // RFC 6265 §4.1.1 path-value: any CHAR except CTLs or ";".
    if (!/^\/[\x20-\x3a\x3c-\x7e]*$/.test(path)) throw new TypeError(`Sticky: invalid cookie path ${path}`);
    if (maxAgeSeconds !== undefined && (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 1)) {
      throw new RangeError(`Sticky: maxAgeSeconds must be an integer ≥ 1, got ${maxAgeSeconds}`);
    }
    if (sameSite !== "Strict" && sameSite !== "Lax" && sameSite !== "None") {
      throw new TypeError(`Sticky: sameSite must be "Strict", "Lax" or "None", got ${String(sameSite)}`);
    }
    if (honours !== undefined && typeof honours !== "function") {
      throw new TypeError(`Sticky: option "honours" must be a function`);
    }
    this.#inner = inner;
    this.#cookieName = cookieName;
    this.#honours = honours;
    // SameSite=None is only accepted by browsers together with Secure.
    this.#attributes = `; Path=${path}` + (maxAgeSeconds === undefined ? "" : `; Max-Age=${maxAgeSeconds}`) +
      "; HttpOnly" + (secure || sameSite === "None" ? "; Secure" : "") + `; SameSite=${sameSite}`;

    for (const upstream of upstreams) {
      const token = createHmac("sha256", secret).update(`proxy-sticky-v1\0${upstream.id}`).digest("base64url")
        .slice(0, TOKEN_LENGTH);
      const locator = locatorOf(token);
      const entries = this.#byLocator.get(locator);
      if (entries === undefined) this.#byLocator.set(locator, [{ upstream, token }]);
      else entries.push({ upstream, token });
      this.#byUpstream.set(upstream, token);
    }
  }

  /** The cookie the middleware reads (`readCookie(headers.get("cookie"), sticky.cookieName)`). */
  get cookieName(): string {
    return this.#cookieName;
  }

  /**
   * The pinned upstream when `cookieValue` verifies and that upstream is available; otherwise a pick by
   * the inner balancer plus the Set-Cookie header value that pins the client to it.
   */
  pickWithCookie(cookieValue: string | undefined, context?: PickContext): StickyPick {
    const pinned = this.pinned(cookieValue);
    if (pinned !== undefined) return { upstream: pinned, setCookie: undefined };
    const upstream = this.#inner.pick(context);
    return { upstream, setCookie: upstream === undefined ? undefined : this.setCookieFor(upstream) };
  }

  /** The upstream `cookieValue` pins to when it verifies and the pin is honoured now (available), else undefined. */
  pinned(cookieValue: string | undefined): Upstream | undefined {
    const pinned = cookieValue === undefined ? undefined : this.verify(cookieValue);
    return pinned !== undefined && pinned.available && (this.#honours?.(pinned) ?? true) ? pinned : undefined;
  }

  /** The upstream a cookie value pins to, or undefined when it does not verify. */
  verify(cookieValue: string): Upstream | undefined {
    if (cookieValue.length !== TOKEN_LENGTH) return undefined;
    const entries = this.#byLocator.get(locatorOf(cookieValue));
    if (entries === undefined) return undefined;
    for (const entry of entries) {
      if (constantTimeEqual(entry.token, cookieValue)) return entry.upstream;
    }
    return undefined;
  }

  /** The Set-Cookie header value pinning a client to `upstream`, or undefined for a foreign upstream. */
  setCookieFor(upstream: Upstream): string | undefined {
    const token = this.#byUpstream.get(upstream);
    return token === undefined ? undefined : `${this.#cookieName}=${token}${this.#attributes}`;
  }
}

/**
 * The first LOCATOR_LENGTH characters packed into a small integer (base64url is ASCII, 7 bits each):
 * a number key needs no substring allocation or string hashing on the hot path. It is public (any
 * client holding a valid cookie sees it), so looking it up in non-constant time leaks nothing.
 */
function locatorOf(token: string): number {
  let locator = 0;
  for (let i = 0; i < LOCATOR_LENGTH; i++) locator = (locator << 7) | (token.charCodeAt(i) & 0x7f);
  return locator;
}

/**
 * String equality whose running time depends only on the length, so response timing does not reveal
 * how many leading characters of a guess were right.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
