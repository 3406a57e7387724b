/**
 * The pipeline-diet comparisons of issue 13, all in one run (targets alternate each round, medians):
 *   cache hit: this proxy (`cache: { max_size: 1000, ttl: 300s }`) vs nginx proxy_cache (1 worker);
 *   pass-through: the proxy's default pipeline vs bench/bare_forwarder.ts (same transport, no middleware);
 *   access log `json` vs off; `rate_limit` (one bucket per client, generous limit) vs off.
 * One worker each, wrk -t1 on loopback; CPU µs per request of each Deno process from /proc.
 *
 *   deno run -A bench/pipeline_load.ts [--duration 5] [--connections 32] [--rounds 3] [--baseline DIR]
 *
 * `--baseline DIR`: also runs DIR/main.ts (an exported older commit, `git archive REV | tar -x -C DIR`) for the
 * default pipeline and the cache hit, so before and after land in the same run.
 *
 * Everything listens on 127.0.0.1; children are stopped by PID before the script exits; the proxies' stdout
 * (the access log) goes to /dev/null.
 */
import { nginxConfig } from "../tests/conformance/cache_conformance.ts";
import { freePort, waitForPort } from "../tests/_support/ports.ts";

const root = new URL("../", import.meta.url).pathname;
const flags = new Map<string, string>();
for (let i = 0; i < Deno.args.length; i += 2) {
  flags.set(Deno.args[i]!.replace(/^--/, ""), Deno.args[i + 1] ?? "");
}
const duration = Number(flags.get("duration") ?? 5);
const connections = Number(flags.get("connections") ?? 32);
const rounds = Number(flags.get("rounds") ?? 3);

const children: Deno.ChildProcess[] = [];
const files: string[] = [];
function spawn(command: string, args: string[]): number {
  const child = new Deno.Command(command, { args, cwd: root, stdin: "null", stdout: "null", stderr: "null" })
    .spawn();
  children.push(child);
  return child.pid;
}

async function cpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const fields = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1]?.split(" ");
    return fields ? (Number(fields[11]) + Number(fields[12])) * 10 : undefined; // CLK_TCK 100
  } catch {
    return undefined;
  }
}

async function wrk(url: string, seconds: number): Promise<{ rps: number; requests: number }> {
  const output = await new Deno.Command("wrk", {
    args: ["-t1", `-c${connections}`, `-d${seconds}s`, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (/Non-2xx|Socket errors/.test(text)) throw new Error(`errors from ${url}:\n${text}`);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN),
    requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN),
  };
}

const deno = Deno.execPath();
const backendPort = freePort();
spawn(deno, ["run", "--allow-net", "bench/backend.ts", String(backendPort)]);
const backend = `http://127.0.0.1:${backendPort}`;
const cachedPort = freePort();
spawn(deno, ["run", "--allow-net", "bench/cache_backend.ts", String(cachedPort), "1024"]);
const cachedBackend = `http://127.0.0.1:${cachedPort}`;

async function proxy(origin: string, extra = "", main = "main.ts"): Promise<[string, number]> {
  const port = freePort();
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  files.push(file);
  await Deno.writeTextFile(
    file,
    `server: { host: 127.0.0.1, port: ${port} }\nbackends: [{ url: "${origin}" }]\n${extra}`,
  );
  return [
    `http://127.0.0.1:${port}`,
    spawn(deno, ["run", "--allow-net", "--allow-read", main, "--config", file]),
  ];
}

const barePort = freePort();
const barePid = spawn(deno, ["run", "--allow-net", "bench/bare_forwarder.ts", String(barePort), backend]);
const nginxDir = await Deno.makeTempDir({ prefix: "nginx-diet-bench-" });
const nginxPort = freePort();
await Deno.writeTextFile(`${nginxDir}/nginx.conf`, nginxConfig(nginxDir, nginxPort, cachedPort));
spawn("/usr/sbin/nginx", ["-p", nginxDir, "-c", `${nginxDir}/nginx.conf`]);

