/**
 * End-to-end helpers for the load-balancing tests: three real upstreams on loopback named a, b and c, the real
 * proxy in front of them, and small functions that send requests and report which upstream answered.
 */
import { startProxy, type TestProxy } from "../_support/proxy.ts";
import { startUpstream, type TestUpstream } from "../_support/upstream.ts";
import type { Upstream } from "../../src/upstream/upstream.ts";

export const NAMES = ["a", "b", "c"] as const;
export type Name = (typeof NAMES)[number];

export interface Backend {
  /** Extra keys of the backend's YAML flow mapping, e.g. `weight: 5` or `backup: true`. */
  readonly yaml?: string;
  /** Runs before the upstream answers (a delay, or waiting for a gate). */
  readonly before?: (request: Request) => Promise<void>;
}

export interface Cluster extends AsyncDisposable {
  readonly proxy: TestProxy;
  readonly upstreams: Readonly<Record<Name, TestUpstream>>;
  /** The proxy-side Upstream object (health, in-flight) of backend `name` in pool `pool`. */
  upstream(name: Name, pool?: string): Upstream;
  /** Requests each upstream received, optionally only those whose path starts with `prefix`. */
  counts(prefix?: string): Record<Name, number>;
}

/**
 * Starts upstreams a, b and c, each answering 200 with its name as the body, and the proxy with `yaml(backends)`,
 * where `backends` is the YAML list of the three backends (one `- { url: … }` line each, indented by `indent`).
 */
export function startCluster(
  yaml: (backends: string) => string,
  options: { backends?: Partial<Record<Name, Backend>>; indent?: string } = {},
): Cluster {
  const { backends = {}, indent = "  " } = options;
  const upstreams = {} as Record<Name, TestUpstream>;
  for (const name of NAMES) {
    const before = backends[name]?.before;
    upstreams[name] = startUpstream(async (request) => {
      await before?.(request);
      return new Response(name, { headers: { "content-type": "text/plain" } });
    });
  }
  const list = NAMES.map((name) => {
    const extra = backends[name]?.yaml;
    return `${indent}- { url: "${upstreams[name].url}"${extra ? `, ${extra}` : ""} }`;
  }).join("\n");
  const proxy = startProxy(yaml(list));
  const close = async () => {
    await proxy.close();
    await Promise.all(NAMES.map((name) => upstreams[name].close()));
  };
  return {
    proxy,
    upstreams,
    upstream(name, pool = "default") {
      const runtime = proxy.source.current.pools.get(pool);
      if (runtime === undefined) throw new Error(`no pool ${pool}`);
      const found = runtime.upstreams.find((u) => u.id === upstreams[name].url);
      if (found === undefined) throw new Error(`no upstream ${name} in pool ${pool}`);
      return found;
    },
    counts(prefix = "") {
      const counts = { a: 0, b: 0, c: 0 };
      for (const name of NAMES) {
        counts[name] = upstreams[name].received.filter((r) => r.path.startsWith(prefix)).length;
      }
      return counts;
    },
    [Symbol.asyncDispose]: close,
  };
}

/** One request through the proxy: status, headers, and the name of the upstream that answered ("" if none). */
export async function hit(
  proxy: TestProxy,
  path = "/",
  headers: HeadersInit = {},
): Promise<{ status: number; headers: Headers; name: string }> {
  const response = await fetch(proxy.url + path, { headers });
  const body = await response.text();
  return { status: response.status, headers: response.headers, name: response.ok ? body : "" };
}

/** `count` requests one after another; the names of the upstreams that answered, in order. */
export async function sequence(proxy: TestProxy, count: number, path = "/"): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push((await hit(proxy, path)).name);
  return names;
}

/** Share of each name in `names`, as a fraction of the total. */
export function shares(counts: Record<Name, number>): Record<Name, number> {
  const total = counts.a + counts.b + counts.c;
  return { a: counts.a / total, b: counts.b / total, c: counts.c / total };
}
