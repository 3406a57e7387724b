/**
 * Route table compiled once per config. Lookup cost depends on the request's host labels and path segments,
 * never on the number of routes: hosts are hash lookups (exact, then each `*.suffix` from the most specific),
 * paths walk a segment trie (exact beats the longest prefix), then methods filter in config order.
 *
 * Pure module: no Hono, no Deno APIs.
 */

export interface RouteSpec<T> {
  /** Exact host or `*.suffix`; lower case; undefined = any host. */
  readonly host?: string | undefined;
  /** Exact path; undefined with no prefix = any path. */
  readonly path?: string | undefined;
  /** Segment-aware prefix without trailing slash (`/api`). */
  readonly pathPrefix?: string | undefined;
  /** Upper-case methods; undefined = any method. */
  readonly methods?: readonly string[] | undefined;
  readonly value: T;
}

/** Why a lookup went where it did, for the explain endpoint. */
export interface MatchStep {
  readonly host: string;
  readonly path: string;
  readonly outcome: "matched" | "method_mismatch" | "no_route";
}

interface Slot<T> {
  readonly methods: ReadonlySet<string> | undefined;
  readonly value: T;
}

class TrieNode<T> {
  readonly children = new Map<string, TrieNode<T>>();
  /** Routes whose prefix ends at this node. */
  prefix: Slot<T>[] | undefined;
}

class PathTable<T> {
  readonly exact = new Map<string, Slot<T>[]>();
  readonly root = new TrieNode<T>();

  add(spec: RouteSpec<T>): void {
    const slot: Slot<T> = { methods: spec.methods ? new Set(spec.methods) : undefined, value: spec.value };
    if (spec.path !== undefined) {
      const list = this.exact.get(spec.path) ?? [];
      list.push(slot);
      this.exact.set(spec.path, list);
      return;
    }
    let node = this.root;
    for (const segment of segments(spec.pathPrefix ?? "/")) {
      let child = node.children.get(segment);
      if (!child) node.children.set(segment, child = new TrieNode());
      node = child;
    }
    (node.prefix ??= []).push(slot);
  }

  find(method: string, path: string, hostLabel: string, trace: MatchStep[] | undefined): T | undefined {
    const exact = this.exact.get(path);
    if (exact) {
      const hit = pickMethod(exact, method);
      trace?.push({ host: hostLabel, path, outcome: hit === undefined ? "method_mismatch" : "matched" });
      if (hit !== undefined) return hit.value;
    }
    // Walk down the trie remembering every node that holds prefix routes; try the deepest first.
    const found: { node: TrieNode<T>; depth: number }[] = [];
    let node: TrieNode<T> | undefined = this.root;
    if (node.prefix) found.push({ node, depth: 0 });
    let start = 1;
    let depth = 0;
    while (node && start <= path.length) {
      let end = path.indexOf("/", start);
      if (end < 0) end = path.length;
      node = node.children.get(path.slice(start, end));
      depth = end;
      if (node?.prefix) found.push({ node, depth });
      start = end + 1;
    }
    for (let i = found.length - 1; i >= 0; i--) {
      const { node: n, depth: d } = found[i]!;
      const hit = pickMethod(n.prefix!, method);
      trace?.push({
        host: hostLabel,
        path: `${path.slice(0, d) || "/"}*`,
        outcome: hit === undefined ? "method_mismatch" : "matched",
      });
      if (hit !== undefined) return hit.value;
    }
    return undefined;
  }
}

function pickMethod<T>(slots: readonly Slot<T>[], method: string): Slot<T> | undefined {
  for (const slot of slots) if (!slot.methods || slot.methods.has(method)) return slot;
  return undefined;
}

function segments(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  return trimmed === "" ? [] : trimmed.split("/");
}

export class Router<T> {
  readonly #exactHosts = new Map<string, PathTable<T>>();
  readonly #wildcardHosts = new Map<string, PathTable<T>>();
  readonly #anyHost = new PathTable<T>();
  readonly #fallback: T | undefined;

  /** Routes in config order (earlier wins among equally specific ones); `fallback` answers when none match. */
  constructor(routes: readonly RouteSpec<T>[], fallback?: T) {
    for (const route of routes) {
      const host = route.host?.toLowerCase();
      let table = this.#anyHost;
      if (host?.startsWith("*.")) {
        const suffix = host.slice(1); // keep the dot: "*.example.com" → ".example.com"
        table = this.#wildcardHosts.get(suffix) ?? new PathTable();
        this.#wildcardHosts.set(suffix, table);
      } else if (host !== undefined) {
        table = this.#exactHosts.get(host) ?? new PathTable();
        this.#exactHosts.set(host, table);
      }
      table.add(route);
    }
    this.#fallback = fallback;
  }

  /**
   * Finds the route for a request. `host` may carry a port and any case; `path` is the URL pathname.
   * Pass `trace` to collect every candidate tried.
   */
  match(method: string, host: string, path: string, trace?: MatchStep[]): T | undefined {
    const name = normalizeHost(host);
    const exact = this.#exactHosts.get(name);
    if (exact) {
      const hit = exact.find(method, path, name, trace);
      if (hit !== undefined) return hit;
    }
    if (this.#wildcardHosts.size > 0) {
      for (let dot = name.indexOf("."); dot >= 0; dot = name.indexOf(".", dot + 1)) {
        const suffix = name.slice(dot);
        const table = this.#wildcardHosts.get(suffix);
        if (table) {
          const hit = table.find(method, path, `*${suffix}`, trace);
          if (hit !== undefined) return hit;
        }
      }
    }
    const any = this.#anyHost.find(method, path, "*", trace);
    if (any !== undefined) return any;
    trace?.push({
      host: "*",
      path: "(fallback)",
      outcome: this.#fallback === undefined ? "no_route" : "matched",
    });
    return this.#fallback;
  }
}

/** Lower-cases a Host header value and drops its port (`Example.com:8080` → `example.com`, `[::1]:80` → `[::1]`). */
export function normalizeHost(host: string): string {
  let end = host.length;
  if (host.charCodeAt(0) === 91 /* [ */) {
    end = host.indexOf("]") + 1 || host.length;
  } else {
    const colon = host.lastIndexOf(":");
    if (colon >= 0) end = colon;
  }
  let name = host.slice(0, end);
  if (name.endsWith(".")) name = name.slice(0, -1);
  return name.toLowerCase();
}
