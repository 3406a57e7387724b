import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load_config.ts";
import { Reloader, type ReloadResult, runtimeIdle } from "../../src/lifecycle/reloader.ts";
import type { Runtime } from "../../src/runtime.ts";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

/** Routes /x to pool `to`; both pools exist in both configs so only the route moves. */
function routedConfig(a: string, b: string, to: "a" | "b"): string {
  return [
    "server: { port: 0 }",
    "upstreams:",
    `  a: { backends: ["${a}"] }`,
    `  b: { backends: ["${b}"] }`,
    "routes:",
    `  - { match: { path_prefix: "/" }, upstream: ${to} }`,
  ].join("\n");
}

/** An upstream whose /slow answers with a body in two parts 100 ms apart (a response still streaming). */
function namedUpstream(name: string) {
  return startUpstream((request) => {
    if (!new URL(request.url).pathname.startsWith("/slow")) return new Response(name);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(`${name}:`));
        timer = setTimeout(() => {
          controller.enqueue(new TextEncoder().encode("done"));
          controller.close();
        }, 100);
      },
      cancel() {
        clearTimeout(timer);
      },
    });
    return new Response(body);
  });
}

/** Loader that hands out the given YAML texts in turn, as a file would change between reloads. */
function sequence(texts: readonly string[]): () => Promise<ReturnType<typeof parseConfig>> {
  let i = 0;
  return () => Promise.resolve(parseConfig(texts[i++ % texts.length]!, "proxy.yaml"));
}

