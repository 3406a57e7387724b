/**
 * Per-request values kept in Hono's variable map (`c.set`/`c.get`, as the request path did before) vs in a
 * RequestState passed as `c.env` (src/request_state.ts), in one run. Each case builds a Hono Context, as a
 * request does, and makes the sets and reads a request makes on that path: a cache hit sets 7 values and
 * reads 12, a forwarded request sets 8 and reads 18.
 *
 *   deno bench bench/state_bench.ts
 */
import { Context } from "hono";
import { parseConfig } from "../src/config/load_config.ts";
import { RequestState } from "../src/request_state.ts";
import { Runtime } from "../src/runtime.ts";

const runtime = new Runtime(parseConfig('backends: ["http://127.0.0.1:1"]', "bench.yaml"));
const route = runtime.router.match("GET", "example.test", "/")!;
const upstream = route.pool.upstreams[0]!;
const request = new Request("http://example.test/");
const info = { remoteAddr: { transport: "tcp" as const, hostname: "127.0.0.1", port: 40000 } };
let sink = 0;

type Kept = "runtime" | "peerIp" | "trusted" | "requestId" | "pathAndQuery" | "route" | "cacheStatus";
type Read = Kept | "upstream" | "attempts";
const SETS_HIT: Kept[] = [
  "runtime",
  "peerIp",
  "trusted",
  "requestId",
  "pathAndQuery",
  "route",
  "cacheStatus",
];
const READS_HIT: Read[] = [
  "runtime",
  "pathAndQuery",
  "pathAndQuery",
  "runtime",
  "route",
  "runtime",
  "runtime",
  "requestId",
  "runtime",
  "route",
  "upstream",
  "attempts",
];
const READS_FORWARD: Read[] = [
  ...READS_HIT.slice(0, 6),
  "runtime",
  "route",
  "requestId",
  "peerIp",
  "trusted",
  "pathAndQuery",
  "pathAndQuery",
  "peerIp",
  "trusted",
  ...READS_HIT.slice(9),
  "runtime",
];
const values: Record<Read, unknown> = {
  runtime,
  peerIp: "127.0.0.1",
  trusted: false,
  requestId: "0123abcd-0123-4123-8123-000000000001",
  pathAndQuery: "/",
  route,
  cacheStatus: "hit",
  upstream,
  attempts: 1,
};

function viaMap(sets: readonly Read[], reads: readonly Read[]): void {
  const c = new Context(request, { env: info });
  const set = c.set as (key: string, value: unknown) => void;
  const get = c.get as (key: string) => unknown;
  for (const key of sets) set(key, values[key]);
  for (const key of reads) sink += get(key) === undefined ? 0 : 1;
}

function viaState(forwarded: boolean, reads: readonly Read[]): void {
  const state = new RequestState(runtime, info);
  const c = new Context(request, { env: state });
  const s = c.env;
  s.peerIp = "127.0.0.1";
  s.trusted = false;
  s.requestId = "0123abcd-0123-4123-8123-000000000001";
  s.pathAndQuery = "/";
  s.route = route;
  if (forwarded) {
    s.upstream = upstream;
    s.attempts = 1;
  } else s.cacheStatus = "hit";
  for (const key of reads) sink += c.env[key] === undefined ? 0 : 1;
}

Deno.bench("cache hit, Hono variable map", { group: "hit", baseline: true }, () => {
  viaMap(SETS_HIT, READS_HIT);
});
Deno.bench("cache hit, RequestState as c.env", { group: "hit" }, () => {
  viaState(false, READS_HIT);
});
const SETS_FORWARD: Read[] = [...SETS_HIT.slice(0, 6), "upstream", "attempts"];
Deno.bench("forwarded, Hono variable map", { group: "forward", baseline: true }, () => {
  viaMap(SETS_FORWARD, READS_FORWARD);
});
Deno.bench("forwarded, RequestState as c.env", { group: "forward" }, () => {
  viaState(true, READS_FORWARD);
});
addEventListener("unload", () => {
  if (sink < 0) console.log(sink);
});
