/**
 * `deno task demo`: two sample upstreams on 127.0.0.1:3001 and :3002 plus the proxy on :8080 with the embedded
 * config, so `curl localhost:8080/` visibly alternates between them. Ctrl-C (SIGINT) or SIGTERM stops all three.
 */
const root = new URL("../", import.meta.url).pathname;
const deno = Deno.execPath();
const children = [
  ["run", "--allow-net", "bench/backend.ts", "3001", "upstream A (3001)"],
  ["run", "--allow-net", "bench/backend.ts", "3002", "upstream B (3002)"],
  ["run", "--allow-net", "main.ts"],
].map((args) => new Deno.Command(deno, { args, cwd: root, stdin: "null" }).spawn());

console.error("demo: try  curl -s localhost:8080/  a few times (Ctrl-C to stop)");

function stopChildren(): void {
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  }
}
Deno.addSignalListener("SIGINT", stopChildren);
Deno.addSignalListener("SIGTERM", stopChildren);
console.error(`demo: children ${children.map((child) => child.pid).join(" ")}`);
await Promise.all(children.map((child) => child.status));
