/**
 * Slow clients (slowloris) against the connection guard, loopback only, bounded in time: a legitimate client's
 * p99 with and without N slow connections open, for a proxy with the guard on (`connection_guard: true`) and one with
 * `connection_guard: false`, in the same run.
 *
 *   deno run --allow-net --allow-read --allow-write --allow-run bench/slow_clients.ts \
 *     [--slow 300] [--interval 3] [--duration 8] [--connections 8] [--header-timeout 10s]
 *
 * A slow client sends `GET / HTTP/1.1`, a Host line, then one header byte every --interval seconds and never
 * finishes; when the proxy closes it, it connects again at once (an attacker keeps its count up). Every client
 * here comes from 127.0.0.1, so both proxies run with `max_connections_per_client: 0`: with the default 256 the
 * 257th slow connection and then wrk itself would be refused (503). Printed per proxy: wrk req/s, p50/p99 and
 * errors without and with the slow clients, the proxy's RSS, and how many slow connections it closed.
 */
import { freePort, waitForPort } from "../tests/_support/ports.ts";
const root = new URL("../", import.meta.url).pathname;
const flags = parseFlags(Deno.args);
const slowCount = Number(flags.slow ?? 300);
const intervalS = Number(flags.interval ?? 3);
const duration = Number(flags.duration ?? 8);
const connections = Number(flags.connections ?? 8);
const headerTimeout = flags["header-timeout"] ?? "10s";
const encoder = new TextEncoder();

function parseFlags(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!.replace(/^--/, "")] = list[i + 1]!;
  return out;
}

async function rssMiB(pid: number): Promise<number> {
  const output = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)], stdout: "piped" })
    .output();
  return Number(new TextDecoder().decode(output.stdout).trim()) / 1024;
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

async function wrk(url: string, seconds: number): Promise<WrkResult> {
  const output = await new Deno.Command("wrk", {
    args: ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN),
    p50Ms: toMs(/\s50%\s+(\S+)/.exec(text)?.[1] ?? ""),
    p99Ms: toMs(/\s99%\s+(\S+)/.exec(text)?.[1] ?? ""),
    errors: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0) +
      [...text.matchAll(/(connect|read|write|timeout) (\d+)/g)].reduce((sum, m) => sum + Number(m[2]), 0),
  };
}

const sleep = (ms: number, stop: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    stop.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/** One slow client slot: an unfinished head trickled byte by byte; reconnects when the server closes it. */
async function slowClient(port: number, stop: AbortSignal, closedByServer: () => void): Promise<void> {
  while (!stop.aborted) {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
    } catch {
      await sleep(100, stop);
      continue;
    }
    let open = true;
    const read = conn.read(new Uint8Array(1024)).then(() => {}, () => {}).finally(() => {
      if (open && !stop.aborted) closedByServer();
      open = false;
    });
    try {
      await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: slow.test\r\nX-Slow: "));
      while (open && !stop.aborted) {
        await Promise.race([sleep(intervalS * 1000, stop), read]);
        if (open && !stop.aborted) await conn.write(encoder.encode("a"));
      }
    } catch { /* the server closed it */ }
    open = false;
    try {
      conn.close();
    } catch { /* closed */ }
    await read;
  }
}

const children: Deno.ChildProcess[] = [];
function spawn(args: string[]): Deno.ChildProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  })
    .spawn();
  children.push(child);
  return child;
}

interface Row {
  name: string;
  baseline: WrkResult;
  loaded: WrkResult;
  rssBaseline: number;
  rssSlow: number;
  closed: number;
}

const files: string[] = [];
const rows: Row[] = [];
const backendPort = freePort();
spawn(["run", "--allow-net", "bench/backend.ts", String(backendPort)]);
try {
  await waitForPort(backendPort);
  for (const name of ["guard on", "guard off"]) {
    const port = freePort();
    const file = await Deno.makeTempFile({ suffix: ".yaml" });
    files.push(file);
    const limits = name === "guard on"
      ? `{ connection_guard: true, header_timeout: ${headerTimeout}, max_connections_per_client: 0 }`
      : "{ connection_guard: false }";
    await Deno.writeTextFile(
      file,
      `server: { host: 127.0.0.1, port: ${port} }\nadmin: { port: ${freePort()} }\n` +
        `backends: ["http://127.0.0.1:${backendPort}"]\nlimits: ${limits}\n`,
    );
    const proxy = spawn(["run", "--allow-net", "--allow-read", "main.ts", "--config", file]);
    await waitForPort(port);
    const url = `http://127.0.0.1:${port}/`;
    await wrk(url, 2); // warm-up
    const baseline = await wrk(url, duration);
    const rssBaseline = await rssMiB(proxy.pid);
    const stop = new AbortController();
    let closed = 0;
    const slow: Promise<void>[] = [];
    for (let i = 0; i < slowCount; i++) slow.push(slowClient(port, stop.signal, () => closed++));
    await new Promise((r) => setTimeout(r, 1000)); // all connected and trickling
    const rssSlow = await rssMiB(proxy.pid);
    const loaded = await wrk(url, duration);
    stop.abort();
    await Promise.allSettled(slow);
    rows.push({ name, baseline, loaded, rssBaseline, rssSlow, closed });
    proxy.kill("SIGTERM");
    await proxy.status;
  }
  console.log(
    `\nslow clients · ${slowCount} slow, 1 byte / ${intervalS}s, reconnecting · header_timeout ${headerTimeout} · ` +
      `wrk -t1 -c${connections} -d${duration}s · ${new Date().toISOString()} · deno ${Deno.version.deno}\n`,
  );
  console.log(
    "| proxy | req/s no slow → slow | p99 ms no slow → slow | p99 ratio | errors | RSS MiB no slow → slow | closed by proxy |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.baseline.rps.toFixed(0)} → ${r.loaded.rps.toFixed(0)} | ${
        r.baseline.p99Ms.toFixed(2)
      } → ${r.loaded.p99Ms.toFixed(2)} | ${(r.loaded.p99Ms / r.baseline.p99Ms).toFixed(2)}× | ${
        r.baseline.errors + r.loaded.errors
      } | ${r.rssBaseline.toFixed(1)} → ${r.rssSlow.toFixed(1)} | ${r.closed} |`,
    );
  }
} finally {
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
  }
  await Promise.allSettled(children.map((child) => child.status));
  for (const f of files) await Deno.remove(f).catch(() => {});
}
