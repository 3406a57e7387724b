import assert from "node:assert/strict";
import { rootPath } from "../_support/child_proxy.ts";
import { parsePrometheusText } from "../_support/prom_parser.ts";
import { startUpstream } from "../_support/upstream.ts";

/** Reads `stream` into `sink.text` until it ends. */
async function collect(stream: ReadableStream<Uint8Array>, sink: { text: string }): Promise<void> {
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) sink.text += chunk;
}

async function waitFor(sink: { text: string }, pattern: RegExp): Promise<RegExpExecArray> {
  for (let i = 0; i < 800; i++) {
    const match = pattern.exec(sink.text);
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no ${pattern} in:\n${sink.text}`);
}

Deno.test("main.ts serves the admin listener next to the proxy, reading no file but its config", async () => {
  await using upstream = startUpstream();
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  try {
    await Deno.writeTextFile(
      file,
      `server: { host: 127.0.0.1, port: 0 }
backends: ["${upstream.url}"]
admin: { host: 127.0.0.1, port: 0 }
access_log: { format: json }
`,
    );
    // Read permission for the config file only: the dashboard is part of the module graph.
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", `--allow-read=${file}`, "main.ts", "--config", file],
      cwd: rootPath("."),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = { text: "" };
    const stderr = { text: "" };
    const pumps = Promise.all([collect(child.stdout, stdout), collect(child.stderr, stderr)]);
    try {
      const proxyPort = (await waitFor(stderr, /proxy listening on http:\/\/127\.0\.0\.1:(\d+)/))[1];
      const adminPort = (await waitFor(stderr, /proxy admin on http:\/\/127\.0\.0\.1:(\d+)\//))[1];
      assert.notEqual(proxyPort, adminPort);
      for (let i = 0; i < 3; i++) await (await fetch(`http://127.0.0.1:${proxyPort}/hello`)).text();

      const admin = `http://127.0.0.1:${adminPort}`;
      const metrics = parsePrometheusText(await (await fetch(`${admin}/metrics`)).text());
      const requests = metrics.get("proxy_requests_total")!.samples;
      assert.deepEqual(requests.map((s) => [s.labels.route, s.labels.upstream, s.labels.code, s.value]), [
        ["default", upstream.url, "200", 3],
      ]);
      const reloads = metrics.get("proxy_config_reloads_total")!.samples;
      assert.equal(reloads.find((s) => s.labels.result === "success")?.value, 1);
      const dashboard = await fetch(`${admin}/`);
      assert.equal(dashboard.status, 200);
      assert.match(await dashboard.text(), /proxy · dashboard/);
      // The proxy port does not serve admin paths: they are proxied like any other request.
      await (await fetch(`http://127.0.0.1:${proxyPort}/metrics`)).text();
      assert.equal(upstream.received.at(-1)?.path, "/metrics");
    } finally {
      child.kill("SIGTERM");
    }
    const status = await child.status;
    await pumps;
    assert.equal(status.code, 0, stderr.text);
    // The buffered access log is written out on shutdown at the latest: one JSON line per request.
    const lines = stdout.text.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((l) => [l.method, l.path, l.status, l.route]), [
      ["GET", "/hello", 200, "default"],
      ["GET", "/hello", 200, "default"],
      ["GET", "/hello", 200, "default"],
      ["GET", "/metrics", 200, "default"],
    ]);
  } finally {
    await Deno.remove(file);
  }
});
