/**
 * A/B for the connection guard's cost on the default pipeline: two proxy processes (main.ts) against one
 * backend, one with `limits: { connection_guard: true }`, one with `limits: { connection_guard: false }` (the default); wrk runs
 * alternate between them so that drift on a shared machine hits both. Prints req/s per round and the proxy's
 * CPU time per request (from /proc, Linux only; reading it needs --allow-all).
 *
 *   deno run --allow-all bench/guard_ab.ts [rounds=6] [seconds=3]
 */
import { freePort, waitForPort } from "../tests/_support/ports.ts";
const root = new URL("../", import.meta.url).pathname;
const rounds = Number(Deno.args[0] ?? 6), seconds = Number(Deno.args[1] ?? 3);
const names = ["off", "on"] as const;
type Name = typeof names[number];
const children: Deno.ChildProcess[] = [];
const spawn = (args: string[]) => {
  const c = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  })
    .spawn();
  children.push(c);
  return c.pid;
};
const cpuMs = (pid: number) => {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};
const backendPort = freePort();
spawn(["run", "--allow-net", "bench/backend.ts", String(backendPort)]);
const ports = { off: freePort(), on: freePort() };
const pids = { off: 0, on: 0 };
const files: string[] = [];
for (const name of names) {
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  files.push(file);
  await Deno.writeTextFile(
    file,
    `server: { host: 127.0.0.1, port: ${ports[name]} }\nadmin: { port: ${freePort()} }\n` +
      `backends: ["http://127.0.0.1:${backendPort}"]\n` +
      (name === "off" ? "limits: { connection_guard: false }\n" : "limits: { connection_guard: true }\n"),
  );
  pids[name] = spawn(["run", "--allow-net", "--allow-read", "main.ts", "--config", file]);
}
const cpu: Record<Name, number[]> = { off: [], on: [] };
async function wrk(name: Name, s: number, record: boolean): Promise<number> {
  const before = cpuMs(pids[name]);
  const out = await new Deno.Command("wrk", {
    args: ["-t1", "-c32", `-d${s}s`, `http://127.0.0.1:${ports[name]}/`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const total = Number(/(\d+) requests in/.exec(text)?.[1]);
  const errors = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1];
  if (errors) throw new Error(`${name}: ${errors} non-2xx responses`);
  if (record) cpu[name].push((cpuMs(pids[name]) - before) * 1000 / total);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
}
try {
  for (const p of [backendPort, ports.off, ports.on]) await waitForPort(p);
  for (const name of names) await wrk(name, 2, false);
  const r: Record<Name, number[]> = { off: [], on: [] };
  for (let i = 0; i < rounds; i++) {
    const order: Name[] = i % 2 ? ["on", "off"] : ["off", "on"];
    for (const name of order) r[name].push(await wrk(name, seconds, true));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios = r.off.map((off, i) => r.on[i]! / off);
  const cpuDiff = cpu.off.map((off, i) => cpu.on[i]! - off);
  console.log(JSON.stringify({
    date: new Date().toISOString(),
    rps: { off: r.off.map(Math.round), on: r.on.map(Math.round) },
    medianRps: { off: Math.round(median(r.off)), on: Math.round(median(r.on)) },
    medianPairedRatioOnOff: +median(ratios).toFixed(3),
    cpuUsPerRequest: { off: cpu.off.map((x) => +x.toFixed(1)), on: cpu.on.map((x) => +x.toFixed(1)) },
    medianCpuUs: { off: +median(cpu.off).toFixed(1), on: +median(cpu.on).toFixed(1) },
    medianPairedCpuDiffUs: +median(cpuDiff).toFixed(1),
  }));
} finally {
  for (const c of children) {
    try {
      c.kill("SIGTERM");
    } catch { /* gone */ }
  }
  await Promise.allSettled(children.map((c) => c.status));
  for (const f of files) await Deno.remove(f).catch(() => {});
}
