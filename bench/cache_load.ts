/**
 * Cache-hit throughput, same run: this proxy with `cache:` on vs nginx proxy_cache (1 worker), both in front
 * of one backend whose responses are cacheable for an hour, wrk -t1 on one URL that is already cached.
 * Rounds alternate between targets so machine noise hits both alike; the median round is reported.
 *
 *   deno run -A bench/cache_load.ts [--duration 5] [--connections 32] [--rounds 3] [--body 1024]
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

const children: Deno.ChildProcess[] = [];
function spawn(command: string, args: string[]): void {
  children.push(
    new Deno.Command(command, { args, cwd: root, stdin: "null", stdout: "null", stderr: "null" }).spawn(),
  );
}

async function wrk(url: string, seconds: number): Promise<number> {
  const output = await new Deno.Command("wrk", {
    args: ["-t1", `-c${connections}`, `-d${seconds}s`, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  if (/Non-2xx/.test(text)) throw new Error(`errors from ${url}:\n${text}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
}

const deno = Deno.execPath();
const backendPort = freePort();
spawn(deno, ["run", "--allow-net", "bench/cache_backend.ts", String(backendPort), String(bodyBytes)]);
const backend = `http://127.0.0.1:${backendPort}`;

const proxyPort = freePort();
const config = await Deno.makeTempFile({ suffix: ".yaml" });
await Deno.writeTextFile(
  config,
  `server: { host: 127.0.0.1, port: ${proxyPort} }\nbackends: [{ url: "${backend}" }]\n` +
    "cache: { max_size: 1000, ttl: 300s }\n",
);
spawn(deno, ["run", "--allow-net", "--allow-read", "main.ts", "--config", config]);

const nginxDir = await Deno.makeTempDir({ prefix: "nginx-cache-bench-" });
const nginxPort = freePort();
await Deno.writeTextFile(`${nginxDir}/nginx.conf`, nginxConfig(nginxDir, nginxPort, backendPort));
spawn("/usr/sbin/nginx", ["-p", nginxDir, "-c", `${nginxDir}/nginx.conf`]);

const targets: Array<[string, string]> = [
  ["proxy (cache hit)", `http://127.0.0.1:${proxyPort}/cached`],
  ["nginx proxy_cache (hit, 1 worker)", `http://127.0.0.1:${nginxPort}/cached`],
  ["backend direct (bare Deno.serve: the ceiling)", `${backend}/cached`],
];
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
  for (let round = 0; round < rounds; round++) {
    for (const [name, url] of targets) rps.get(name)!.push(await wrk(url, duration));
  }
  const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
  const nginxRps = median(rps.get(targets[1]![0])!);
  console.log(
    `\nwrk -t1 -c${connections} -d${duration}s × ${rounds} rounds · body ${bodyBytes} B · ${
      new Date().toISOString()
    } · ${Deno.build.target} · deno ${Deno.version.deno} · ${navigator.hardwareConcurrency} CPUs\n`,
  );
  console.log("| target | median req/s | rounds | ×nginx |\n|---|---:|---|---:|");
  for (const [name, list] of rps) {
    console.log(
      `| ${name} | ${median(list).toFixed(0)} | ${list.map((n) => n.toFixed(0)).join(", ")} | ${
        (median(list) / nginxRps).toFixed(2)
      } |`,
    );
  }
} finally {
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  }
  await Promise.allSettled(children.map((child) => child.status));
  await Deno.remove(config);
  await Deno.remove(nginxDir, { recursive: true });
}
