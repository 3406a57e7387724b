/**
 * Soak run (issue 16 part 4): steady GET load through the proxy (main.ts, child process) over three upstreams
 * (bench/backend.ts, child processes) with health checks, cache and rate limiting on, while one upstream is
 * killed (SIGKILL) and restarted every 30 s in turn. Every 30 s it prints the proxy's RSS and open file
 * descriptors (/proc/PID/status, /proc/PID/fd), requests sent vs answered, 5xx and transport failures.
 *
 *   deno task soak                      # 10 minutes, 300 req/s
 *   deno task soak --duration 3m --rate 300
 *
 * A GET is "lost" when it gets no answer or a 5xx: with retries on, a dead upstream's request must be retried
 * on another one. Half the requests go to `/cached` (max-age 5 s), so cache hits and refreshes are part of it.
 */
import { parseArgs } from "node:util";
import { freePort, waitForPort } from "../tests/_support/ports.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    duration: { type: "string", default: "10m" },
    rate: { type: "string", default: "300" },
    interval: { type: "string", default: "30s" },
  },
});

function seconds(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!match) throw new RangeError(`not a duration: ${text} (use 90s, 3m)`);
  const n = Number(match[1]);
  return match[2] === "m" ? n * 60 : match[2] === "ms" ? n / 1000 : n;
}

const durationS = seconds(values.duration);
const rate = Number(values.rate);
const intervalS = seconds(values.interval);
if (!(rate > 0 && rate <= 2000)) throw new RangeError("--rate must be in (0, 2000] requests per second");
const ROOT = new URL("../", import.meta.url).pathname;

function spawnBackend(port: number): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "bench/backend.ts", String(port), `soak-${port}`],
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
  }).spawn();
}

const upstreamPorts = [freePort(), freePort(), freePort()];
const backends = upstreamPorts.map(spawnBackend);
await Promise.all(upstreamPorts.map((port) => waitForPort(port)));

const proxyPort = freePort();
const config = await Deno.makeTempFile({ suffix: ".yaml" });
await Deno.writeTextFile(
  config,
  [
    `server: { host: 127.0.0.1, port: ${proxyPort} }`,
    "admin: { port: 0 }",
    "backends:",
    ...upstreamPorts.map((port) => `  - url: "http://127.0.0.1:${port}"`),
    "health_check: { interval: 1s, timeout: 500ms, path: /health, unhealthy_threshold: 1, healthy_threshold: 1 }",
    "retries: { attempts: 2 }",
    "rate_limit: { requests_per_second: 100000, burst: 100000 }",
    "cache: { max_size: 1000, ttl: 5s }",
    "access_log: { format: off }",
  ].join("\n") + "\n",
);
const proxy = new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-all", "main.ts", "--config", config],
  cwd: ROOT,
  stdout: "null",
  stderr: "piped",
}).spawn();
let proxyLog = "";
const logPump = proxy.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
  new WritableStream({ write: (text) => void (proxyLog += text) }),
);
await waitForPort(proxyPort);

function procStats(pid: number): { rssKiB: number; fds: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  let fds = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) fds++;
  return { rssKiB, fds };
}

const counts = { sent: 0, answered: 0, ok: 0, status5xx: 0, status429: 0, failed: 0, cacheHits: 0 };
const statuses = new Map<number, number>();
const MAX_IN_FLIGHT = 64;
let inFlight = 0;
let skipped = 0;

async function one(path: string): Promise<void> {
  counts.sent++;
  inFlight++;
  try {
    const response = await fetch(`http://127.0.0.1:${proxyPort}${path}`, {
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    counts.answered++;
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    if (response.status >= 500) counts.status5xx++;
    else if (response.status === 429) counts.status429++;
    else if (response.ok) counts.ok++;
    if (/^hit/i.test(response.headers.get("x-cache") ?? "")) counts.cacheHits++;
  } catch {
    counts.failed++;
  } finally {
    inFlight--;
  }
}

const started = performance.now();
const samples: string[] = [];
function sample(label: string): void {
  const { rssKiB, fds } = procStats(proxy.pid);
  const t = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
  const line = `${t} s  rss ${(rssKiB / 1024).toFixed(1)} MiB  fds ${fds}  sent ${counts.sent}  answered ` +
    `${counts.answered}  2xx ${counts.ok}  5xx ${counts.status5xx}  429 ${counts.status429}  failed ` +
    `${counts.failed}  cache hits ${counts.cacheHits}  ${label}`;
  samples.push(line);
  console.log(line);
}

sample("start");
const pending = new Set<Promise<void>>();
let victim = 0;
let nextRestart = intervalS;
let nextSample = intervalS;
let tick = 0;
const tickMs = 10;
const endAt = started + durationS * 1000;
while (performance.now() < endAt) {
  const elapsed = (performance.now() - started) / 1000;
  const due = Math.floor(elapsed * rate) - counts.sent - skipped;
  for (let i = 0; i < due; i++) {
    if (inFlight >= MAX_IN_FLIGHT) {
      skipped++;
      continue;
    }
    const path = (tick + i) % 2 === 0 ? "/cached" : `/item/${(tick + i) % 97}`;
    const p = one(path);
    pending.add(p);
    p.finally(() => pending.delete(p));
  }
  tick++;
  if (elapsed >= nextRestart) {
    nextRestart += intervalS;
    const index = victim++ % backends.length;
    backends[index]!.kill("SIGKILL");
    await backends[index]!.status;
    backends[index] = spawnBackend(upstreamPorts[index]!);
    // Restarted right away: the health checker sees it down or up depending on timing, which is the point.
  }
  if (elapsed >= nextSample) {
    nextSample += intervalS;
    sample(`(upstream ${(victim - 1) % backends.length} killed and restarted)`);
  }
  await new Promise((resolve) => setTimeout(resolve, tickMs));
}
await Promise.all(pending);
sample("end");
console.log(
  `statuses: ${JSON.stringify(Object.fromEntries(statuses))}; not sent (in-flight cap): ${skipped}`,
);
const lost = counts.sent - counts.ok - counts.status429;
console.log(`GETs lost (no answer or 5xx): ${lost}`);

proxy.kill("SIGTERM");
const exit = await proxy.status;
await logPump.catch(() => {});
for (const backend of backends) {
  try {
    backend.kill("SIGKILL");
  } catch { /* gone */ }
  await backend.status;
}
await Deno.remove(config);
const unexpected = proxyLog.split("\n").filter((line) =>
  line.trim() !== "" &&
  !/listening on|admin on|"event":"(shutdown|health|upstream|breaker|circuit_state)/.test(line)
);
console.log(`proxy exit code ${exit.code}; unexpected stderr lines: ${unexpected.length}`);
for (const line of unexpected.slice(0, 10)) console.log(`  ${line}`);
