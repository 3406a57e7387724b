/**
 * End-to-end load comparison, one run, one worker each, wrk -t1 on loopback:
 *   backend direct · naive Deno fetch forwarder (the floor) · bare http1 forwarder (src/transport, no middleware)
 *   · this proxy with `transport: http1` (default) · this proxy with `transport: fetch` · nginx (when installed)
 *   · cache hits: this proxy (`cache:`) vs nginx proxy_cache, both in front of bench/cache_backend.ts, and
 *     Deno.serve sending one of the proxy's hits verbatim (bench/hit_floor.ts: the floor under a hit)
 *   · @fastify/http-proxy 11 on Node (npm-installed into bench/.fastify on first run; skipped when that fails)
 * Prints requests/s, p50 and p99 at 32 connections, p50 at 1 connection, and the ratios.
 *
 *   deno task load [--duration 10] [--connections 32] [--rounds 3] [--accept-encoding gzip] [--proxy-config FILE]
 *                  [--path /1m | /chunked] [--only prototype,bare,http1]  (name substrings; naive always)   (bench/backend.ts: 1 MiB with Content-Length, 256 KiB chunked)
 *
 * Targets are measured in alternating rounds (drift on a shared machine hits all of them alike); the table shows
 * medians, and CPU µs per request of each Deno process (from /proc; the number least disturbed by other load).
 *
 * Everything listens on 127.0.0.1 and is stopped (by PID) before the script exits.
 */
import { nginxConfig as nginxCacheConfig } from "../tests/conformance/cache_conformance.ts";
import { freePort, waitForPort } from "../tests/_support/ports.ts";
const root = new URL("../", import.meta.url).pathname;
const args = parseFlags(Deno.args);
const duration = Number(args.duration ?? 10);
const connections = Number(args.connections ?? 32);
const rounds = Number(args.rounds ?? 3);
const path = args.path ?? "/";
const extraHeader = args["accept-encoding"] ? ["-H", `Accept-Encoding: ${args["accept-encoding"]}`] : [];

function parseFlags(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < list.length; i++) {
    const key = list[i]!.replace(/^--/, "");
    out[key] = list[i + 1] ?? "";
    i++;
  }
  return out;
}

const children: Deno.ChildProcess[] = [];
/**
 * CPU time (user + system) of a process in ms, from /proc (Linux); undefined elsewhere. Read through `cat`:
 * Deno 2.9 grants reads under /proc only with --allow-all.
 */
async function cpuMs(pid: number): Promise<number | undefined> {
  try {
    const output = await new Deno.Command("cat", {
      args: [`/proc/${pid}/stat`],
      stdout: "piped",
      stderr: "null",
    })
      .output();
    const fields = new TextDecoder().decode(output.stdout).split(") ")[1]?.split(" ");
    if (!fields) return undefined;
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms (CLK_TCK 100)
  } catch {
    return undefined;
  }
}
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
function spawn(command: string, argv: string[]): Deno.ChildProcess {
  const child = new Deno.Command(command, {
    args: argv,
    cwd: root,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  })
    .spawn();
  children.push(child);
  return child;
}

async function which(name: string): Promise<string | undefined> {
  for (const dir of ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]) {
    try {
      await Deno.stat(`${dir}/${name}`);
      return `${dir}/${name}`;
    } catch { /* next */ }
  }
  return undefined;
}

interface WrkResult {
  rps: number;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** wrk's Transfer/sec in MiB/s. */
  mbps: number;
}

function toMs(value: string): number {
  const match = /([\d.]+)(us|ms|s)/.exec(value);
  if (!match) return NaN;
  const n = Number(match[1]);
  return match[2] === "us" ? n / 1000 : match[2] === "s" ? n * 1000 : n;
}

