/**
 * Runs the external HTTP cache conformance suite (npm `http-cache-tests`, unpatched) against this proxy or
 * against nginx with proxy_cache, the same way: the suite's origin on loopback, the cache in front of it,
 * the suite's client (node-fetch) through the cache. Results are per test id; for the proxy they are compared
 * with the committed baseline and any test that passed there and fails now is a regression.
 *
 *   deno task test:cache-conformance                 # proxy; exit 1 on a regression
 *   deno task test:cache-conformance --update        # rewrite tests/conformance/baseline.json
 *   deno task test:cache-conformance --target nginx  # nginx proxy_cache (/usr/sbin/nginx), report only
 *
 * tests/conformance/cache_conformance_test.ts runs the proxy comparison inside `deno task test`.
 */
import { startProxy } from "../_support/proxy.ts";
export { freePort } from "../_support/ports.ts";
import { freePort } from "../_support/ports.ts";

export const SUITE_VERSION = "0.4.5";
const NODE_FETCH_VERSION = "2.7.0";
const ROOT = new URL("../../", import.meta.url);
const TOOLS = new URL(".tools/cache-tests/", ROOT);
const SUITE_DIR = new URL("node_modules/http-cache-tests/", TOOLS);
const RUNNER = new URL("run_cache_tests.mjs", import.meta.url);
export const BASELINE = new URL("baseline.json", import.meta.url);
const NGINX = "/usr/sbin/nginx";

/** The proxy config the suite runs against: one backend, the cache on, no heuristic freshness. */
export function proxyConfig(originPort: number): string {
  return [
    "server: { port: 0, host: 127.0.0.1 }",
    `backends: [{ url: "http://127.0.0.1:${originPort}" }]`,
    // ttl: 0s — no heuristic freshness for responses without explicit freshness (the suite's README asks
    // for it; heuristics are allowed but mask what the other tests check).
    "cache: { max_size: 10000, ttl: 0s }",
  ].join("\n");
}

export type Outcome = "pass" | "fail" | "setup-fail" | "untested";
export type Kind = "required" | "optimal" | "check";

export interface TestResult {
  readonly suite: string;
  readonly kind: Kind;
  readonly outcome: Outcome;
  readonly detail: string | null;
}

export interface SuiteRun {
  readonly results: Readonly<Record<string, TestResult>>;
  readonly counts: Readonly<Record<string, number>>;
}

/** Baseline file: outcome per test id (kind kept for the summary). */
export interface Baseline {
  readonly suite: string;
  readonly target: string;
  readonly required: { readonly pass: number; readonly total: number };
  readonly results: Readonly<Record<string, { readonly kind: Kind; readonly outcome: Outcome }>>;
}

/** Installs http-cache-tests (pinned) and the node-fetch its client uses into .tools/, once per machine. */
export async function ensureSuite(): Promise<string> {
  const installed = await readJson(new URL("package.json", SUITE_DIR)).catch(() => undefined) as
    | { version?: string }
    | undefined;
  const fetchInstalled = await Deno.stat(new URL("node_modules/node-fetch/package.json", TOOLS)).then(
    () => true,
    () => false,
  );
  if (installed?.version !== SUITE_VERSION || !fetchInstalled) {
    await Deno.mkdir(TOOLS, { recursive: true });
    await run("npm", [
      "install",
      "--prefix",
      TOOLS.pathname,
      "--no-save",
      "--no-package-lock",
      "--no-audit",
      "--no-fund",
      "--omit=dev",
      `http-cache-tests@${SUITE_VERSION}`,
      `node-fetch@${NODE_FETCH_VERSION}`,
    ]);
  }
  return SUITE_DIR.pathname;
}

/** Runs the suite (or the listed ids) against `base`, with the suite's origin on `originPort`. */
export async function runSuite(
  base: string,
  originPort: number,
  ids: readonly string[] = [],
): Promise<SuiteRun> {
  const suite = await ensureSuite();
  const out = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const args = [RUNNER.pathname, "--suite", suite, "--base", base, "--origin-port", String(originPort)];
    if (ids.length === 0) await run("node", [...args, "--out", out]);
    const results: Record<string, TestResult> = {};
    // One id at a time for reruns (the runner takes a single --id).
    for (const id of ids) {
      await run("node", [...args, "--out", out, "--id", id]);
      Object.assign(results, ((await readJson(out)) as SuiteRun).results);
    }
    if (ids.length > 0) return { results, counts: countsOf(results) };
    return (await readJson(out)) as SuiteRun;
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}

/** Runs the suite through this proxy (in-process). */
export async function runAgainstProxy(ids: readonly string[] = []): Promise<SuiteRun> {
  const originPort = freePort();
  await using proxy = startProxy(proxyConfig(originPort));
  const result = await runSuite(proxy.url, originPort, ids);
  await proxy.source.current.cache?.settled();
  return result;
}

