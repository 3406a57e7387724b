/** The proxy behind its connection guard (main.ts's listener), over raw sockets: what Deno.serve cannot do. */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { rawExchange } from "../_support/raw_upstream.ts";
import { startUpstream } from "../_support/upstream.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Reads until the server closes (closed: true) or 10 s pass (closed: false, a safety bound). */
async function readToEnd(conn: Deno.Conn): Promise<{ text: string; closed: boolean }> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, 10_000);
  let text = "";
  const buffer = new Uint8Array(65536);
  while (true) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n));
  }
  clearTimeout(timer);
  if (!timedOut) conn.close();
  return { text, closed: !timedOut };
}

Deno.test("guarded: bare-LF header lines get 400 and never reach the upstream", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]), { guard: true });
  assert.match(await rawExchange(proxy.port, "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n"), /^HTTP\/1\.1 400 /);
  assert.match(await rawExchange(proxy.port, "GET / HTTP/1.1\nHost: a\n\n"), /^HTTP\/1\.1 400 /);
  assert.equal(upstream.received.length, 0);
});

Deno.test("guarded: a chunk extension `2;` without a name gets 400 and the connection is closed", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]), { guard: true });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  await conn.write(
    encoder.encode("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2;\r\nab\r\n0\r\n\r\n"),
  );
  const { text, closed } = await readToEnd(conn);
  assert.equal(closed, true);
  assert.match(text, /^HTTP\/1\.1 400 /);
  assert.equal(upstream.received.filter((r) => r.body.length === 2).length, 0);
});

Deno.test("guarded: a slowloris head gets 408 within header_timeout and the connection is closed", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { header_timeout: 1s }`, {
    guard: true,
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "));
  const { text, closed } = await readToEnd(conn);
  assert.equal(closed, true);
  assert.match(text, /^HTTP\/1\.1 408 /);
  assert.equal(upstream.received.length, 0);
});

Deno.test("guarded: an idle keep-alive connection is closed after idle_timeout", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { idle_timeout: 1s }`, {
    guard: true,
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const { text, closed } = await readToEnd(conn);
  assert.equal(closed, true);
  assert.match(text, /^HTTP\/1\.1 200 /);
});

Deno.test("guarded: max_connections and max_connections_per_client refuse the next connection with 503", async () => {
  await using upstream = startUpstream();
  for (const key of ["max_connections", "max_connections_per_client"]) {
    await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { ${key}: 1 }`, { guard: true });
    const held = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
    try {
      await held.write(encoder.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n")); // served: it is counted
      const first = new Uint8Array(4096);
      assert.match(decoder.decode(first.subarray(0, (await held.read(first)) ?? 0)), /^HTTP\/1\.1 200 /);
      assert.match(
        await rawExchange(proxy.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        /^HTTP\/1\.1 503 /,
        key,
      );
    } finally {
      held.close();
    }
  }
});

Deno.test("guarded: past limits.max_header_count the guard answers 431 and closes the connection", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { max_header_count: 10 }\n`, {
    guard: true,
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  await conn.write(encoder.encode(`GET / HTTP/1.1\r\nHost: a\r\n${"X-F: 1\r\n".repeat(10)}\r\n`));
  const { text, closed } = await readToEnd(conn);
  assert.match(text, /^HTTP\/1\.1 431 /);
  assert.match(text, /connection: close/i);
  assert.equal(closed, true);
  assert.equal(upstream.received.length, 0);
});
