import assert from "node:assert/strict";
import { startChildProxy } from "../_support/child_proxy.ts";
import { freePort } from "../_support/ports.ts";
import { parsePrometheusText } from "../_support/prom_parser.ts";
import { startUpstream } from "../_support/upstream.ts";
import { fetchFresh, startWorkersProxy, tempConfig, waitFor, workersIn } from "./workers_support.ts";

function config(backends: readonly string[], extra = "", admin = freePort()): string {
  return `server: { host: 127.0.0.1, port: 0, workers: 2 }
admin: { host: 127.0.0.1, port: ${admin} }
access_log: { format: json }
backends: [${backends.map((b) => `"${b}"`).join(", ")}]
${extra}`;
}

function adminPort(yaml: string): number {
  return Number(/admin: \{ host: 127\.0\.0\.1, port: (\d+)/.exec(yaml)![1]);
}

/** Sends `count` requests, each on its own connection, `parallel` at a time; returns the statuses. */
async function sendMany(url: string, count: number, parallel = 4): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < count) {
      next++;
      statuses.push((await fetchFresh(url)).status);
    }
  }));
  return statuses;
}

Deno.test("workers: 2 — both workers serve (access log names them) and /metrics sums every worker", async () => {
  await using upstream = startUpstream();
  const yaml = config([upstream.url]);
  const file = await tempConfig(yaml);
  try {
    await using proxy = await startWorkersProxy(file);
    const statuses = await sendMany(`${proxy.url}/hello`, 40);
    assert.deepEqual(statuses, Array(40).fill(200));
    await waitFor(() => proxy.accessLog().length === 40, "40 access log lines");
    assert.deepEqual(workersIn(proxy.accessLog()), new Set([1, 2]), "each worker served some requests");

    const text = await (await fetch(`http://127.0.0.1:${adminPort(yaml)}/metrics`)).text();
    const families = parsePrometheusText(text);
    const requests = families.get("proxy_requests_total")!;
    const total = requests.samples.reduce((sum, sample) => sum + sample.value, 0);
    assert.equal(total, 40, "proxy_requests_total is the sum over both workers");
    const running = families.get("proxy_workers")!.samples.find((s) => s.labels.state === "running");
    assert.equal(running?.value, 2);
    const stats = await (await fetch(`http://127.0.0.1:${adminPort(yaml)}/stats`)).json();
    assert.equal(stats.totals.requests, 40, "/stats adds up the workers too");
    assert.equal(stats.upstreams[0].requests, 40);
    assert.equal(stats.config.reloadsSucceeded, 1, "the initial load, counted once by the control plane");
    const workers = await (await fetch(`http://127.0.0.1:${adminPort(yaml)}/workers`)).json();
    assert.deepEqual(workers, [
      { worker: 1, state: "running", starts: 1 },
      { worker: 2, state: "running", starts: 1 },
    ]);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("workers: 2 — a global rate limit holds across workers (shared token bucket)", async () => {
  await using upstream = startUpstream();
  // 20 tokens and almost no refill: per-worker buckets would let 40 through.
  const file = await tempConfig(
    config([upstream.url], "rate_limit: { requests_per_second: 0.05, burst: 20, key: global }\n"),
  );
  try {
    await using proxy = await startWorkersProxy(file);
    const statuses = await sendMany(`${proxy.url}/limited`, 60);
    const allowed = statuses.filter((s) => s === 200).length;
    assert.ok(allowed >= 20 && allowed <= 21, `allowed ${allowed} of 60 (limit 20, within 5 %)`);
    assert.equal(statuses.filter((s) => s === 429).length, 60 - allowed);
    await waitFor(() => proxy.accessLog().length === 60, "60 access log lines");
    const refused = proxy.accessLog().filter((line) => line.status === 429);
    assert.deepEqual(
      workersIn(refused),
      new Set([1, 2]),
      "both workers refused once the shared bucket was empty",
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("workers: 2 — a health-check ejection is made once and seen by both workers", async () => {
  let sick = false;
  await using a = startUpstream((request) =>
    new Response(new URL(request.url).pathname === "/health" ? "ok" : "a")
  );
  await using b = startUpstream((request) =>
    new URL(request.url).pathname === "/health" && sick
      ? new Response("down", { status: 500 })
      : new Response("b")
  );
  const file = await tempConfig(
    config(
      [a.url, b.url],
      "health_check: { interval: 100ms, timeout: 50ms, path: /health, unhealthy_threshold: 1, healthy_threshold: 1 }\n",
    ),
  );
  try {
    await using proxy = await startWorkersProxy(file);
    sick = true;
    await waitFor(() => proxy.controlEvents("health_change").length === 1, "the ejection");
    const [change] = proxy.controlEvents("health_change");
    assert.equal(change!.upstream, b.url);
    assert.equal(change!.healthy, false);
    const probesBefore = b.received.filter((r) => r.path === "/health").length;

    const bodies: string[] = [];
    for (let i = 0; i < 30; i++) bodies.push(await (await fetchFresh(`${proxy.url}/x`)).text());
    assert.deepEqual(new Set(bodies), new Set(["a"]), "no worker sends traffic to the ejected upstream");
    await waitFor(() => proxy.accessLog().length === 30, "30 access log lines");
    assert.deepEqual(workersIn(proxy.accessLog()), new Set([1, 2]));
    // One checker: the number of probes grows with the interval, not with the worker count.
    assert.equal(
      proxy.stderr().split("\n").filter((line) => line.includes('"event":"health_change"')).length,
      1,
      "logged once, by the control plane",
    );
    assert.ok(b.received.filter((r) => r.path === "/health").length >= probesBefore);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("workers: 2 — SIGHUP reload is applied by both workers; an invalid config is reported and ignored", async () => {
  await using a = startUpstream(() => new Response("a"));
  await using b = startUpstream(() => new Response("b"));
  const admin = freePort();
  const file = await tempConfig(config([a.url], "", admin));
  try {
    await using proxy = await startWorkersProxy(file);
    await Deno.writeTextFile(file, config([b.url], "", admin));
    Deno.kill(proxy.pid, "SIGHUP");
    await waitFor(() => proxy.controlEvents("config_reload").length === 1, "the reload");
    const [reload] = proxy.controlEvents("config_reload");
    assert.equal(reload!.ok, true);
    assert.deepEqual(reload!.changed, ["backends"]);
    assert.deepEqual(reload!.workers, [{ worker: 1, ok: true }, { worker: 2, ok: true }]);

    const before = proxy.accessLog().length;
    const bodies: string[] = [];
    for (let i = 0; i < 30; i++) bodies.push(await (await fetchFresh(`${proxy.url}/`)).text());
    assert.deepEqual(new Set(bodies), new Set(["b"]));
    await waitFor(() => proxy.accessLog().length === before + 30, "the access log");
    assert.deepEqual(
      workersIn(proxy.accessLog().slice(before)),
      new Set([1, 2]),
      "both serve the new config",
    );

    await Deno.writeTextFile(
      file,
      config([b.url], "", admin).replace("workers: 2 }", "workers: 2, timeout: 30 }"),
    );
    const response = await fetch(`http://127.0.0.1:${admin}/reload`, { method: "POST" });
    assert.equal(response.status, 400);
    const failed = await response.json();
    assert.equal(failed.ok, false);
    assert.match(failed.error, /:1:\d+ server\.timeout/);
    assert.equal(await (await fetchFresh(`${proxy.url}/`)).text(), "b", "the old config keeps serving");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("workers: 2 — SIGTERM drains in-flight requests on both workers and exits 0", async () => {
  await using upstream = startUpstream(async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return new Response("slow done");
  });
  const file = await tempConfig(config([upstream.url]));
  try {
    await using proxy = await startWorkersProxy(file);
    const pending = Array.from({ length: 12 }, () => fetchFresh(`${proxy.url}/slow`));
    await waitFor(() => upstream.received.length === 12, "12 requests at the upstream");
    Deno.kill(proxy.pid, "SIGTERM");
    await waitFor(() => proxy.events("shutdown").length === 1, "the drain to start");
    const responses = await Promise.all(pending);
    assert.deepEqual(responses.map((r) => r.status), Array(12).fill(200));
    assert.deepEqual(new Set(await Promise.all(responses.map((r) => r.text()))), new Set(["slow done"]));
    assert.equal(await proxy.exited(), 0);
    assert.equal(proxy.events("shutdown_complete").length, 1);
    assert.deepEqual(workersIn(proxy.accessLog()), new Set([1, 2]), "both workers had requests to drain");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("workers: 2 — a worker that dies is logged and restarted, and serves again", async () => {
  await using upstream = startUpstream();
  const yaml = config([upstream.url]);
  const file = await tempConfig(yaml);
  try {
    await using proxy = await startWorkersProxy(file);
    const admin = `http://127.0.0.1:${adminPort(yaml)}`;
    const kill = await fetch(`${admin}/workers/1/terminate`, { method: "POST" });
    assert.equal(kill.status, 200);
    await kill.body?.cancel();
    await waitFor(() => proxy.events("worker_restarted").length === 1, "the restart");
    const [exit] = proxy.events("worker_exit");
    assert.equal(exit!.worker, 1);
    assert.match(String(exit!.reason), /terminated/);
    assert.deepEqual(await (await fetch(`${admin}/workers`)).json(), [
      { worker: 1, state: "running", starts: 2 },
      { worker: 2, state: "running", starts: 1 },
    ]);
    const statuses = await sendMany(`${proxy.url}/again`, 30);
    assert.deepEqual(statuses, Array(30).fill(200));
    await waitFor(() => proxy.accessLog().length === 30, "30 access log lines");
    assert.deepEqual(workersIn(proxy.accessLog()), new Set([1, 2]), "the restarted worker takes connections");
    const text = await (await fetch(`${admin}/metrics`)).text();
    const restarts = parsePrometheusText(text).get("proxy_worker_restarts_total")!;
    assert.equal(restarts.samples[0]!.value, 1);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("workers: 2 — each worker has its own cache, and a purge on the admin listener reaches both", async () => {
  let served = 0;
  await using upstream = startUpstream(() =>
    new Response(`version ${++served}`, { headers: { "cache-control": "max-age=60" } })
  );
  const yaml = config([upstream.url], "cache: { max_size: 100 }\n");
  const file = await tempConfig(yaml);
  try {
    await using proxy = await startWorkersProxy(file);
    const fill = async () => {
      for (let i = 0; i < 30; i++) await (await fetchFresh(`${proxy.url}/page`)).text();
      await waitFor(() => proxy.accessLog().length % 30 === 0, "the access log");
    };
    await fill();
    const workers = workersIn(proxy.accessLog());
    assert.deepEqual(workers, new Set([1, 2]));
    assert.equal(upstream.received.length, 2, "one miss per worker cache, then hits");

    const purge = await fetch(`http://127.0.0.1:${adminPort(yaml)}/cache/purge`, {
      method: "POST",
      body: JSON.stringify({ prefix: "/page" }),
    });
    assert.equal(purge.status, 200);
    assert.deepEqual(await purge.json(), { purged: 2, workers: 2 });
    await fill();
    assert.equal(upstream.received.length, 4, "both workers fetched the page again after the purge");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("workers: 2 — least_connections balances on the in-flight total of both workers", async () => {
  const release = Promise.withResolvers<void>();
  const hold = async () => {
    await release.promise;
    return new Response("done");
  };
  await using a = startUpstream(hold);
  await using b = startUpstream(hold);
  const yaml = config([a.url, b.url], "load_balancer: { algorithm: least_connections }\n");
  const file = await tempConfig(yaml);
  try {
    await using proxy = await startWorkersProxy(file);
    const pending: Promise<Response>[] = [];
    for (let i = 0; i < 12; i++) {
      pending.push(fetchFresh(`${proxy.url}/x`));
      await waitFor(() => a.received.length + b.received.length === i + 1, "the request at an upstream");
    }
    const text = await (await fetch(`http://127.0.0.1:${adminPort(yaml)}/metrics`)).text();
    const gauge = parsePrometheusText(text).get("proxy_upstream_requests_in_flight")!.samples;
    const inFlight = (url: string) => gauge.find((s) => s.labels.upstream === url)!.value;
    // Per-worker counts would show each worker's own share here; the shared count is the total.
    assert.equal(inFlight(a.url), a.received.length);
    assert.equal(inFlight(b.url), b.received.length);
    assert.deepEqual([a.received.length, b.received.length], [6, 6], "one at a time, always to the emptier");
    release.resolve();
    assert.deepEqual((await Promise.all(pending)).map((r) => r.status), Array(12).fill(200));
    await waitFor(() => proxy.accessLog().length === 12, "the access log");
    assert.deepEqual(workersIn(proxy.accessLog()), new Set([1, 2]));
  } finally {
    release.resolve();
    await Deno.remove(file);
  }
});

Deno.test("workers: 2 — --watch-config reloads every worker when the file changes", async () => {
  await using a = startUpstream(() => new Response("a"));
  await using b = startUpstream(() => new Response("b"));
  const admin = freePort();
  const file = await tempConfig(config([a.url], "", admin));
  try {
    await using proxy = await startWorkersProxy(file, "--watch-config");
    await Deno.writeTextFile(file, config([b.url], "", admin));
    await waitFor(() => proxy.controlEvents("config_reload").length >= 1, "the reload");
    assert.deepEqual(proxy.controlEvents("config_reload")[0]!.workers, [
      { worker: 1, ok: true },
      { worker: 2, ok: true },
    ]);
    const bodies = new Set<string>();
    for (let i = 0; i < 20; i++) bodies.add(await (await fetchFresh(`${proxy.url}/`)).text());
    assert.deepEqual(bodies, new Set(["b"]));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("workers: 2 — server.shutdown_timeout bounds the drain: exit 0 without the stuck request", async () => {
  const release = Promise.withResolvers<void>();
  await using upstream = startUpstream(async () => {
    await release.promise;
    return new Response("late");
  });
  const file = await tempConfig(
    config([upstream.url]).replace("workers: 2 }", "workers: 2, shutdown_timeout: 300ms }"),
  );
  try {
    await using proxy = await startWorkersProxy(file);
    const pending = fetchFresh(`${proxy.url}/hang`).catch((error) => error);
    await waitFor(() => upstream.received.length === 1, "the request at the upstream");
    Deno.kill(proxy.pid, "SIGTERM");
    assert.equal(await proxy.exited(), 0);
    assert.deepEqual(proxy.controlEvents("shutdown_timeout").map((e) => e.timeoutMs), [300]);
    assert.ok(await pending instanceof Error, "the stuck request was cut off");
  } finally {
    release.resolve();
    await Deno.remove(file);
  }
});

Deno.test("workers: 1 (the default) is the single-isolate path; --workers 2 overrides it", async () => {
  await using upstream = startUpstream();
  const yaml = config([upstream.url]).replace("workers: 2 }", "workers: 1 }");
  const file = await tempConfig(yaml);
  try {
    {
      await using single = await startChildProxy([
        "run",
        "--allow-net",
        "--allow-read",
        "main.ts",
        "--config",
        file,
      ]);
      assert.equal((await fetchFresh(`${single.url}/`)).status, 200);
      assert.doesNotMatch(single.stderr(), /workers\)/, "no control plane");
      const workers = await fetch(`http://127.0.0.1:${adminPort(yaml)}/workers`);
      assert.equal(workers.status, 404, "the single-isolate admin app has no /workers");
      await workers.body?.cancel();
    }
    await using proxy = await startWorkersProxy(file, "--workers", "2");
    assert.match(proxy.stderr(), /\(.*, 2 workers\)/);
    assert.equal((await fetchFresh(`${proxy.url}/`)).status, 200);
  } finally {
    await Deno.remove(file);
  }
});
