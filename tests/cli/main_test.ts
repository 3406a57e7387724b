import assert from "node:assert/strict";
import { rootPath, runDeno, startChildProxy } from "../_support/child_proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

async function tempConfig(yaml: string): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(file, yaml);
  return file;
}

Deno.test("main.ts --validate exits 0 for the embedded config", async () => {
  const { code, stdout } = await runDeno(["run", "--allow-net", "main.ts", "--validate"]);
  assert.equal(code, 0);
  assert.match(stdout, /<embedded config.yaml>: valid/);
});

Deno.test("main.ts --validate exits 2 and prints file:line:col for a bad config", async () => {
  const file = await tempConfig('backends:\n  - url: "localhost:3002"\n');
  try {
    const { code, stderr } = await runDeno(["run", "--allow-read", "main.ts", "--config", file, "--validate"]);
    assert.equal(code, 2);
    assert.equal(stderr.trim(), `${file}:2:10 backends[0].url: not an http(s) URL: "localhost:3002"`);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("main.ts accepts the seed's single-dash -config flag", async () => {
  const { code, stdout } = await runDeno([
    "run",
    "--allow-read",
    "main.ts",
    "-config",
    rootPath("config.yaml"),
    "--validate",
  ]);
  assert.equal(code, 0);
  assert.match(stdout, /config.yaml: valid/);
});

Deno.test("main.ts names a missing config file and exits 2", async () => {
  const { code, stderr } = await runDeno(["run", "--allow-read", "main.ts", "--config", "/nonexistent.yaml"]);
  assert.equal(code, 2);
  assert.equal(stderr.trim(), "/nonexistent.yaml: cannot read config: no such file");
});

Deno.test("main.ts --help and --version print and exit 0; unknown flags exit 2", async () => {
  const help = await runDeno(["run", "main.ts", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--config FILE/);
  const version = await runDeno(["run", "main.ts", "--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^proxy \d+\.\d+\.\d+/);
  const bad = await runDeno(["run", "main.ts", "--bogus"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown argument: --bogus/);
});

Deno.test("main.ts serves with --allow-net and --config, and exits 0 on SIGTERM", async () => {
  await using upstream = startUpstream();
  const file = await tempConfig(
    `server: { host: 127.0.0.1, port: 0 }\nbackends:\n  - url: "${upstream.url}"\n`,
  );
  try {
    const proxy = await startChildProxy(["run", "--allow-net", "--allow-read", "main.ts", "--config", file]);
    const response = await fetch(`${proxy.url}/x`);
    assert.equal(await response.text(), `upstream ${upstream.port}`);
    assert.equal(await proxy.stop("SIGTERM"), 0);
  } finally {
    await Deno.remove(file);
  }
});