type Target = [name: string, url: string, pid: number | undefined];
const targets: Target[] = [
  ["bare http1 forwarder", `http://127.0.0.1:${barePort}/`, barePid],
  ["proxy default (metrics on, access log off)", ...(await proxy(backend))],
  ["proxy + access_log json", ...(await proxy(backend, "access_log: { format: json }\n"))],
  [
    "proxy + rate_limit (per client, generous)",
    ...(await proxy(backend, "rate_limit: { requests_per_second: 1000000000, burst: 1000000000 }\n")),
  ],
  ["proxy cache hit", ...(await proxy(cachedBackend, "cache: { max_size: 1000, ttl: 300s }\n"))],
  ["nginx proxy_cache hit (1 worker)", `http://127.0.0.1:${nginxPort}/`, undefined],
  ["Deno.serve answering 1 KiB (cache backend direct)", `${cachedBackend}/`, undefined],
];
const baseline = flags.get("baseline");
if (baseline !== undefined) {
  const main = `${baseline.replace(/\/$/, "")}/main.ts`;
  targets.push(["baseline: proxy default", ...(await proxy(backend, "", main))]);
  targets.push([
    "baseline: proxy cache hit",
    ...(await proxy(cachedBackend, "cache: { max_size: 1000, ttl: 300s }\n", main)),
  ]);
}
for (const target of targets) target[1] = target[1].replace(/\/?$/, "/cached");

try {
  for (const [name, url] of targets) {
    await waitForPort(Number(new URL(url).port));
    await (await fetch(url)).arrayBuffer(); // stores the cacheable response
    const check = await fetch(url);
    await check.body?.cancel();
    if (name.includes("hit")) {
      const marker = check.headers.get("x-cache") ?? check.headers.get("x-cache-status");
      if (marker !== "HIT") throw new Error(`${name}: second request not a hit (${marker})`);
    }
    await wrk(url, 2); // warm-up (JIT, pools)
  }
  const samples = new Map(targets.map(([name]) => [name, { rps: [] as number[], cpu: [] as number[] }]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, url, pid] of targets) {
      const before = await cpuMs(pid);
      const result = await wrk(url, duration);
      const after = await cpuMs(pid);
      const sample = samples.get(name)!;
      sample.rps.push(result.rps);
      if (before !== undefined && after !== undefined) {
        sample.cpu.push((after - before) * 1000 / result.requests);
      }
    }
  }
  const median = (list: number[]) => {
    const sorted = [...list].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  };
  const rps = (name: string) => median(samples.get(name)!.rps);
  console.log(
    `\nwrk -t1 -c${connections} -d${duration}s × ${rounds} rounds, medians · ${
      new Date().toISOString()
    } · ${Deno.build.target} · deno ${Deno.version.deno} · ${navigator.hardwareConcurrency} CPUs · load avg ${
      Deno.loadavg().map((n) => n.toFixed(2)).join(" ")
    }\n`,
  );
  console.log("| target | req/s | rounds | CPU µs/req |\n|---|---:|---|---:|");
  for (const [name, sample] of samples) {
    console.log(
      `| ${name} | ${median(sample.rps).toFixed(0)} | ${sample.rps.map((n) => n.toFixed(0)).join(", ")} | ${
        sample.cpu.length ? median(sample.cpu).toFixed(1) : "-"
      } |`,
    );
  }
  const [bare, base, log, limit, hit, nginx, , oldBase, oldHit] = targets.map(([name]) =>
    rps(name)
  ) as number[];
  console.log(`
| ratio (same run) | value | target |
|---|---:|---:|
| cache hit ÷ nginx proxy_cache hit | ${(hit! / nginx!).toFixed(2)} | ≥ 0.75 |
| default pipeline ÷ bare http1 forwarder | ${(base! / bare!).toFixed(2)} | ≥ 0.85 |
| access_log json ÷ off | ${(log! / base!).toFixed(2)} | ≥ 0.90 |
| rate_limit on ÷ off | ${(limit! / base!).toFixed(2)} | ≥ 0.90 |${
    oldBase === undefined ? "" : `
| default pipeline ÷ baseline default pipeline | ${(base! / oldBase).toFixed(2)} | |
| cache hit ÷ baseline cache hit | ${(hit! / oldHit!).toFixed(2)} | |`
  }`);
} finally {
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  }
  await Promise.allSettled(children.map((child) => child.status));
  for (const file of files) await Deno.remove(file).catch(() => {});
  await Deno.remove(nginxDir, { recursive: true }).catch(() => {});
}
