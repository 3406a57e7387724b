/**
 * Content-coding end to end, measured in bytes on the client's socket (Deno's fetch would inflate silently).
 * With the default http1 transport the client's Accept-Encoding reaches the upstream as sent; an upstream's
 * coding is passed through to clients that accept it and decoded for the others, and identity bodies are
 * gzipped for gzip clients (see compression.ts). Whatever the path, Content-Length, when present, matches
 * the body the client receives.
 */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { rawRequest, type RawResponse, startRawUpstream } from "../_support/raw_upstream.ts";
import { startUpstream } from "../_support/upstream.ts";
import { bothTransports } from "../_support/transports.ts";

const encoder = new TextEncoder();

async function gzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function gunzip(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** ~40 KiB of JSON-ish text: compressible, but not trivially (random ids). */
function textBody(): Uint8Array<ArrayBuffer> {
  const rows = Array.from({ length: 400 }, (_, i) => `{"id":${i},"uuid":"${crypto.randomUUID()}","ok":true}`);
  return encoder.encode(`[${rows.join(",\n")}]`);
}

/** The framing the client got agrees with the bytes it got. */
function assertConsistentFraming(response: RawResponse): void {
  assert.equal(response.complete, true, response.head);
  const length = response.headers.get("content-length");
  if (length !== null) assert.equal(Number(length), response.body.length, response.head);
  else assert.equal(response.chunked, true, response.head);
}

function get(port: number, acceptEncoding?: string): string {
  const lines = ["GET /data HTTP/1.1", `Host: 127.0.0.1:${port}`];
  if (acceptEncoding !== undefined) lines.push(`Accept-Encoding: ${acceptEncoding}`);
  return [...lines, "", ""].join("\r\n");
}

/** An upstream that gzips only when the request's Accept-Encoding asks for it, like most web servers. */
function negotiatingUpstream(body: Uint8Array<ArrayBuffer>) {
  return startUpstream(async (request) => {
    const headers = { "content-type": "application/json", vary: "Accept-Encoding" };
    if (/gzip/i.test(request.headers.get("accept-encoding") ?? "")) {
      return new Response(await gzip(body), { headers: { ...headers, "content-encoding": "gzip" } });
    }
    return new Response(body, { headers });
  });
}

bothTransports(
  "a gzip client gets a valid gzip body no larger than the upstream's own gzip of it",
  async (transport) => {
    const body = textBody();
    const upstreamGzip = await gzip(body);
    await using upstream = negotiatingUpstream(body);
    await using proxy = startProxy(poolConfig([upstream.url]));

    const response = await rawRequest(proxy.port, get(proxy.port, "gzip, deflate"));

    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-encoding"), "gzip");
    assert.match(response.headers.get("vary") ?? "", /accept-encoding/i);
    assertConsistentFraming(response);
    assert.deepEqual(await gunzip(new Uint8Array(response.body)), body);
    assert.ok(
      response.body.length <= upstreamGzip.length,
      `proxy sent ${response.body.length} gzip bytes, the upstream's own gzip is ${upstreamGzip.length}`,
    );
    // http1: the client's Accept-Encoding is forwarded as is, and the upstream's gzip passes through.
    // fetch (documented difference): that transport always asks for `identity` (fetch would otherwise
    // decompress silently), and the proxy gzips the identity body itself.
    assert.equal(
      upstream.received[0]!.headers.get("accept-encoding"),
      transport === "http1" ? "gzip, deflate" : "identity",
    );
  },
);

bothTransports(
  "a client without Accept-Encoding gets the plain body with a matching length",
  async (transport) => {
    const body = textBody();
    await using upstream = negotiatingUpstream(body);
    await using proxy = startProxy(poolConfig([upstream.url]));

    const response = await rawRequest(proxy.port, get(proxy.port));

    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-encoding"), null);
    assertConsistentFraming(response);
    assert.deepEqual(new Uint8Array(response.body), body);
    // Nothing invented (http1): a client that sent no Accept-Encoding sends none upstream. fetch (documented
    // difference): that transport sends `identity` so fetch cannot pick a coding and decompress behind our back.
    assert.equal(
      upstream.received[0]!.headers.get("accept-encoding"),
      transport === "http1" ? null : "identity",
    );
  },
);

bothTransports("server.compression: false sends the plain body even to gzip clients", async () => {
  const body = textBody();
  await using upstream = startUpstream(() =>
    new Response(body, { headers: { "content-type": "application/json" } })
  );
  await using proxy = startProxy(poolConfig([upstream.url], "compression: false"));

  const response = await rawRequest(proxy.port, get(proxy.port, "gzip"));

  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-encoding"), null);
  assertConsistentFraming(response);
  assert.deepEqual(new Uint8Array(response.body), body);
});

/** A raw upstream that always answers with a gzip body and its Content-Length, whatever was asked. */
async function alwaysGzipUpstream(body: Uint8Array<ArrayBuffer>) {
  const compressed = await gzip(body);
  const upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await connection.write(
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n" +
        `etag: "v1"\r\ncontent-length: ${compressed.length}\r\n\r\n`,
    );
    await connection.write(compressed);
  });
  return { upstream, compressed };
}