async function wrk(url: string, conns: number, seconds: number): Promise<WrkResult> {
  const output = await new Deno.Command("wrk", {
    args: ["-t1", `-c${conns}`, `-d${seconds}s`, "--latency", ...extraHeader, url + path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const transfer = /Transfer\/sec:\s+([\d.]+)(KB|MB|GB|B)/.exec(text);
  const mbps = transfer
    ? Number(transfer[1]) * ({ B: 1 / 1048576, KB: 1 / 1024, MB: 1, GB: 1024 }[transfer[2]!] ?? 1)
    : NaN;
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(text)?.[1] ?? "");
  const p99 = toMs(/\s99%\s+(\S+)/.exec(text)?.[1] ?? "");
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0) +
    [...text.matchAll(/(connect|read|write|timeout) (\d+)/g)].reduce((sum, m) => sum + Number(m[2]), 0);
  return { rps, requests, p50Ms: p50, p99Ms: p99, errors, mbps };
}

if (!(await which("wrk"))) {
  console.error("load: wrk is not installed (apt-get install wrk)");
  Deno.exit(2);
}
const deno = Deno.execPath();
const backendPort = freePort();
const backendPid = spawn(deno, ["run", "--allow-net", "bench/backend.ts", String(backendPort)]).pid;
await waitForPort(backendPort);
const backend = `http://127.0.0.1:${backendPort}`;

const naivePort = freePort();
const naivePid =
  spawn(deno, ["run", "--allow-net", "bench/naive_forwarder.ts", String(naivePort), backend]).pid;

/** Starts main.ts on a fresh port; `transport` is appended as a top-level key (the default pool's transport). */
async function startProxy(transport: "http1" | "fetch"): Promise<[string, number]> {
  const port = freePort();
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  configFiles.push(file);
  const base = args["proxy-config"]
    ? (await Deno.readTextFile(args["proxy-config"])).replaceAll("${BACKEND}", backend).replaceAll(
      "${PORT}",
      String(port),
    )
    : `server: { host: 127.0.0.1, port: ${port} }\nbackends:\n  - url: "${backend}"\n`;
  await Deno.writeTextFile(file, `${base.trimEnd()}\ntransport: ${transport}\n`);
  const pid = spawn(deno, ["run", "--allow-net", "--allow-read", "main.ts", "--config", file]).pid;
  return [`http://127.0.0.1:${port}`, pid];
}
const configFiles: string[] = [];
const barePort = freePort();
const barePid = spawn(deno, ["run", "--allow-net", "bench/bare_forwarder.ts", String(barePort), backend]).pid;
const protoPort = freePort();
const protoPid =
  spawn(deno, ["run", "--allow-net", "bench/prototype_forwarder.ts", String(protoPort), backend]).pid;
const [http1Url, http1Pid] = await startProxy("http1");
const [fetchUrl, fetchPid] = await startProxy("fetch");

const targets: [string, string, number | undefined][] = [
  ["backend (direct)", backend, backendPid],
  ["naive fetch forwarder", `http://127.0.0.1:${naivePort}`, naivePid],
  ["40-line prototype (Deno.connect)", `http://127.0.0.1:${protoPort}`, protoPid],
  ["bare http1 forwarder", `http://127.0.0.1:${barePort}`, barePid],
  ["proxy, transport: http1", http1Url, http1Pid],
  ["proxy, transport: fetch", fetchUrl, fetchPid],
];

const nginx = await which("nginx");
let nginxDir: string | undefined;
if (nginx) {
  nginxDir = await Deno.makeTempDir();
  const nginxPort = freePort();
  await Deno.writeTextFile(
    `${nginxDir}/nginx.conf`,
    `worker_processes 1;
pid ${nginxDir}/nginx.pid;
error_log ${nginxDir}/error.log;
daemon off;
events { worker_connections 1024; }
http {
  access_log off;
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`,
  );
  spawn(nginx, ["-p", nginxDir, "-c", `${nginxDir}/nginx.conf`]);
  targets.push(["nginx (proxy_pass, 1 worker)", `http://127.0.0.1:${nginxPort}`, undefined]);
  // Cache hits (issue 13): one cacheable backend (public, max-age=3600, 1 KiB), the proxy with `cache:` and
  // nginx proxy_cache in front of it; the warm-up's first request stores the entry, every later one is a hit.
  const cachedPort = freePort();
  spawn(deno, ["run", "--allow-net", "bench/cache_backend.ts", String(cachedPort), "1024"]);
  const cachePort = freePort();
  const cacheFile = await Deno.makeTempFile({ suffix: ".yaml" });
  configFiles.push(cacheFile);
  await Deno.writeTextFile(
    cacheFile,
    `server: { host: 127.0.0.1, port: ${cachePort} }\nbackends: [{ url: "http://127.0.0.1:${cachedPort}" }]\n` +
      "cache: { max_size: 1000, ttl: 300s }\n",
  );
  const cachePid = spawn(deno, ["run", "--allow-net", "--allow-read", "main.ts", "--config", cacheFile]).pid;
  const nginxCachePort = freePort();
  await Deno.mkdir(`${nginxDir}/cached`);
  await Deno.writeTextFile(
    `${nginxDir}/cached/nginx.conf`,
    nginxCacheConfig(`${nginxDir}/cached`, nginxCachePort, cachedPort),
  );
  spawn(nginx, ["-p", `${nginxDir}/cached`, "-c", `${nginxDir}/cached/nginx.conf`]);
  targets.push(["proxy, cache hit", `http://127.0.0.1:${cachePort}`, cachePid]);
  // The floor under a hit: Deno.serve sending one hit's exact status, fields and body (bench/hit_floor.ts).
  const floorPort = freePort();
  const floorArgs = [
    "run",
    "--allow-net",
    "bench/hit_floor.ts",
    String(floorPort),
    `http://127.0.0.1:${cachePort}/`,
  ];
  targets.push([
    "Deno.serve sending a hit's bytes",
    `http://127.0.0.1:${floorPort}`,
    spawn(deno, floorArgs).pid,
  ]);
  targets.push(["nginx proxy_cache hit (1 worker)", `http://127.0.0.1:${nginxCachePort}`, undefined]);
}

// @fastify/http-proxy on Node (installed at run time into bench/.fastify; skipped when npm cannot install it).
const fastifyDir = `${root}bench/.fastify`;
async function fastifyReady(): Promise<boolean> {
  try {
    await Deno.stat(`${fastifyDir}/node_modules/@fastify/http-proxy/package.json`);
    return true;
  } catch { /* install below */ }
  await Deno.mkdir(fastifyDir, { recursive: true });
  await Deno.writeTextFile(`${fastifyDir}/.gitignore`, "*\n");
  const install = await new Deno.Command("npm", {
    args: [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefix",
      fastifyDir,
      "fastify@5",
      "@fastify/http-proxy@11",
    ],
    stdout: "null",
    stderr: "null",
    signal: AbortSignal.timeout(120_000),
  }).output().catch(() => undefined);
  return install?.success === true;
}
const wantFastify = !args.only || args.only.includes("fastify");
if (wantFastify && (await which("node")) && await fastifyReady()) {
  const fastifyPort = freePort();
  await Deno.writeTextFile(
    `${fastifyDir}/server.cjs`,
    `const app = require("fastify")({ logger: false });
app.register(require("@fastify/http-proxy"), { upstream: ${JSON.stringify(backend)} });
app.listen({ host: "127.0.0.1", port: ${fastifyPort} });
`,
  );
  const node = (await which("node"))!;
  targets.push([
    "@fastify/http-proxy (Node)",
    `http://127.0.0.1:${fastifyPort}`,
    spawn(node, [`${fastifyDir}/server.cjs`]).pid,
  ]);
} else if (wantFastify) console.error("@fastify/http-proxy: not installable, skipped");

// --only a,b: measure only the targets whose names contain one of these words (backend and the naive floor always).
if (args.only) {
  const words = args.only.split(",");
  const keep = targets.filter(([name]) =>
    name === "naive fetch forwarder" || name === "backend (direct)" || words.some((w) => name.includes(w))
  );
  targets.splice(0, targets.length, ...keep);
}
try {
  for (const [, url] of targets) await waitForPort(Number(new URL(url).port));
  interface Sample {
    loaded: WrkResult[];
    single: WrkResult[];
    cpuUsPerRequest: number[];
  }
  const results = new Map<string, Sample>(
    targets.map(([name]) => [name, { loaded: [], single: [], cpuUsPerRequest: [] }]),
  );
  for (const [, url] of targets) await wrk(url, connections, 2); // warm-up (JIT, connection pools)
  for (let round = 0; round < rounds; round++) {
    for (const [name, url, pid] of targets) {
      const sample = results.get(name)!;
      const before = pid === undefined ? undefined : await cpuMs(pid);
      const loaded = await wrk(url, connections, duration);
      const after = pid === undefined ? undefined : await cpuMs(pid);
      sample.loaded.push(loaded);
      if (before !== undefined && after !== undefined) {
        sample.cpuUsPerRequest.push(((after - before) * 1000) / loaded.requests);
      }
      sample.single.push(await wrk(url, 1, Math.max(2, Math.round(duration / 3))));
    }
  }
  const summary = new Map(
    [...results].map(([name, sample]) => [name, {
      rps: median(sample.loaded.map((r) => r.rps)),
      p50Ms: median(sample.loaded.map((r) => r.p50Ms)),
      p99Ms: median(sample.loaded.map((r) => r.p99Ms)),
      errors: sample.loaded.reduce((sum, r) => sum + r.errors, 0),
      mbps: median(sample.loaded.map((r) => r.mbps)),
      singleP50Ms: median(sample.single.map((r) => r.p50Ms)),
      cpu: sample.cpuUsPerRequest.length ? median(sample.cpuUsPerRequest) : undefined,
    }]),
  );
  const floor = summary.get("naive fetch forwarder")!;
  const direct = summary.get("backend (direct)")!;
  const nginxResult = [...summary.entries()].find(([name]) => name.startsWith("nginx"))?.[1];
  console.log(
    `\nwrk -t1 -c${connections} -d${duration}s × ${rounds} rounds, medians${
      extraHeader.length ? ` · ${extraHeader.join(" ")}` : ""
    } · path ${path} · ${
      new Date().toISOString()
    } · ${Deno.build.target} · deno ${Deno.version.deno} · load avg ${
      Deno.loadavg().map((n) => n.toFixed(2)).join(" ")
    }\n`,
  );
  console.log(
    "| target | req/s | MiB/s | p50 ms | p99 ms | errors | CPU µs/req | p50 ms @1 conn | added p50 @1 conn | ×naive | ×nginx |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const [name, r] of summary) {
    const added = name === "backend (direct)" ? "-" : (r.singleP50Ms - direct.singleP50Ms).toFixed(3);
    console.log(
      `| ${name} | ${r.rps.toFixed(0)} | ${r.mbps.toFixed(1)} | ${r.p50Ms.toFixed(2)} | ${
        r.p99Ms.toFixed(2)
      } | ${r.errors} | ${r.cpu === undefined ? "-" : r.cpu.toFixed(0)} | ${
        r.singleP50Ms.toFixed(3)
      } | ${added} | ${(r.rps / floor.rps).toFixed(2)} | ${
        nginxResult ? (r.rps / nginxResult.rps).toFixed(2) : "-"
      } |`,
    );
  }
  const cacheHit = summary.get("proxy, cache hit");
  const nginxHit = summary.get("nginx proxy_cache hit (1 worker)");
  if (cacheHit && nginxHit) {
    console.log(
      `\ncache hit: proxy ÷ nginx proxy_cache = ${(cacheHit.rps / nginxHit.rps).toFixed(2)} (same run)`,
    );
  }
  const hitFloor = summary.get("Deno.serve sending a hit's bytes");
  if (cacheHit && hitFloor && nginxHit) {
    console.log(
      `cache hit: proxy ÷ Deno.serve sending its bytes = ${(cacheHit.rps / hitFloor.rps).toFixed(2)}; ` +
        `that floor ÷ nginx proxy_cache = ${(hitFloor.rps / nginxHit.rps).toFixed(2)}`,
    );
  }
} finally {
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
  }
  await Promise.allSettled(children.map((child) => child.status));
  for (const file of configFiles) await Deno.remove(file).catch(() => {});
  if (nginxDir) await Deno.remove(nginxDir, { recursive: true }).catch(() => {});
}
