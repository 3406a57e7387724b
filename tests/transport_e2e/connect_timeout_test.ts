/**
 * connect_timeout: a loopback listener that never accepts, its accept queue filled first, so the kernel drops
 * further SYNs and the proxy's connect hangs → 504 after connect_timeout. Plus the config keys' validation.
 */
import assert from "node:assert/strict";
import { configErrorsOf } from "../_support/config_errors.ts";
import { parseConfig } from "../../src/config/load_config.ts";
import { startProxy } from "../_support/proxy.ts";
import { transportConfig } from "./_support.ts";

/** A listener whose accept queue is full: connections to it hang in SYN_SENT. */
async function blackholeListener(): Promise<AsyncDisposable & { url: string }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const conns: Deno.Conn[] = [];
  let hanging: Promise<Deno.Conn> | undefined;
  for (let i = 0; i < 5_000 && hanging === undefined; i++) {
    const attempt = Deno.connect({ hostname: "127.0.0.1", port });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([
      attempt,
      new Promise<"hung">((resolve) => timer = setTimeout(() => resolve("hung"), 300)),
    ]);
    clearTimeout(timer);
    if (result === "hung") hanging = attempt;
    else conns.push(result);
  }
  if (hanging === undefined) throw new Error("could not fill the accept queue");
  return {
    url: `http://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      for (const conn of conns) conn.close();
      listener.close();
      await hanging!.then((conn) => conn.close(), () => {});
    },
  };
}

Deno.test("http1 transport: a connect that never completes yields 504 after connect_timeout", async () => {
  await using target = await blackholeListener();
  await using proxy = startProxy(
    transportConfig([target.url], { server: "first_byte_timeout: 30s", pool: ["connect_timeout: 300ms"] }),
  );

  const response = await fetch(`${proxy.url}/never`);
  const body = await response.text();

  assert.equal(response.status, 504, body);
  assert.match(body, /time/i);
});

Deno.test("connection_pool keys parse at the top level and under upstreams.<name>", () => {
  // Accepted: no ConfigError thrown.
  parsesOk(
    [
      "server: { port: 0 }",
      "transport: fetch",
      "connection_pool: { max_idle_connections: 8, max_connections: 0, queue_timeout: 1s, idle_timeout: 4s, connect_timeout: 5s }",
      "backends: [ { url: 'http://127.0.0.1:1' } ]",
    ].join("\n"),
  );
  parsesOk(
    [
      "server: { port: 0 }",
      "upstreams:",
      "  api:",
      "    transport: http1",
      "    connection_pool: { max_connections: 4, queue_timeout: 200ms }",
      "    backends: [ { url: 'http://127.0.0.1:1' } ]",
      "routes:",
      "  - { match: { path_prefix: / }, upstream: api }",
    ].join("\n"),
  );
});

/** Parses `yaml`; a ConfigError fails the test with its lines. */
function parsesOk(yaml: string): void {
  parseConfig(yaml, "config.yaml");
}

for (
  const [what, line, word] of [
    ["an unknown transport", "transport: http3", /transport/],
    ["a negative max_connections", "connection_pool: { max_connections: -1 }", /max_connections/],
    ["a non-duration connect_timeout", "connection_pool: { connect_timeout: soon }", /connect_timeout/],
    ["a non-duration queue_timeout", "connection_pool: { queue_timeout: later }", /queue_timeout/],
    ["an unknown connection_pool key", "connection_pool: { max_conections: 1 }", /max_conections/],
  ] as const
) {
  Deno.test(`config rejects ${what}`, () => {
    const errors = configErrorsOf(
      ["server: { port: 0 }", line, "backends: [ { url: 'http://127.0.0.1:1' } ]"].join("\n"),
    );
    assert.ok(errors.some((error) => word.test(error)), errors.join("\n"));
  });
}
