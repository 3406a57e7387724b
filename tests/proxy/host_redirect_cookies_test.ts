/**
 * The proxy is transparent about what the client said and what the upstream answered: the client's Host goes
 * upstream, redirects go back to the client instead of being followed, Set-Cookie fields stay separate, and
 * request headers Deno's fetch would add on its own are not invented.
 */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";
import { startUpstream } from "../_support/upstream.ts";
import { bothTransports } from "../_support/transports.ts";

const decoder = new TextDecoder();

bothTransports("the client's Host header reaches the upstream unchanged", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));

  const response = await rawRequest(proxy.port, "GET /host?q=1 HTTP/1.1\r\nHost: example.test\r\n\r\n");

  assert.equal(response.status, 200);
  assert.equal(decoder.decode(response.body), `upstream ${upstream.port}`);
  const received = upstream.received[0]!;
  assert.equal(received.headers.get("host"), "example.test");
  assert.equal(received.path, "/host?q=1");
  assert.equal(received.headers.get("x-forwarded-host"), "example.test");
});

bothTransports("a redirect from the upstream passes through to the client and is not followed", async () => {
  await using upstream = startUpstream((request) => {
    if (new URL(request.url).pathname === "/old") {
      return new Response(null, { status: 302, headers: { location: "/new" } });
    }
    return new Response("followed");
  });
  await using proxy = startProxy(poolConfig([upstream.url]));

  const response = await rawRequest(proxy.port, `GET /old HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\n\r\n`);

  assert.equal(response.status, 302);
  assert.equal(response.headers.get("location"), "/new");
  assert.equal(decoder.decode(response.body), "");
  assert.deepEqual(upstream.received.map((r) => r.path), ["/old"]);
});

bothTransports("several Set-Cookie fields reach the client as separate header lines", async () => {
  const cookies = ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly", "c=3"];
  await using upstream = startUpstream(() => {
    const headers = new Headers({ "content-type": "text/plain" });
    for (const cookie of cookies) headers.append("set-cookie", cookie);
    return new Response("cookies", { headers });
  });
  await using proxy = startProxy(poolConfig([upstream.url]));

  const response = await rawRequest(proxy.port, `GET /c HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\n\r\n`);

  assert.equal(response.status, 200);
  assert.equal(decoder.decode(response.body), "cookies");
  const lines = response.head.split("\r\n").filter((line) => /^set-cookie:/i.test(line));
  assert.deepEqual(lines.map((line) => line.slice(line.indexOf(":") + 1).trim()), cookies);
  assert.equal(upstream.received.length, 1);
});

bothTransports(
  "User-Agent and Accept-Language the client did not send are not invented by the proxy's fetch",
  async () => {
    await using upstream = startRawUpstream(async (connection) => {
      await connection.readHead();
      await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    });
    await using proxy = startProxy(poolConfig([upstream.url]));

    const response = await rawRequest(
      proxy.port,
      `GET /ua HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\n\r\n`,
    );

    assert.equal(response.status, 200);
    assert.equal(decoder.decode(response.body), "ok");
    const head = upstream.heads[0] ?? "";
    // Deno's fetch would add `user-agent: Deno/2.9.6` and `accept-language: *`; the forwarder sends them empty.
    const userAgent = /\r\nuser-agent:([^\r]*)/i.exec(head)?.[1]?.trim();
    const acceptLanguage = /\r\naccept-language:([^\r]*)/i.exec(head)?.[1]?.trim();
    assert.ok(userAgent === undefined || userAgent === "", head);
    assert.ok(acceptLanguage === undefined || acceptLanguage === "", head);
    assert.doesNotMatch(head, /deno\//i);
    // Deno's fetch also adds `accept: */*`; that means the same as no Accept at all (RFC 9110 §12.5.1).
  },
);

bothTransports("User-Agent and Accept-Language the client did send are forwarded verbatim", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));

  const response = await rawRequest(
    proxy.port,
    `GET /ua HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\nUser-Agent: curl/8.5.0\r\nAccept-Language: de-CH, en;q=0.5\r\n\r\n`,
  );

  assert.equal(response.status, 200);
  assert.equal(decoder.decode(response.body), `upstream ${upstream.port}`);
  const headers = upstream.received[0]!.headers;
  assert.equal(headers.get("user-agent"), "curl/8.5.0");
  assert.equal(headers.get("accept-language"), "de-CH, en;q=0.5");
});