/** nginx.conf for proxy_cache in front of `originPort`, every path under `dir`. */
export function nginxConfig(dir: string, port: number, originPort: number): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log error;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  proxy_cache_path ${dir}/cache keys_zone=cache:10m max_size=64m;
  upstream origin { server 127.0.0.1:${originPort}; keepalive 32; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_cache cache;
      proxy_cache_revalidate on;
      add_header X-Cache-Status $upstream_cache_status;
    }
  }
}
`;
}

export interface NginxProcess extends AsyncDisposable {
  readonly url: string;
}

/** Starts nginx (foreground, single process) with proxy_cache in front of `originPort`. */
export async function startNginx(originPort: number): Promise<NginxProcess> {
  const dir = await Deno.makeTempDir({ prefix: "nginx-cache-" });
  const port = freePort();
  await Deno.writeTextFile(`${dir}/nginx.conf`, nginxConfig(dir, port, originPort));
  const child = new Deno.Command(NGINX, {
    args: ["-p", dir, "-c", `${dir}/nginx.conf`],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0;; attempt++) {
    const up = await Deno.connect({ hostname: "127.0.0.1", port }).then(
      (c) => (c.close(), true),
      () => false,
    );
    if (up) break;
    if (attempt > 100) {
      child.kill();
      const { stderr } = await child.output();
      throw new Error(`nginx did not start: ${new TextDecoder().decode(stderr)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.output();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

export async function runAgainstNginx(): Promise<SuiteRun> {
  const originPort = freePort();
  await using nginx = await startNginx(originPort);
  return await runSuite(nginx.url, originPort);
}

export function toBaseline(run: SuiteRun, target: string): Baseline {
  const results: Record<string, { kind: Kind; outcome: Outcome }> = {};
  for (const id of Object.keys(run.results).sort()) {
    const { kind, outcome } = run.results[id]!;
    results[id] = { kind, outcome };
  }
  const required = Object.values(results).filter((r) => r.kind === "required");
  return {
    suite: `http-cache-tests@${SUITE_VERSION}`,
    target,
    required: { pass: required.filter((r) => r.outcome === "pass").length, total: required.length },
    results,
  };
}

/** Test ids that passed in the baseline and do not pass now (missing ids count as not passing). */
export function regressions(baseline: Baseline, run: SuiteRun): string[] {
  return Object.entries(baseline.results)
    .filter(([id, before]) => before.outcome === "pass" && run.results[id]?.outcome !== "pass")
    .map(([id]) => id);
}

export function improvements(baseline: Baseline, run: SuiteRun): string[] {
  return Object.entries(run.results)
    .filter(([id, now]) => now.outcome === "pass" && baseline.results[id]?.outcome !== "pass")
    .map(([id]) => id);
}

/**
 * Runs the suite through the proxy and compares with the baseline. Tests that regress are rerun once on
 * their own: the suite sleeps real seconds between steps, so a loaded machine can fail one by timing.
 */
export async function checkProxyAgainstBaseline(): Promise<
  { run: SuiteRun; regressed: string[]; improved: string[]; baseline: Baseline }
> {
  const baseline = (await readJson(BASELINE)) as Baseline;
  const first = await runAgainstProxy();
  let regressed = regressions(baseline, first);
  let merged = first;
  if (regressed.length > 0) {
    const rerun = await runAgainstProxy(regressed);
    merged = { results: { ...first.results, ...rerun.results }, counts: first.counts };
    regressed = regressions(baseline, merged);
  }
  return { run: merged, regressed, improved: improvements(baseline, merged), baseline };
}

function countsOf(results: Readonly<Record<string, TestResult>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { kind, outcome } of Object.values(results)) {
    counts[`${kind}:${outcome}`] = (counts[`${kind}:${outcome}`] ?? 0) + 1;
  }
  return counts;
}

export function summary(run: SuiteRun): string {
  const required = Object.values(run.results).filter((r) => r.kind === "required");
  const optimal = Object.values(run.results).filter((r) => r.kind === "optimal");
  const pass = (list: TestResult[]) => list.filter((r) => r.outcome === "pass").length;
  return `required ${pass(required)}/${required.length}, optimal ${pass(optimal)}/${optimal.length}`;
}

async function readJson(url: URL | string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(url));
}

async function run(command: string, args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" })
    .output();
  if (code !== 0) {
    throw new Error(
      `${command} ${args.slice(0, 3).join(" ")}… exited ${code}: ${new TextDecoder().decode(stderr)}`,
    );
  }
}

if (import.meta.main) {
  const args = new Set(Deno.args);
  const nginx = Deno.args.includes("--target") && Deno.args[Deno.args.indexOf("--target") + 1] === "nginx";
  if (nginx) {
    const result = await runAgainstNginx();
    console.log(`nginx proxy_cache: ${summary(result)}`);
    if (args.has("--save")) {
      const file = new URL("nginx_results.json", import.meta.url);
      await Deno.writeTextFile(file, JSON.stringify(toBaseline(result, "nginx"), null, 2) + "\n");
    }
  } else if (args.has("--update")) {
    const result = await runAgainstProxy();
    await Deno.writeTextFile(BASELINE, JSON.stringify(toBaseline(result, "proxy"), null, 2) + "\n");
    console.log(`proxy: ${summary(result)} — baseline written`);
  } else {
    const { run, regressed, improved } = await checkProxyAgainstBaseline();
    console.log(`proxy: ${summary(run)}`);
    if (improved.length > 0) console.log(`newly passing (run with --update): ${improved.join(", ")}`);
    if (regressed.length > 0) {
      console.error(`REGRESSIONS against tests/conformance/baseline.json: ${regressed.join(", ")}`);
      Deno.exit(1);
    }
  }
}
