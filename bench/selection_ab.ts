/**
 * A/B of two builds of the proxy on the same config, for a change on the request path: `base` is a git ref
 * exported with `git archive` into a temp directory, `head` is this working tree. Both run
 * bench/selection_ab.yaml (two backends, round robin with sticky cookies off, default breaker, one retry,
 * health checks); wrk runs alternate between them so drift on a shared machine hits both. Prints req/s per run
 * and the proxy CPU µs per request (from /proc, Linux only).
 *
 *   deno run --allow-all bench/selection_ab.ts [base=main] [rounds=4] [seconds=3]
 */
import { freePort, waitForPort } from "../tests/_support/ports.ts";
const root = new URL("../", import.meta.url).pathname;
const base = Deno.args[0] ?? "main";
const rounds = Number(Deno.args[1] ?? 4), seconds = Number(Deno.args[2] ?? 3);
const children: Deno.ChildProcess[] = [];
const spawn = (args: string[], cwd = root) => {
  const c = new Deno.Command(Deno.execPath(), { args, cwd, stdin: "null", stdout: "null", stderr: "null" })
    .spawn();
  children.push(c);
  return c.pid;
};
const cpuMs = (pid: number) => {
  const f = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};
const baseDir = await Deno.makeTempDir({ prefix: "proxy-base-" });
const archive = new Deno.Command("sh", {
  args: ["-c", `git -C '${root}' archive '${base}' | tar -x -C '${baseDir}'`],
}).outputSync();
if (!archive.success) {
  throw new Error(`git archive ${base} failed: ${new TextDecoder().decode(archive.stderr)}`);
}
const backends = [freePort(), freePort()];
for (const port of backends) spawn(["run", "--allow-net", "bench/backend.ts", String(port)]);
const names = ["base", "head"] as const;
const ports: Record<string, number> = {};
const pids: Record<string, number> = {};
const files: string[] = [];
for (const name of names) {
  ports[name] = freePort();
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  files.push(file);
  await Deno.writeTextFile(
    file,
    (await Deno.readTextFile(`${root}bench/selection_ab.yaml`))
      .replaceAll("${BACKEND1}", `http://127.0.0.1:${backends[0]}`)
      .replaceAll("${BACKEND2}", `http://127.0.0.1:${backends[1]}`)
      .replaceAll("${PORT}", String(ports[name])),
  );
  pids[name] = spawn(
    ["run", "--allow-net", "--allow-read", "main.ts", "--config", file],
    name === "base" ? baseDir : root,
  );
}
const cpu: Record<string, number[]> = { base: [], head: [] };
async function wrk(name: string, s: number, record: boolean): Promise<number> {
  const before = cpuMs(pids[name]!);
  const out = await new Deno.Command("wrk", {
    args: ["-t1", "-c32", `-d${s}s`, `http://127.0.0.1:${ports[name]}/`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const total = Number(/(\d+) requests in/.exec(text)?.[1]);
  if (record) cpu[name]!.push((cpuMs(pids[name]!) - before) * 1000 / total);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
}
try {
  for (const p of [...backends, ports.base!, ports.head!]) await waitForPort(p);
  for (const name of names) await wrk(name, 2, false);
  const r: Record<string, number[]> = { base: [], head: [] };
  for (let i = 0; i < rounds; i++) {
    for (const name of i % 2 ? ["head", "base"] : ["base", "head"]) {
      r[name]!.push(await wrk(name, seconds, true));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratios = r.base!.map((b, i) => r.head![i]! / b);
  console.log(JSON.stringify({
    base,
    reqPerSecBase: r.base!.map(Math.round),
    reqPerSecHead: r.head!.map(Math.round),
    pairedRatios: ratios.map((x) => +x.toFixed(3)),
    medianPairedRatio: +median(ratios).toFixed(3),
    cpuUsPerRequestBase: cpu.base!.map((x) => +x.toFixed(1)),
    cpuUsPerRequestHead: cpu.head!.map((x) => +x.toFixed(1)),
    medianCpuBase: +median(cpu.base!).toFixed(1),
    medianCpuHead: +median(cpu.head!).toFixed(1),
  }));
} finally {
  for (const c of children) {
    try {
      c.kill("SIGTERM");
    } catch { /* gone */ }
  }
  await Promise.allSettled(children.map((c) => c.status));
  for (const f of files) await Deno.remove(f).catch(() => {});
  await Deno.remove(baseDir, { recursive: true }).catch(() => {});
}
