import assert from "node:assert/strict";
import { type ChildProxy, startChildProxy } from "../_support/child_proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

async function tempConfig(yaml: string): Promise<string> {
  const file = await Deno.makeTempFile({ suffix: ".yaml" });
  await Deno.writeTextFile(file, yaml);
  return file;
}

function configFor(upstreamUrl: string, server = ""): string {
  return `server: { host: 127.0.0.1, port: 0${server} }\nbackends: ["${upstreamUrl}"]\n`;
}

async function waitFor(condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Lines the child logged for `event` (JSON lines on stderr). */
function events(proxy: ChildProxy, event: string): Record<string, unknown>[] {
  return proxy.stderr().split("\n").filter((line) => line.includes(`"event":"${event}"`))
    .map((line) => JSON.parse(line));
}

function startProxyProcess(file: string, ...flags: string[]): Promise<ChildProxy> {
  return startChildProxy(["run", "--allow-net", "--allow-read", "main.ts", "--config", file, ...flags]);
}

Deno.test("SIGTERM lets a slow request finish with 200, refuses new connections, then exits 0", async () => {
  await using upstream = startUpstream(async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    return new Response("slow done");
  });
  const file = await tempConfig(configFor(upstream.url));
  try {
    await using proxy = await startProxyProcess(file);
    const pending = fetch(`${proxy.url}/slow`);
    await waitFor(() => upstream.received.length === 1, "the request to reach the upstream");

    Deno.kill(proxy.pid, "SIGTERM");
    await waitFor(() => events(proxy, "shutdown").length === 1, "the shutdown to start");
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port: proxy.port }),
      Deno.errors.ConnectionRefused,
    );

    const response = await pending;
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "slow done");
    assert.equal(await proxy.exited(), 0);
    assert.equal(events(proxy, "shutdown_complete").length, 1);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a second SIGTERM exits at once with code 1 while a request is still running", async () => {
  const release = Promise.withResolvers<void>();
  await using upstream = startUpstream(async () => {
    await release.promise;
    return new Response("late");
  });
  const file = await tempConfig(configFor(upstream.url));
  try {
    await using proxy = await startProxyProcess(file);
    const pending = fetch(`${proxy.url}/hang`).then((r) => r.text()).catch((error) => error);
    await waitFor(() => upstream.received.length === 1, "the request to reach the upstream");
    Deno.kill(proxy.pid, "SIGTERM");
    await waitFor(() => events(proxy, "shutdown").length === 1, "the shutdown to start");
    Deno.kill(proxy.pid, "SIGTERM");
    assert.equal(await proxy.exited(), 1);
    assert.equal(events(proxy, "shutdown_forced").length, 1);
    assert.ok(await pending instanceof Error, "the unfinished request was cut off");
  } finally {
    release.resolve();
    await Deno.remove(file);
  }
});

Deno.test("server.shutdown_timeout bounds the drain: the process exits 0 without the stuck request", async () => {
  const release = Promise.withResolvers<void>();
  await using upstream = startUpstream(async () => {
    await release.promise;
    return new Response("late");
  });
  const file = await tempConfig(configFor(upstream.url, ", shutdown_timeout: 200ms"));
  try {
    await using proxy = await startProxyProcess(file);
    const pending = fetch(`${proxy.url}/hang`).then((r) => r.text()).catch((error) => error);
    await waitFor(() => upstream.received.length === 1, "the request to reach the upstream");
    Deno.kill(proxy.pid, "SIGINT");
    assert.equal(await proxy.exited(), 0);
    assert.deepEqual(events(proxy, "shutdown_timeout").map((e) => e.timeoutMs), [200]);
    assert.ok(await pending instanceof Error);
  } finally {
    release.resolve();
    await Deno.remove(file);
  }
});

Deno.test("SIGHUP reloads the config file; an invalid file is reported with file:line:col and ignored", async () => {
  await using a = startUpstream(() => new Response("a"));
  await using b = startUpstream(() => new Response("b"));
  const file = await tempConfig(configFor(a.url));
  try {
    await using proxy = await startProxyProcess(file);
    assert.equal(await (await fetch(`${proxy.url}/`)).text(), "a");

    await Deno.writeTextFile(file, configFor(b.url));
    Deno.kill(proxy.pid, "SIGHUP");
    await waitFor(() => events(proxy, "config_reload").length === 1, "the reload");
    assert.deepEqual(events(proxy, "config_reload")[0]!.changed, ["backends"]);
    assert.equal(await (await fetch(`${proxy.url}/`)).text(), "b");

    await Deno.writeTextFile(file, configFor(b.url).replace("port: 0", "port: 0, timeout: 30"));
    Deno.kill(proxy.pid, "SIGHUP");
    await waitFor(() => events(proxy, "config_reload").length === 2, "the failed reload");
    const failed = events(proxy, "config_reload")[1]!;
    assert.equal(failed.ok, false);
    assert.match(String(failed.error), new RegExp(`^${file}:1:\\d+ server\\.timeout: expected a duration`));
    assert.equal(await (await fetch(`${proxy.url}/`)).text(), "b");
    assert.equal(await proxy.stop("SIGTERM"), 0);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("--watch-config reloads when the file is replaced", async () => {
  await using a = startUpstream(() => new Response("a"));
  await using b = startUpstream(() => new Response("b"));
  const file = await tempConfig(configFor(a.url));
  try {
    await using proxy = await startProxyProcess(file, "--watch-config");
    assert.equal(await (await fetch(`${proxy.url}/`)).text(), "a");
    // Write a new file and rename it over the old one, as editors and config managers do.
    const next = `${file}.next`;
    await Deno.writeTextFile(next, configFor(b.url));
    await Deno.rename(next, file);
    await waitFor(() => events(proxy, "config_reload").length >= 1, "the watcher's reload");
    assert.equal(await (await fetch(`${proxy.url}/`)).text(), "b");
    assert.equal(await proxy.stop("SIGTERM"), 0);
  } finally {
    await Deno.remove(file);
  }
});
