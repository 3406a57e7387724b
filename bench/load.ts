/**
 * End-to-end load comparison, one run, one worker each, wrk -t1 on loopback:
 *   backend direct · naive Deno fetch forwarder (the floor) · this proxy · nginx (when installed)
 * Prints requests/s, p50 and p99 at 32 connections, p50 at 1 connection, and the ratios.
 *
 *   deno task load [--duration 10] [--connections 32] [--accept-encoding gzip] [--proxy-config FILE]
 *
 * Everything listens on 127.0.0.1 and is stopped (by PID) before the script exits.
 */
const root = new URL("../", import.meta.url).pathname;
const args = parseFlags(Deno.args);
const duration = Number(args.duration ?? 10);
const connections = Number(args.connections ?? 32);
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

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listening on ${port}`);
}

const children: Deno.ChildProcess[] = [];
function spawn(command: string, argv: string[]): Deno.ChildProcess {
  const child = new Deno.Command(command, { args: argv, cwd: root, stdin: "null", stdout: "null", stderr: "null" })
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
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function toMs(value: string): number {
  const match = /([\d.]+)(us|ms|s)/.exec(value);
  if (!match) return NaN;
  const n = Number(match[1]);
  return match[2] === "us" ? n / 1000 : match[2] === "s" ? n * 1000 : n;
}

async function wrk(url: string, conns: number, seconds: number): Promise<WrkResult> {
  const output = await new Deno.Command("wrk", {
    args: ["-t1", `-c${conns}`, `-d${seconds}s`, "--latency", ...extraHeader, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(text)?.[1] ?? "");
  const p99 = toMs(/\s99%\s+(\S+)/.exec(text)?.[1] ?? "");
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0) +
    [...text.matchAll(/(connect|read|write|timeout) (\d+)/g)].reduce((sum, m) => sum + Number(m[2]), 0);
  return { rps, p50Ms: p50, p99Ms: p99, errors };
}

if (!(await which("wrk"))) {
  console.error("load: wrk is not installed (apt-get install wrk)");
  Deno.exit(2);
}
const deno = Deno.execPath();
const backendPort = freePort();
spawn(deno, ["run", "--allow-net", "bench/backend.ts", String(backendPort)]);
await waitForPort(backendPort);
const backend = `http://127.0.0.1:${backendPort}`;

const naivePort = freePort();
spawn(deno, ["run", "--allow-net", "bench/naive_forwarder.ts", String(naivePort), backend]);

const proxyPort = freePort();
const configFile = await Deno.makeTempFile({ suffix: ".yaml" });
await Deno.writeTextFile(
  configFile,
  args["proxy-config"]
    ? (await Deno.readTextFile(args["proxy-config"])).replaceAll("${BACKEND}", backend).replaceAll(
      "${PORT}",
      String(proxyPort),
    )
    : `server: { host: 127.0.0.1, port: ${proxyPort} }\nbackends:\n  - url: "${backend}"\n`,
);
spawn(deno, ["run", "--allow-net", "--allow-read", "main.ts", "--config", configFile]);

const targets: [string, string][] = [
  ["backend (direct)", backend],
  ["naive fetch forwarder", `http://127.0.0.1:${naivePort}`],
  ["proxy", `http://127.0.0.1:${proxyPort}`],
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
  targets.push(["nginx (proxy_pass, 1 worker)", `http://127.0.0.1:${nginxPort}`]);
}

try {
  for (const [, url] of targets) await waitForPort(Number(new URL(url).port));
  const results = new Map<string, { loaded: WrkResult; single: WrkResult }>();
  for (const [name, url] of targets) {
    await wrk(url, connections, 2); // warm-up (JIT, connection pools)
    const loaded = await wrk(url, connections, duration);
    const single = await wrk(url, 1, Math.max(3, Math.round(duration / 2)));
    results.set(name, { loaded, single });
  }
  const floor = results.get("naive fetch forwarder")!;
  const direct = results.get("backend (direct)")!;
  const nginxResult = [...results.entries()].find(([name]) => name.startsWith("nginx"))?.[1];
  console.log(
    `\nwrk -t1 -c${connections} -d${duration}s${extraHeader.length ? ` ${extraHeader.join(" ")}` : ""} · ${
      new Date().toISOString()
    } · ${Deno.build.target} · deno ${Deno.version.deno}\n`,
  );
  console.log("| target | req/s | p50 ms | p99 ms | errors | p50 ms @1 conn | added p50 @1 conn | ×naive | ×nginx |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const [name, { loaded, single }] of results) {
    const added = name === "backend (direct)" ? "-" : (single.p50Ms - direct.single.p50Ms).toFixed(3);
    console.log(
      `| ${name} | ${loaded.rps.toFixed(0)} | ${loaded.p50Ms.toFixed(2)} | ${loaded.p99Ms.toFixed(2)} | ${loaded.errors} | ${
        single.p50Ms.toFixed(3)
      } | ${added} | ${(loaded.rps / floor.loaded.rps).toFixed(2)} | ${
        nginxResult ? (loaded.rps / nginxResult.loaded.rps).toFixed(2) : "-"
      } |`,
    );
  }
} finally {
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
  }
  await Promise.allSettled(children.map((child) => child.status));
  await Deno.remove(configFile).catch(() => {});
  if (nginxDir) await Deno.remove(nginxDir, { recursive: true }).catch(() => {});
}
