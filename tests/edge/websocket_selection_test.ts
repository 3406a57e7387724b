/**
 * WebSocket upgrades choose their upstream with the same selection as HTTP requests (hash key, sticky cookie,
 * breakers, retries, Retry-After), and `/explain` reports that same choice. Real upstreams on loopback, the real
 * proxy and admin app, Deno's WebSocket client.
 */
import assert from "node:assert/strict";
import type { Explanation } from "../../src/admin/explain.ts";
import { startAdmin } from "../_support/admin.ts";
import { freePort } from "../_support/ports.ts";
import { startProxy } from "../_support/proxy.ts";
import { rawRequest } from "../_support/raw_upstream.ts";

interface NamedUpstream extends AsyncDisposable {
  readonly name: string;
  readonly url: string;
  /** WebSocket handshakes received. */
  readonly upgrades: number;
}

/** Answers HTTP with its name, and a WebSocket with one text frame carrying its name. */
function startNamed(name: string): NamedUpstream {
  const state = { upgrades: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response(name);
    state.upgrades++;
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.onopen = () => socket.send(name);
    return response;
  });
  return {
    name,
    url: `http://127.0.0.1:${server.addr.port}`,
    get upgrades() {
      return state.upgrades;
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Opens a WebSocket through the proxy and returns the name the upstream sent first, then closes. */
async function webSocketLandsOn(proxyUrl: string, headers: Record<string, string>): Promise<string> {
  const socket = new WebSocket(proxyUrl.replace(/^http/, "ws") + "/ws", { headers });
  const first = Promise.withResolvers<string>();
  socket.onmessage = (event) => first.resolve(String(event.data));
  socket.onerror = (event) => first.reject(new Error((event as ErrorEvent).message));
  const closed = new Promise((resolve) => socket.onclose = resolve);
  try {
    return await first.promise;
  } finally {
    socket.close();
    await closed;
  }
}

async function httpLandsOn(proxyUrl: string, headers: Record<string, string>): Promise<Response> {
  return await fetch(`${proxyUrl}/http`, { headers });
}

async function explainFor(adminUrl: string, query: string): Promise<Explanation> {
  const response = await fetch(`${adminUrl}/explain?path=/ws&${query}`);
  assert.equal(response.status, 200);
  return await response.json() as Explanation;
}

Deno.test("a WebSocket to a consistent_hash pool lands where an HTTP request with the same key does, as /explain says", async () => {
  await using a = startNamed("a");
  await using b = startNamed("b");
  await using c = startNamed("c");
  const byUrl = new Map([a, b, c].map((u) => [u.url, u.name]));
  await using proxy = startProxy([
    "server: { port: 0 }",
    `backends: ["${a.url}", "${b.url}", "${c.url}"]`,
    "load_balancer: { algorithm: consistent_hash, hash_key: header:x-user }",
  ].join("\n"));
  await using admin = startAdmin(proxy);

  const landed = new Set<string>();
  for (let user = 0; user < 12; user++) {
    const headers = { "x-user": `user-${user}` };
    const http = await (await httpLandsOn(proxy.url, headers)).text();
    const ws = await webSocketLandsOn(proxy.url, headers);
    assert.equal(ws, http, `user-${user}: the WebSocket follows the hash key`);
    const explained = await explainFor(admin.url, `header=${encodeURIComponent(`x-user:user-${user}`)}`);
    assert.equal(explained.pool?.selection.rule, "hash_key");
    assert.equal(explained.pool?.selection.hashKey, `user-${user}`);
    assert.equal(byUrl.get(explained.pool?.selection.upstream ?? ""), http, "explain agrees");
    landed.add(http);
  }
  assert.ok(landed.size >= 2, `keys spread over upstreams: ${[...landed]}`);
});

Deno.test("a WebSocket to a sticky pool follows the cookie an HTTP response set, as /explain says", async () => {
  await using a = startNamed("a");
  await using b = startNamed("b");
  await using c = startNamed("c");
  const byUrl = new Map([a, b, c].map((u) => [u.url, u.name]));
  await using proxy = startProxy([
    "server: { port: 0 }",
    `backends: ["${a.url}", "${b.url}", "${c.url}"]`,
    'load_balancer: { algorithm: round_robin, sticky: { cookie: sid, secret: "websocket-sticky-secret-0123" } }',
  ].join("\n"));
  await using admin = startAdmin(proxy);

  const first = await httpLandsOn(proxy.url, {});
  const pinned = await first.text();
  const cookie = /^sid=([^;]+);/.exec(first.headers.get("set-cookie") ?? "")?.[1];
  assert.ok(cookie !== undefined, "the HTTP response pins the client");
  // Round robin alone would rotate over a, b and c; the cookie keeps every upgrade on the pinned upstream.
  for (let i = 0; i < 6; i++) {
    assert.equal(await webSocketLandsOn(proxy.url, { cookie: `sid=${cookie}` }), pinned, `upgrade ${i}`);
  }
  const explained = await explainFor(admin.url, `cookie=${encodeURIComponent(`sid=${cookie}`)}`);
  assert.equal(explained.pool?.selection.rule, "sticky_cookie");
  assert.equal(byUrl.get(explained.pool?.selection.upstream ?? ""), pinned);
  const unpinned = await explainFor(admin.url, "");
  assert.deepEqual([unpinned.pool?.selection.rule, unpinned.pool?.selection.upstream], ["balancer", null]);
});

Deno.test("a WebSocket whose first upstream refuses the connection is retried on another, and feeds its breaker", async () => {
  await using live = startNamed("live");
  const dead = `http://127.0.0.1:${freePort()}`;
  await using proxy = startProxy(
    [
      "server: { port: 0 }",
      `backends: ["${dead}", "${live.url}"]`,
      "load_balancer: { algorithm: round_robin }",
      "circuit_breaker: { consecutive_failures: 1, base_open_time: 1m }",
    ].join("\n"),
    { log: () => {} },
  );

  for (let i = 0; i < 4; i++) assert.equal(await webSocketLandsOn(proxy.url, {}), "live", `upgrade ${i}`);
  const deadUpstream = proxy.source.current.pools.get("default")!.upstreams[0]!;
  assert.equal(deadUpstream.gate?.state, "open", "the refused handshake counted as a breaker failure");
  assert.equal(live.upgrades, 4);
});

Deno.test("a WebSocket to a pool with nothing available gets 503 with the pool's Retry-After, not a fixed second", async () => {
  await using a = startNamed("a");
  await using proxy = startProxy(
    [
      "server: { port: 0 }",
      `backends: ["${a.url}"]`,
      "health_check: { interval: 1h, timeout: 1s, path: /health }",
      "circuit_breaker: { panic_threshold: 0% }",
    ].join("\n"),
    { log: () => {} },
  );
  proxy.source.current.pools.get("default")!.upstreams[0]!.setHealthy(false);

  const response = await rawRequest(
    proxy.port,
    "GET /ws HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
  );
  assert.equal(response.status, 503);
  assert.equal(response.headers.get("retry-after"), "3600", "the health-check interval, as for HTTP");
  assert.equal(a.upgrades, 0);
});

Deno.test("/explain with client= names where requests hashed by client_ip go; without it, no choice is claimed", async () => {
  await using a = startNamed("a");
  await using b = startNamed("b");
  await using c = startNamed("c");
  const byUrl = new Map([a, b, c].map((u) => [u.url, u.name]));
  await using proxy = startProxy([
    "server: { port: 0 }",
    `backends: ["${a.url}", "${b.url}", "${c.url}"]`,
    "load_balancer: { algorithm: consistent_hash, hash_key: client_ip }",
  ].join("\n"));
  await using admin = startAdmin(proxy);
  const http = await (await httpLandsOn(proxy.url, {})).text();
  assert.equal(await webSocketLandsOn(proxy.url, {}), http);
  const explained = await explainFor(admin.url, "client=127.0.0.1");
  assert.deepEqual(
    [explained.pool?.selection.rule, byUrl.get(explained.pool?.selection.upstream ?? "")],
    ["hash_key", http],
  );
  const unknown = await explainFor(admin.url, "");
  assert.deepEqual([unknown.pool?.selection.rule, unknown.pool?.selection.upstream], ["balancer", null]);
});