bothTransports(
  "an upstream's gzip body is decoded for a client that does not accept gzip",
  async (transport) => {
    const body = textBody();
    const { upstream } = await alwaysGzipUpstream(body);
    await using _upstream = upstream;
    await using proxy = startProxy(poolConfig([upstream.url]));

    const response = await rawRequest(proxy.port, get(proxy.port));

    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-encoding"), null);
    assertConsistentFraming(response);
    assert.deepEqual(new Uint8Array(response.body), body);
    // The decoded body is a different representation, so a strong validator would be a lie (RFC 9110 §8.8.1).
    assert.equal(response.headers.get("etag"), 'W/"v1"');
    // http1 invents no Accept-Encoding; fetch sends `identity` (documented difference, see the README).
    if (transport === "http1") assert.doesNotMatch(upstream.heads[0] ?? "", /\r\naccept-encoding:/i);
    else assert.match(upstream.heads[0] ?? "", /\r\naccept-encoding: identity\r\n/i);
  },
);

bothTransports("an upstream's gzip body reaches a gzip client byte for byte", async () => {
  const body = textBody();
  const { upstream, compressed } = await alwaysGzipUpstream(body);
  await using _upstream = upstream;
  await using proxy = startProxy(poolConfig([upstream.url]));

  const response = await rawRequest(proxy.port, get(proxy.port, "gzip"));

  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-encoding"), "gzip");
  assertConsistentFraming(response);
  assert.deepEqual(new Uint8Array(response.body), compressed);
  assert.equal(response.headers.get("etag"), '"v1"');
  assert.equal(upstream.accepted(), 1);
});

bothTransports(
  "a small or incompressible response is passed through uncompressed with its Content-Length",
  async () => {
    const small = encoder.encode('{"ok":true}');
    const binary = crypto.getRandomValues(new Uint8Array(4096));
    await using upstream = startUpstream((request) =>
      new URL(request.url).pathname === "/data"
        ? new Response(small, { headers: { "content-type": "application/json" } })
        : new Response(binary, { headers: { "content-type": "image/png" } })
    );
    await using proxy = startProxy(poolConfig([upstream.url]));

    const json = await rawRequest(proxy.port, get(proxy.port, "gzip"));
    const png = await rawRequest(
      proxy.port,
      `GET /img HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\nAccept-Encoding: gzip\r\n\r\n`,
    );

    for (const response of [json, png]) {
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-encoding"), null);
      assertConsistentFraming(response);
    }
    assert.equal(json.headers.get("content-length"), String(small.length));
    assert.deepEqual(new Uint8Array(json.body), small);
    assert.deepEqual(new Uint8Array(png.body), binary);
    assert.equal(upstream.received.length, 2);
  },
);

bothTransports(
  "Cache-Control: no-transform keeps a compressible body identity for gzip clients",
  async () => {
    const body = textBody();
    await using upstream = startUpstream(() =>
      new Response(body, { headers: { "content-type": "application/json", "cache-control": "no-transform" } })
    );
    await using proxy = startProxy(poolConfig([upstream.url]));
    const response = await rawRequest(proxy.port, get(proxy.port, "gzip, br"));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-encoding"), null);
    assert.equal(response.headers.get("content-length"), String(body.length));
    assert.deepEqual(new Uint8Array(response.body), body);
  },
);
