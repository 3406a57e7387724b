/**
 * Multi-core scaling of `server.workers`: the proxy with 1, 2, 4, 8 … workers against one backend, wrk
 * driving it; req/s, p99 and CPU µs per request (user + system of the whole proxy process, every isolate,
 * from /proc) per worker count, with ratios to one worker. Worker counts alternate round by round so drift
 * hits all alike; the table shows medians.
 *
 *   deno run --allow-all bench/scaling.ts [--workers 1,2,4,8] [--duration 5] [--rounds 3] [--connections 64]
 *       [--wrk-threads 2] [--proxy-cpus 0-7] [--backend-cpus 8-9] [--wrk-cpus 10-11] [--compare-parallel yes]
 *
 * The `--*-cpus` lists go to `taskset -c` (util-linux) so wrk and the backend stay off the proxy's cores; on a
 * machine with fewer cores than the largest worker count the req/s cannot scale, and CPU µs per request shows
 * the coordination cost instead. `--compare-parallel yes` also runs `deno serve --parallel` with DENO_JOBS=N
 * (N isolates sharing the port with no coordination at all), the baseline that isolates what the control
 * plane and shared memory add from what running N isolates on the machine costs by itself. Everything listens on 127.0.0.1 and is stopped (by PID) before exit.
 */
import { freePort, waitForPort } from "../tests/_support/ports.ts";

const root = new URL("../", import.meta.url).pathname;
const flags = parseFlags(Deno.args);
const workerCounts = (flags.workers ?? "1,2,4,8").split(",").map(Number);
const duration = Number(flags.duration ?? 5);
const rounds = Number(flags.rounds ?? 3);
const connections = Number(flags.connections ?? 64);
const wrkThreads = Number(flags["wrk-threads"] ?? 2);

function parseFlags(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) out[list[i]!.replace(/^--/, "")] = list[i + 1] ?? "";
  return out;
}

/** `taskset -c CPUS command …` when CPUS is given. */
function placed(cpus: string | undefined, command: string, args: string[]): [string, string[]] {
  return cpus ? ["taskset", ["-c", cpus, command, ...args]] : [command, args];
}

const children = new Set<Deno.ChildProcess>();
function spawn([command, args]: [string, string[]], env: Record<string, string> = {}): Deno.ChildProcess {
  const child = new Deno.Command(command, {
    args,
    env,
    cwd: root,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  })
    .spawn();
  children.add(child);
  return child;
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  await child.status;
  children.delete(child);
}

/** User + system CPU of a process and all its threads, ms (Linux /proc; CLK_TCK 100). */
async function cpuMs(pid: number): Promise<number> {
  const text = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Sample {
  rps: number;
  p99Ms: number;
  cpuUsPerRequest: number;
  errors: number;
}

function toMs(value: string): number {
  const match = /([\d.]+)(us|ms|s)/.exec(value);
  if (!match) return NaN;
  const n = Number(match[1]);
  return match[2] === "us" ? n / 1000 : match[2] === "s" ? n * 1000 : n;
}

async function wrk(
  url: string,
  seconds: number,
): Promise<{ rps: number; requests: number; p99Ms: number; errors: number }> {
  const [command, args] = placed(flags["wrk-cpus"], "wrk", [
    `-t${wrkThreads}`,
    `-c${connections}`,
    `-d${seconds}s`,
    "--latency",
    url,
  ]);
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "null" }).output();
  const text = new TextDecoder().decode(output.stdout);
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0) +
    [...text.matchAll(/(connect|read|write|timeout) (\d+)/g)].reduce((sum, m) => sum + Number(m[2]), 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN),
    requests: Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN),
    p99Ms: toMs(/\s99%\s+(\S+)/.exec(text)?.[1] ?? ""),
    errors,
  };
}

type Target = { kind: "workers" | "parallel"; n: number };

