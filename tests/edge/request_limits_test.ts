/** Request limits end to end: each limit answers with its status, and the upstream never sees the request. */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";
import { startUpstream } from "../_support/upstream.ts";

const decoder = new TextDecoder();

function get(path: string, headers: string[] = []): string {
  return `GET ${path} HTTP/1.1\r\nHost: example.test\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n`;
}

Deno.test("a request target longer than limits.max_uri_size gets 414 and never reaches the upstream", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));
  const long = await rawRequest(proxy.port, get(`/${"a".repeat(8_000)}`));
  assert.equal(long.status, 414);
  const fits = await rawRequest(proxy.port, get(`/${"a".repeat(7_998)}`));
  assert.equal(fits.status, 200);
  assert.equal(upstream.received.length, 1);
  assert.equal(upstream.received[0]!.path.length, 7_999);
});

Deno.test("request headers over 16 KiB by default get 431 and never reach the upstream", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));
  const big = await rawRequest(proxy.port, get("/", [`x-big: ${"a".repeat(16 * 1024)}`]));
  assert.equal(big.status, 431);
  const fits = await rawRequest(proxy.port, get("/", [`x-big: ${"a".repeat(15 * 1024)}`]));
  assert.equal(fits.status, 200);
  assert.equal(upstream.received.length, 1);
});

Deno.test("more header fields than limits.max_header_count get 431 and never reach the upstream", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { max_header_count: 20 }`);
  const many = Array.from({ length: 20 }, (_, i) => `x-h${i}: v`);
  const refused = await rawRequest(proxy.port, get("/", many));
  assert.equal(refused.status, 431);
  const fits = await rawRequest(proxy.port, get("/", many.slice(0, 10)));
  assert.equal(fits.status, 200);
  assert.equal(upstream.received.length, 1);
});

Deno.test("limits.max_header_count counts lines: a field repeated past the limit gets 431", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { max_header_count: 5 }`);
  // Host plus five X-Dup lines: six lines, one field name after combining.
  const refused = await rawRequest(proxy.port, get("/", Array.from({ length: 5 }, (_, i) => `x-dup: ${i}`)));
  assert.equal(refused.status, 431);
  const fits = await rawRequest(proxy.port, get("/", Array.from({ length: 4 }, (_, i) => `x-dup: ${i}`)));
  assert.equal(fits.status, 200);
  assert.equal(upstream.received.length, 1);
  assert.equal(upstream.received[0]!.headers.get("x-dup"), "0, 1, 2, 3");
});

Deno.test("more than 100 header lines get 431 from the connection guard, before the proxy's handler runs", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]), { guard: true });
  const many = Array.from({ length: 120 }, (_, i) => `x-h${i}: v`);
  const refused = await rawRequest(proxy.port, get("/", many));
  assert.equal(refused.status, 431);
  assert.equal(upstream.received.length, 0);
});

Deno.test("a Content-Length over limits.max_body_size gets 413 before anything is sent upstream", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { max_body_size: 1000 }`);
  const refused = await fetch(`${proxy.url}/upload`, { method: "POST", body: "x".repeat(1001) });
  assert.equal(refused.status, 413);
  assert.match(await refused.text(), /^413 request body larger than 1000 bytes/);
  const fits = await fetch(`${proxy.url}/upload`, { method: "POST", body: "x".repeat(1000) });
  assert.equal(fits.status, 200);
  await fits.body?.cancel();
  assert.equal(upstream.received.length, 1);
});

Deno.test("a route's max_body_size overrides limits.max_body_size for that route only", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(`
server: { port: 0 }
upstreams:
  app: { backends: ["${upstream.url}"] }
limits: { max_body_size: 10 }
routes:
  - { name: uploads, match: { path_prefix: /uploads }, upstream: app, max_body_size: 100 }
  - { name: rest, match: { path_prefix: / }, upstream: app }
`);
  const uploads = await fetch(`${proxy.url}/uploads/a`, { method: "POST", body: "x".repeat(100) });
  assert.equal(uploads.status, 200);
  await uploads.body?.cancel();
  const rest = await fetch(`${proxy.url}/other`, { method: "POST", body: "x".repeat(11) });
  assert.equal(rest.status, 413);
  await rest.body?.cancel();
  assert.deepEqual(upstream.received.map((r) => r.path), ["/uploads/a"]);
});

Deno.test("a chunked body that grows past the limit gets 413 and the upstream never receives it whole", async () => {
  const bodies: string[] = [];
  const upstream = startRawUpstream(async (connection) => {
    let received = ""; // head and body bytes, whatever arrives before the proxy gives up
    try {
      while (true) {
        const chunk = await connection.read();
        if (chunk === undefined) break;
        received += decoder.decode(chunk);
        if (received.endsWith("0\r\n\r\n")) { // complete: answer (the test fails on it)
          await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
          break;
        }
      }
    } finally {
      bodies.push(received);
    }
  });
  try {
    await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { max_body_size: 1000 }`);
    const chunk = `258\r\n${"y".repeat(600)}\r\n`; // 0x258 = 600 bytes
    const response = await rawRequest(
      proxy.port,
      `POST /upload HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}${chunk}0\r\n\r\n`,
    );
    assert.equal(response.status, 413);
  } finally {
    await upstream.close(); // waits for the upstream's connection to end, so `bodies` is complete
  }
  assert.equal(bodies.length, upstream.accepted());
  for (const body of bodies) {
    assert.ok(!body.endsWith("0\r\n\r\n"), "the upstream got a complete body");
    assert.ok(body.split("y").length - 1 <= 1000, "the upstream got more than the limit");
  }
});

Deno.test("a chunked body within the limit streams to the upstream unchanged", async () => {
  await using upstream = startUpstream(async (request) => new Response(await request.text()));
  await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { max_body_size: 1000 }`);
  const chunk = `64\r\n${"z".repeat(100)}\r\n`;
  const response = await rawRequest(
    proxy.port,
    `POST /upload HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n`,
  );
  assert.equal(response.status, 200);
  assert.equal(decoder.decode(response.body), "z".repeat(200));
});

Deno.test("header names with underscores are dropped by default, rejected or allowed by config", async () => {
  await using upstream = startUpstream();
  const headers = ["x_user: mallory", "x-user: alice"];
  {
    await using proxy = startProxy(poolConfig([upstream.url]));
    assert.equal((await rawRequest(proxy.port, get("/drop", headers))).status, 200);
  }
  {
    await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { underscore_headers: reject }`);
    assert.equal((await rawRequest(proxy.port, get("/reject", headers))).status, 400);
  }
  {
    await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { underscore_headers: allow }`);
    assert.equal((await rawRequest(proxy.port, get("/allow", headers))).status, 200);
  }
  assert.deepEqual(
    upstream.received.map((r) => [r.path, r.headers.get("x_user"), r.headers.get("x-user")]),
    [["/drop", null, "alice"], ["/allow", "mallory", "alice"]],
  );
});
