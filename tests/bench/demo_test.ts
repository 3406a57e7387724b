import assert from "node:assert/strict";
import { rootPath } from "../_support/child_proxy.ts";

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** Starts `bench/demo.ts`, reads its `demo: children …` line and returns the demo process and its children's PIDs. */
async function startDemo(): Promise<{ demo: Deno.ChildProcess; pids: number[]; rest: Promise<string> }> {
  const demo = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-run", "--allow-read", "bench/demo.ts"],
    cwd: rootPath("."),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = demo.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let match: RegExpMatchArray | null = null;
  while (match === null) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`demo exited before naming its children: ${text}`);
    text += value;
    match = text.match(/demo: children ([\d ]+)\n/);
  }
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += value;
    }
  })();
  return { demo, pids: match[1]!.trim().split(" ").map(Number), rest };
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(`deno task demo stops its three children on ${signal}`, async () => {
    const { demo, pids, rest } = await startDemo();
    assert.equal(pids.length, 3);
    assert.ok(pids.every(alive), "children are running before the signal");
    try {
      demo.kill(signal);
      await demo.status;
      await rest;
      for (const pid of pids) assert.equal(alive(pid), false, `child ${pid} still running after ${signal}`);
    } finally {
      for (const pid of pids.filter(alive)) Deno.kill(pid, "SIGKILL");
    }
  });
}
