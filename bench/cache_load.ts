/**
 * Cache-hit throughput, same run: this proxy with `cache:` on vs nginx proxy_cache (1 worker), both in front
 * of one backend whose responses are cacheable for an hour, wrk -t1 on one URL that is already cached.
 * Rounds alternate between targets so machine noise hits both alike; the median round is reported.
 *
 *   deno run -A bench/cache_load.ts [--duration 5] [--connections 32] [--rounds 3] [--body 1024] [--baseline DIR]
 *
 * Also measures a hit with `Range: bytes=0-99` (a 206 from the store). `--baseline DIR` adds DIR/main.ts (an
 * exported older commit, `git archive REV | tar -x -C DIR`) as a second cache-hit target in the same rounds.
 * CPU µs per request of each proxy process come from /proc (the figure least disturbed by other load).
 *
 * Everything listens on 127.0.0.1; children are stopped by PID before the script exits.
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
const bodyBytes = Number(flags.get("body") ?? 1024);

const baseline = flags.get("baseline");

const children: Deno.ChildProcess[] = [];
function spawn(command: string, args: string[], cwd = root): number {
  const child = new Deno.Command(command, { args, cwd, stdin: "null", stdout: "null", stderr: "null" })
    .spawn();
  children.push(child);
  return child.pid;
}

/** CPU time (user + system) of a process in ms, from /proc (Linux, clock ticks of 10 ms). */
async function cpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const fields = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1]?.split(" ");
    return fields ? (Number(fields[11]) + Number(fields[12])) * 10 : undefined;
  } catch {
    return undefined;
  }
}

interface Run {
  rps: number;
  requests: number;
}

async function wrk(url: string, seconds: number, headers: readonly string[] = []): Promise<Run> {
  const output = await new Deno.Command("wrk", {
    args: ["-t1", `-c${connections}`, `-d${seconds}s`, ...headers.flatMap((h) => ["-H", h]), url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (/Non-2xx/.test(text)) throw new Error(`errors from ${url}:\n${text}`);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN),
    requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN),
  };
}

const deno = Deno.execPath();
const backendPort = freePort();
spawn(deno, ["run", "--allow-net", "bench/cache_backend.ts", String(backendPort), String(bodyBytes)]);
const backend = `http://127.0.0.1:${backendPort}`;

const configs: string[] = [];
/** Starts `dir`/main.ts with the cache on; returns its port and PID. */
async function startProxy(dir: string): Promise<[number, number]> {
  const port = freePort();
  const config = await Deno.makeTempFile({ suffix: ".yaml" });
  configs.push(config);
  await Deno.writeTextFile(
    config,
    `server: { host: 127.0.0.1, port: ${port} }\nbackends: [{ url: "${backend}" }]\n` +
      "cache: { max_size: 1000, ttl: 300s }\n",
  );
  return [port, spawn(deno, ["run", "--allow-net", "--allow-read", "main.ts", "--config", config], dir)];
}
const [proxyPort, proxyPid] = await startProxy(root);

const nginxDir = await Deno.makeTempDir({ prefix: "nginx-cache-bench-" });
const nginxPort = freePort();
await Deno.writeTextFile(`${nginxDir}/nginx.conf`, nginxConfig(nginxDir, nginxPort, backendPort));
spawn("/usr/sbin/nginx", ["-p", nginxDir, "-c", `${nginxDir}/nginx.conf`]);

type Target = [name: string, url: string, pid: number | undefined, headers: readonly string[]];
const targets: Target[] = [
  ["proxy (cache hit)", `http://127.0.0.1:${proxyPort}/cached`, proxyPid, []],
  ["nginx proxy_cache (hit, 1 worker)", `http://127.0.0.1:${nginxPort}/cached`, undefined, []],
  ["backend direct (bare Deno.serve: the ceiling)", `${backend}/cached`, undefined, []],
  ["proxy (cache hit, Range: bytes=0-99 → 206)", `http://127.0.0.1:${proxyPort}/cached`, proxyPid, [
    "Range: bytes=0-99",
  ]],
  ["nginx proxy_cache (hit, Range: bytes=0-99 → 206)", `http://127.0.0.1:${nginxPort}/cached`, undefined, [
    "Range: bytes=0-99",
  ]],
];
if (baseline !== undefined) {
  const [port, pid] = await startProxy(baseline);
  targets.splice(1, 0, [
    `baseline ${baseline}: proxy (cache hit)`,
    `http://127.0.0.1:${port}/cached`,
    pid,
    [],
  ]);
}
try {
  await waitForPort(backendPort);
  for (const [name, url] of targets) {
    await waitForPort(Number(new URL(url).port));
    await (await fetch(url)).arrayBuffer(); // read whole: a cancelled body is never stored
    const check = await fetch(url);
    await check.body?.cancel();
    const hit = check.headers.get("x-cache") ?? check.headers.get("x-cache-status") ??
      check.headers.get("age");
    console.error(
      `${name}: second request status ${check.status}, ${
        hit === null ? "no hit marker" : `hit marker ${hit}`
      }`,
    );
    await wrk(url, 2); // warm-up (JIT)
  }
  const rps = new Map<string, number[]>(targets.map(([name]) => [name, []]));
  const cpu = new Map<string, number[]>(targets.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, url, pid, headers] of targets) {
      const before = await cpuMs(pid);
      const run = await wrk(url, duration, headers);
      const after = await cpuMs(pid);
      rps.get(name)!.push(run.rps);
      if (before !== undefined && after !== undefined) {
        cpu.get(name)!.push((after - before) * 1000 / run.requests);
      }
    }
  }
  const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
  const nginxRps = median(rps.get("nginx proxy_cache (hit, 1 worker)")!);
  console.log(
    `\nwrk -t1 -c${connections} -d${duration}s × ${rounds} rounds · body ${bodyBytes} B · ${
      new Date().toISOString()
    } · ${Deno.build.target} · deno ${Deno.version.deno} · ${navigator.hardwareConcurrency} CPUs\n`,
  );
  console.log("| target | median req/s | rounds | CPU µs/req | ×nginx |\n|---|---:|---|---:|---:|");
  for (const [name, list] of rps) {
    const us = cpu.get(name)!;
    console.log(
      `| ${name} | ${median(list).toFixed(0)} | ${list.map((n) => n.toFixed(0)).join(", ")} | ${
        us.length ? median(us).toFixed(1) : "-"
      } | ${(median(list) / nginxRps).toFixed(2)} |`,
    );
  }
} finally {
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  }
  await Promise.allSettled(children.map((child) => child.status));
  for (const config of configs) await Deno.remove(config);
  await Deno.remove(nginxDir, { recursive: true });
}
