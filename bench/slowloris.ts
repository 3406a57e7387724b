/**
 * Slowloris measurement, loopback only, stops by itself: what N slow clients (request headers trickled one
 * byte every few seconds, never finished) do to legitimate traffic through the proxy.
 *
 *   deno run --allow-net --allow-read --allow-write --allow-run bench/slowloris.ts \
 *     [--slow 300] [--interval 3] [--duration 10] [--connections 8] [--per-client 0] [--guard on|off]
 *
 * Phases: wrk against the proxy with no slow clients (baseline), then with N slow clients open (each sends
 * `GET / HTTP/1.1`, a Host line, then one header byte every --interval seconds). Prints wrk p50/p99 and req/s,
 * the proxy's RSS, and how many slow connections the proxy closed. The backend and the proxy run as child
 * processes (main.ts) and are stopped by PID before the script exits.
 */
import { freePort, waitForPort } from "../tests/_support/ports.ts";
const root = new URL("../", import.meta.url).pathname;
const flags = parseFlags(Deno.args);
const slowCount = Number(flags.slow ?? 300);
const intervalS = Number(flags.interval ?? 3);
const duration = Number(flags.duration ?? 10);
const connections = Number(flags.connections ?? 8);
const encoder = new TextEncoder();

function parseFlags(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!.replace(/^--/, "")] = list[i + 1]!;
  return out;
}

/** Resident set size of a process, via ps (reading /proc/PID needs --allow-all in Deno 2.9). */
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

/** One slow client: an unfinished request head, one more byte every interval, until `stop` or the server closes. */
async function slowClient(port: number, stop: AbortSignal, closedByServer: () => void): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let open = true;
  conn.read(new Uint8Array(1024)).then(
    () => {
      if (open && !stop.aborted) closedByServer();
      open = false;
    },
    () => {
      if (open && !stop.aborted) closedByServer();
      open = false;
    },
  );
  try {
    await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: slow.test\r\nX-Slow: "));
    while (open && !stop.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalS * 1000);
        stop.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      if (open && !stop.aborted) await conn.write(encoder.encode("a"));
    }
  } catch {
    /* the server closed it */
  } finally {
    open = false;
    try {
      conn.close();
    } catch { /* closed */ }
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

const backendPort = freePort();
spawn(["run", "--allow-net", "bench/backend.ts", String(backendPort)]);
const proxyPort = freePort();
const configFile = await Deno.makeTempFile({ suffix: ".yaml" });
await Deno.writeTextFile(
  configFile,
  `server: { host: 127.0.0.1, port: ${proxyPort} }\nbackends: ["http://127.0.0.1:${backendPort}"]\n` +
    // Every client here is 127.0.0.1: a per-client cap would refuse the legitimate client with the slow ones.
    `limits: { max_connections_per_client: ${Number(flags["per-client"] ?? 0)}${
      flags.guard === "off" ? ", connection_guard: false" : ", connection_guard: true"
    } }\n`,
);
const proxy = spawn(["run", "--allow-net", "--allow-read", "main.ts", "--config", configFile]);
const stop = new AbortController();
const slow: Promise<void>[] = [];
try {
  await waitForPort(backendPort);
  await waitForPort(proxyPort);
  const url = `http://127.0.0.1:${proxyPort}/`;
  await wrk(url, 2); // warm-up
  const rssIdle = await rssMiB(proxy.pid);
  const baseline = await wrk(url, duration);
  const rssBaseline = await rssMiB(proxy.pid);

  let closed = 0;
  for (let i = 0; i < slowCount; i++) slow.push(slowClient(proxyPort, stop.signal, () => closed++));
  await new Promise((r) => setTimeout(r, 1000)); // all connected and trickling
  const rssSlow = await rssMiB(proxy.pid);
  const loaded = await wrk(url, duration);
  const rssLoaded = await rssMiB(proxy.pid);

  console.log(
    `\nslowloris · ${slowCount} slow clients, 1 byte / ${intervalS}s · wrk -t1 -c${connections} -d${duration}s · ${
      new Date().toISOString()
    } · ${Deno.build.target} · deno ${Deno.version.deno}\n`,
  );
  console.log("| phase | req/s | p50 ms | p99 ms | errors | proxy RSS MiB |");
  console.log("|---|---:|---:|---:|---:|---:|");
  console.log(`| idle (after warm-up) | - | - | - | - | ${rssIdle.toFixed(1)} |`);
  const row = (name: string, r: WrkResult, rss: number) =>
    console.log(
      `| ${name} | ${r.rps.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors} | ${
        rss.toFixed(1)
      } |`,
    );
  row("no slow clients", baseline, rssBaseline);
  console.log(`| ${slowCount} slow clients open, no traffic | - | - | - | - | ${rssSlow.toFixed(1)} |`);
  row(`${slowCount} slow clients open`, loaded, rssLoaded);
  console.log(
    `\np99 ratio ${(loaded.p99Ms / baseline.p99Ms).toFixed(2)}×, req/s ratio ${
      (loaded.rps / baseline.rps).toFixed(2)
    }×, RSS per slow client ≈ ${((rssSlow - rssBaseline) * 1024 / slowCount).toFixed(1)} KiB; ` +
      `slow connections closed by the proxy during ${duration + 1}s+: ${closed} of ${slowCount}`,
  );
} finally {
  stop.abort();
  await Promise.allSettled(slow);
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
  }
  await Promise.allSettled(children.map((child) => child.status));
  await Deno.remove(configFile).catch(() => {});
}
