/**
 * A/B for the cost of resilience bookkeeping: two proxy processes against one backend, one with
 * bench/resilience_off.yaml, one with bench/resilience_on.yaml; wrk runs alternate between them so that drift on a
 * shared machine hits both. Prints req/s per run and the proxy CPU time per request (from /proc, Linux only).
 *
 *   deno run --allow-net --allow-read --allow-write --allow-run bench/resilience_ab.ts [rounds=8] [seconds=3]
 */
import { freePort, waitForPort } from "../tests/_support/ports.ts";
const root = new URL("../", import.meta.url).pathname;
const rounds = Number(Deno.args[0] ?? 8), seconds = Number(Deno.args[1] ?? 3);
const children: Deno.ChildProcess[] = [];
const spawn = (args: string[]) => {
  const c = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  children.push(c);
  return c.pid;
};
const pids: Record<string, number> = {};
const cpuMs = (pid: number) => {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};
const backendPort = freePort();
spawn(["run", "--allow-net", "bench/backend.ts", String(backendPort)]);
const ports: Record<string, number> = {};
const files: string[] = [];
for (const name of ["off", "on"]) {
  ports[name] = freePort();
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  files.push(file);
  await Deno.writeTextFile(
    file,
    (await Deno.readTextFile(`${root}bench/resilience_${name}.yaml`)).replaceAll(
      "${BACKEND}",
      `http://127.0.0.1:${backendPort}`,
    ).replaceAll("${PORT}", String(ports[name])),
  );
  pids[name] = spawn(["run", "--allow-net", "--allow-read", "main.ts", "--config", file]);
}
const cpu: Record<string, number[]> = { off: [], on: [] };
async function wrk(port: number, c: number, s: number, name?: string): Promise<number> {
  const before = name ? cpuMs(pids[name]!) : 0;
  const out = await new Deno.Command("wrk", {
    args: ["-t1", `-c${c}`, `-d${s}s`, `http://127.0.0.1:${port}/`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const total = Number(/(\d+) requests in/.exec(text)?.[1]);
  if (name) cpu[name]!.push((cpuMs(pids[name]!) - before) * 1000 / total);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
}
try {
  for (const p of [backendPort, ports.off!, ports.on!]) await waitForPort(p);
  for (const name of ["off", "on"]) await wrk(ports[name]!, 32, 2);
  const r: Record<string, number[]> = { off: [], on: [] };
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 ? ["on", "off"] : ["off", "on"];
    for (const name of order) r[name]!.push(await wrk(ports[name]!, 32, seconds, name));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios = r.off!.map((off, i) => r.on![i]! / off);
  console.log(JSON.stringify({
    off: r.off!.map(Math.round),
    on: r.on!.map(Math.round),
    medianOff: Math.round(median(r.off!)),
    medianOn: Math.round(median(r.on!)),
    pairedRatios: ratios.map((x) => +x.toFixed(3)),
    medianPairedRatio: +median(ratios).toFixed(3),
    cpuUsPerRequestOff: cpu.off!.map((x) => +x.toFixed(1)),
    cpuUsPerRequestOn: cpu.on!.map((x) => +x.toFixed(1)),
    medianCpuOff: +median(cpu.off!).toFixed(1),
    medianCpuOn: +median(cpu.on!).toFixed(1),
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