async function waitFor(condition: () => boolean, what: string, limitMs = 5_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

Deno.test("Reloader swaps configs under concurrent load without failing a request, and traffic follows the new routes", async () => {
  await using a = namedUpstream("a");
  await using b = namedUpstream("b");
  const toA = routedConfig(a.url, b.url, "a");
  const toB = routedConfig(a.url, b.url, "b");
  await using proxy = startProxy(toA);
  const results: ReloadResult[] = [];
  await using reloader = new Reloader(proxy.source, {
    load: sequence([toB, toA]),
    onReload: (result) => results.push(result),
  });
  const replaced: Runtime[] = [];

  let running = true;
  let completed = 0;
  const failures: string[] = [];
  const worker = async (id: number) => {
    for (let n = 0; running; n++) {
      const path = (id + n) % 4 === 0 ? "/slow" : "/fast";
      try {
        const response = await fetch(`${proxy.url}${path}`);
        const text = await response.text();
        if (response.status !== 200) failures.push(`${path}: ${response.status} ${text}`);
        else if (path === "/slow" && !/^[ab]:done$/.test(text)) failures.push(`${path}: body ${text}`);
        else completed++;
      } catch (error) {
        failures.push(`${path}: ${error}`);
      }
    }
  };
  const workers = Array.from({ length: 8 }, (_, id) => worker(id));

  for (let i = 1; i <= 10; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    replaced.push(proxy.source.current);
    const result = await reloader.reload();
    assert.equal(result.ok, true, result.error);
    assert.deepEqual(result.changed, ["routes"]);
    // Requests started after the swap take the new route.
    const expected = i % 2 === 1 ? "b" : "a";
    const response = await fetch(`${proxy.url}/check`);
    assert.equal(await response.text(), expected, `after reload ${i}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
  running = false;
  await Promise.all(workers);

  assert.deepEqual(failures, []);
  assert.ok(completed >= 300, `only ${completed} requests completed`);
  assert.equal(results.length, 10);
  // Every replaced runtime drained and was disposed; the current one serves the last config (routes to a).
  await waitFor(() => reloader.draining === 0, "replaced runtimes to drain");
  assert.ok(replaced.every(runtimeIdle));
  assert.equal(await (await fetch(`${proxy.url}/after`)).text(), "a");
});

Deno.test("Reloader keeps a response that is still streaming on the old runtime until it ends", async () => {
  await using a = namedUpstream("a");
  await using b = namedUpstream("b");
  await using proxy = startProxy(routedConfig(a.url, b.url, "a"));
  await using reloader = new Reloader(proxy.source, { load: sequence([routedConfig(a.url, b.url, "b")]) });
  const old = proxy.source.current;

  const response = await fetch(`${proxy.url}/slow`);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  assert.equal((await reader.read()).value, "a:");
  assert.equal((await reloader.reload()).ok, true);
  assert.equal(runtimeIdle(old), false);
  assert.equal(reloader.draining, 1);
  let rest = "";
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += chunk.value;
  assert.equal(rest, "done");
  await waitFor(() => reloader.draining === 0, "the old runtime to be disposed");
});

Deno.test("Reloader leaves a request in flight its deadline: an upstream that hangs across a reload still gives 504", async () => {
  const release = Promise.withResolvers<void>();
  await using hanging = startUpstream(async () => {
    await release.promise;
    return new Response("late");
  });
  const config = `server: { port: 0, timeout: 300ms }\nbackends: ["${hanging.url}"]\n`;
  await using proxy = startProxy(config);
  await using reloader = new Reloader(proxy.source, {
    load: sequence([config.replace("timeout: 300ms", "timeout: 10s")]),
  });
  // Without its deadline the request would hang: give up after 5 s so the test fails instead.
  const giveUp = new AbortController();
  const guard = setTimeout(() => giveUp.abort(), 5_000);
  try {
    const pending = fetch(`${proxy.url}/hang`, { signal: giveUp.signal });
    await waitFor(() => hanging.received.length === 1, "the request to reach the upstream");
    assert.equal((await reloader.reload()).ok, true);
    const response = await pending;
    assert.equal(response.status, 504);
    await response.body?.cancel();
  } finally {
    clearTimeout(guard);
    release.resolve();
  }
});

Deno.test("Reloader keeps serving the old config when the new one is invalid, and reports file:line:col", async () => {
  await using a = namedUpstream("a");
  await using b = namedUpstream("b");
  const good = routedConfig(a.url, b.url, "a");
  await using proxy = startProxy(good);
  const results: ReloadResult[] = [];
  const bad = good.replace("upstream: a", "upstream: c");
  await using reloader = new Reloader(proxy.source, {
    load: sequence([bad]),
    onReload: (result) => results.push(result),
  });
  const before = proxy.source.current;

  const result = await reloader.reload();
  assert.equal(result.ok, false);
  assert.match(result.error ?? "", /^proxy\.yaml:6:\d+ routes\[0\]\.upstream: .*"c"/);
  assert.equal(proxy.source.current, before);
  assert.equal(await (await fetch(`${proxy.url}/x`)).text(), "a");
  assert.deepEqual(results.map((r) => r.ok), [false]);
});

Deno.test("Reloader carries health and breaker state of unchanged upstreams and reports restart-only changes", async () => {
  await using a = namedUpstream("a");
  await using b = namedUpstream("b");
  const first = [
    "server: { port: 0 }",
    "admin: { port: 9090 }",
    `backends: ["${a.url}", "${b.url}"]`,
    "health_check: { interval: 1h, timeout: 1s }",
    "circuit_breaker: { consecutive_failures: 5 }",
  ].join("\n");
  const listenersMoved = first.replace("port: 0", "port: 8081").replace("port: 9090", "port: 9091");
  const memberReplaced = listenersMoved.replace(`"${b.url}"`, `"http://127.0.0.1:1"`);
  await using proxy = startProxy(first);
  await using reloader = new Reloader(proxy.source, { load: sequence([listenersMoved, memberReplaced]) });
  const [upA, upB] = proxy.source.current.pools.get("default")!.upstreams;
  upA!.setHealthy(false);
  const breakerA = upA!.gate;
  assert.ok(breakerA);

  const moved = await reloader.reload();
  assert.equal(moved.ok, true);
  assert.deepEqual(moved.changed, ["server", "admin"]);
  assert.deepEqual(moved.restartRequired, ["server.port", "admin.port"]);
  const [sameA, sameB] = proxy.source.current.pools.get("default")!.upstreams;
  assert.equal(sameA, upA, "an unchanged URL keeps its Upstream (health, counters)");
  assert.equal(sameB, upB);
  assert.equal(sameA!.healthy, false);
  assert.equal(sameA!.gate, breakerA, "unchanged members and breaker settings keep their breakers");

  const replaced = await reloader.reload();
  assert.deepEqual(replaced.changed, ["backends"]);
  assert.deepEqual(replaced.restartRequired, []);
  const [nextA, nextC] = proxy.source.current.pools.get("default")!.upstreams;
  assert.equal(nextA, upA);
  assert.equal(nextA!.healthy, false);
  assert.notEqual(nextC, upB);
  assert.equal(nextC!.url.href, "http://127.0.0.1:1/");
});

Deno.test("Reloader stops the health checks of a removed pool", async () => {
  await using a = namedUpstream("a");
  let checks = 0;
  await using checked = startUpstream((request) => {
    if (new URL(request.url).pathname === "/health") checks++;
    return new Response("ok");
  });
  const withPool = [
    "server: { port: 0 }",
    `backends: ["${a.url}"]`,
    "upstreams:",
    `  extra: { backends: ["${checked.url}"], health_check: { interval: 100ms, timeout: 50ms, path: /health } }`,
  ].join("\n");
  const withoutPool = withPool.split("\n").slice(0, 2).join("\n");
  await using proxy = startProxy(withPool);
  await using reloader = new Reloader(proxy.source, { load: sequence([withoutPool]) });
  await waitFor(() => checks >= 2, "health checks to reach the upstream");

  const result = await reloader.reload();
  assert.deepEqual(result.changed, ["upstreams.extra"]);
  const after = checks;
  // Five intervals: a checker still running would have probed again.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(checks, after);
});

Deno.test("Reloader serializes concurrent reloads", async () => {
  await using a = namedUpstream("a");
  await using b = namedUpstream("b");
  const toA = routedConfig(a.url, b.url, "a");
  const toB = routedConfig(a.url, b.url, "b");
  await using proxy = startProxy(toA);
  let loading = 0;
  let overlapped = false;
  const next = sequence([toB, toA, toB]);
  await using reloader = new Reloader(proxy.source, {
    async load() {
      if (++loading > 1) overlapped = true;
      await new Promise((resolve) => setTimeout(resolve, 20));
      loading--;
      return next();
    },
  });
  const results = await Promise.all([reloader.reload(), reloader.reload(), reloader.reload()]);
  assert.equal(overlapped, false);
  assert.deepEqual(results.map((r) => r.ok), [true, true, true]);
  assert.equal(await (await fetch(`${proxy.url}/x`)).text(), "b");
});
