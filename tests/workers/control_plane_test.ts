import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load_config.ts";
import type { Config } from "../../src/config/types.ts";
import { ControlPlane } from "../../src/workers/control_plane.ts";
import { freePort } from "../_support/ports.ts";
import { startUpstream } from "../_support/upstream.ts";
import { waitFor } from "./workers_support.ts";

const ENTRY = new URL("./fault_worker.ts", import.meta.url);

function configFor(upstream: string, admin: number): Config {
  return parseConfig(
    `server: { host: 127.0.0.1, port: 0, workers: 2, shutdown_timeout: 2s }
admin: { host: 127.0.0.1, port: ${admin} }
backends: ["${upstream}"]
`,
    "test.yaml",
  );
}

Deno.test({
  name: "ControlPlane: a reload one worker fails is reported failed with that worker's reason",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using a = startUpstream(() => new Response("a"));
    await using b = startUpstream(() => new Response("b"));
    const admin = freePort();
    const events: Record<string, unknown>[] = [];
    let next = configFor(b.url, admin);
    const plane = new ControlPlane({
      config: configFor(a.url, admin),
      workers: 2,
      load: () => Promise.resolve(next),
      entry: ENTRY,
      log: (event, fields) => events.push({ event, ...fields }),
    });
    assert.equal(await plane.start(), true);
    try {
      const result = await plane.reload();
      assert.equal(result.ok, false);
      assert.equal(result.error, "worker 2: injected failure");
      assert.deepEqual(result.workers, [
        { worker: 1, ok: true },
        { worker: 2, ok: false, error: "injected failure" },
      ]);
      const logged = events.filter((e) => e.event === "config_reload");
      assert.equal(logged.length, 1);
      assert.equal(logged[0]!.ok, false);

      // Worker 2 kept its old runtime: requests it serves still reach upstream a.
      const bodies = new Set<string>();
      for (let i = 0; i < 30 && bodies.size < 2; i++) {
        const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
        bodies.add(await (await fetch(`http://127.0.0.1:${plane.port}/`, { client })).text());
        client.close();
      }
      assert.deepEqual(bodies, new Set(["a", "b"]), "worker 1 serves the new config, worker 2 the old");

      // An invalid config fails in the control plane before any worker sees it.
      next = parseConfig(`backends: ["${b.url}"]\n`, "second.yaml");
      const load = () => Promise.reject(new Error("unreadable"));
      const failing = new ControlPlane({
        config: configFor(a.url, freePort()),
        workers: 2,
        load,
        entry: ENTRY,
      });
      assert.equal((await failing.reload()).error, "cannot load config: Error: unreadable");
    } finally {
      assert.equal(await plane.shutdown(), 0);
    }
  },
});

Deno.test({
  name:
    "ControlPlane: a worker that throws an uncaught error is restarted with backoff, the process lives on",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using upstream = startUpstream(() => new Response("up"));
    const admin = freePort();
    const events: Record<string, unknown>[] = [];
    const plane = new ControlPlane({
      config: configFor(upstream.url, admin),
      workers: 2,
      load: () => Promise.reject(new Error("unused")),
      entry: ENTRY,
      log: (event, fields) => events.push({ event, ...fields }),
    });
    assert.equal(await plane.start(), true);
    try {
      const crash = await fetch(`http://127.0.0.1:${admin}/__crash`).catch((error) => error);
      if (crash instanceof Response) await crash.body?.cancel();
      await waitFor(() => events.some((e) => e.event === "worker_restarted"), "the restart");
      const exit = events.find((e) => e.event === "worker_exit")!;
      assert.equal(exit.worker, 1);
      assert.match(String(exit.reason), /uncaught error: .*injected crash in worker 1/);
      assert.equal(exit.restartInMs, 100);
      assert.deepEqual(plane.workers(), [
        { worker: 1, state: "running", starts: 2 },
        { worker: 2, state: "running", starts: 1 },
      ]);
      assert.equal(await (await fetch(`http://127.0.0.1:${plane.port}/`)).text(), "up");
    } finally {
      assert.equal(await plane.shutdown(), 0);
    }
  },
});