async function measure({ kind, n: workers }: Target, backendUrl: string): Promise<Sample> {
  const port = freePort();
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(
    file,
    `server: { host: 127.0.0.1, port: ${port}, workers: ${workers} }\nadmin: { host: 127.0.0.1, port: ${freePort()} }\n` +
      `backends: ["${backendUrl}"]\n`,
  );
  const proxyArgs = kind === "workers"
    ? ["run", "--allow-net", "--allow-read", "main.ts", "--config", file]
    : [
      "serve",
      "--parallel",
      "--allow-net",
      "--allow-read",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "src/server_entry.ts",
      "--config",
      file,
    ];
  const proxy = spawn(
    placed(flags["proxy-cpus"], Deno.execPath(), proxyArgs),
    kind === "parallel" ? { DENO_JOBS: String(workers) } : {},
  );
  try {
    await waitForPort(port);
    // Every worker listening: the control plane prints its line only then, but stderr is not read here, so
    // give the others a moment after the first accepts, then warm up (JIT) before measuring.
    await new Promise((resolve) => setTimeout(resolve, 500 + 100 * workers));
    await wrk(`http://127.0.0.1:${port}/`, 1);
    const before = await cpuMs(proxy.pid);
    const result = await wrk(`http://127.0.0.1:${port}/`, duration);
    const after = await cpuMs(proxy.pid);
    return {
      rps: result.rps,
      p99Ms: result.p99Ms,
      cpuUsPerRequest: ((after - before) * 1000) / result.requests,
      errors: result.errors,
    };
  } finally {
    await stop(proxy);
    await Deno.remove(file);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const backendPort = freePort();
spawn(
  placed(flags["backend-cpus"], Deno.execPath(), [
    "run",
    "--allow-net",
    "bench/backend.ts",
    String(backendPort),
  ]),
);
try {
  await waitForPort(backendPort);
  const targets: Target[] = workerCounts.map((n) => ({ kind: "workers", n }));
  if (flags["compare-parallel"]) targets.push(...workerCounts.map((n) => ({ kind: "parallel" as const, n })));
  const label = (t: Target) =>
    t.kind === "workers" ? `workers: ${t.n}` : `deno serve --parallel, DENO_JOBS=${t.n}`;
  const samples = new Map<Target, Sample[]>(targets.map((t) => [t, []]));
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) {
      const sample = await measure(target, `http://127.0.0.1:${backendPort}`);
      samples.get(target)!.push(sample);
      console.error(
        `round ${round + 1} ${label(target)}: ${sample.rps.toFixed(0)} req/s, ${
          sample.cpuUsPerRequest.toFixed(1)
        } µs CPU/req`,
      );
    }
  }
  const rows = targets.map((target) => {
    const list = samples.get(target)!;
    return {
      target,
      rps: median(list.map((s) => s.rps)),
      p99: median(list.map((s) => s.p99Ms)),
      cpu: median(list.map((s) => s.cpuUsPerRequest)),
      errors: list.reduce((sum, s) => sum + s.errors, 0),
      // The same round's first target as the reference: a paired ratio, less exposed to drift between rounds.
      pairedCpu: median(
        list.map((s, round) => s.cpuUsPerRequest / samples.get(targets[0]!)![round]!.cpuUsPerRequest),
      ),
    };
  });
  const base = rows[0]!;
  console.log(
    `| target | req/s | p99 ms | errors | CPU µs/req | req/s ×first | CPU/req ×first | paired CPU/req ×first |`,
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const row of rows) {
    console.log(
      `| ${label(row.target)} | ${row.rps.toFixed(0)} | ${row.p99.toFixed(2)} | ${row.errors} | ${
        row.cpu.toFixed(1)
      } | ${(row.rps / base.rps).toFixed(2)} | ${(row.cpu / base.cpu).toFixed(3)} | ${
        row.pairedCpu.toFixed(3)
      } |`,
    );
  }
} finally {
  for (const child of [...children]) await stop(child);
}
