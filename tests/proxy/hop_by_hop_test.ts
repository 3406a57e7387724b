/**
 * RFC 9110 §7.6.1: hop-by-hop fields, and every field the `Connection` header names, describe one connection
 * and must not be forwarded, in either direction. Raw sockets on both sides show the exact header lines.
 */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";
import { bothTransports } from "../_support/transports.ts";

/** Header names (lower case) in a raw head, status or request line excluded. */
function headerNames(head: string): string[] {
  return head.split("\r\n").slice(1).map((line) => line.slice(0, line.indexOf(":")).trim().toLowerCase());
}

const REQUEST_HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-authorization",
  "x-hop-request",
];

bothTransports(
  "hop-by-hop request headers and those named in Connection do not reach the upstream",
  async () => {
    await using upstream = startRawUpstream(async (connection) => {
      await connection.readHead();
      await connection.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok");
    });
    await using proxy = startProxy(poolConfig([upstream.url]));

    // A GET whose body the forwarder drops, so any Transfer-Encoding upstream could only be a forwarded one.
    const response = await rawRequest(
      proxy.port,
      [
        "GET /hop HTTP/1.1",
        `Host: 127.0.0.1:${proxy.port}`,
        "Connection: keep-alive, X-Hop-Request",
        "X-Hop-Request: secret",
        "Keep-Alive: timeout=5",
        "Proxy-Connection: keep-alive",
        "TE: trailers",
        "Trailer: X-Checksum",
        "Transfer-Encoding: chunked",
        "Upgrade: h2c",
        "Proxy-Authorization: Basic dXNlcjpwYXNz",
        "X-End-To-End: kept",
        "",
        "0",
        "",
        "",
      ].join("\r\n"),
    );

    assert.equal(response.status, 200);
    assert.equal(new TextDecoder().decode(response.body), "ok");
    const head = upstream.heads[0] ?? "";
    const names = headerNames(head);
    for (const name of REQUEST_HOP_BY_HOP) {
      assert.ok(!names.includes(name), `${name} reached the upstream:\n${head}`);
    }
    assert.match(head, /\r\nx-end-to-end: kept(\r\n|$)/i);
  },
);

bothTransports(
  "hop-by-hop response headers and those named in Connection do not reach the client",
  async () => {
    await using upstream = startRawUpstream(async (connection) => {
      await connection.readHead();
      await connection.write(
        [
          "HTTP/1.1 200 OK",
          "Content-Type: application/octet-stream",
          "Connection: keep-alive, X-Hop-Response",
          "X-Hop-Response: secret",
          "Keep-Alive: timeout=5, max=100",
          "Proxy-Connection: keep-alive",
          "TE: trailers",
          "Trailer: X-Checksum",
          "Upgrade: h2c",
          'Proxy-Authenticate: Basic realm="upstream"',
          "X-End-To-End: kept",
          "Transfer-Encoding: chunked",
          "",
          "5\r\nhello\r\n0\r\n\r\n",
        ].join("\r\n"),
      );
    });
    await using proxy = startProxy(poolConfig([upstream.url]));

    const response = await rawRequest(
      proxy.port,
      `GET /hop HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\n\r\n`,
    );

    assert.equal(response.status, 200);
    assert.equal(new TextDecoder().decode(response.body), "hello");
    assert.equal(response.complete, true);
    const names = headerNames(response.head);
    for (
      const name of [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "proxy-authenticate",
        "x-hop-response",
      ]
    ) {
      assert.ok(!names.includes(name), `${name} reached the client:\n${response.head}`);
    }
    // The client may see Transfer-Encoding only as the proxy's own framing of its connection: exactly once.
    assert.ok(names.filter((name) => name === "transfer-encoding").length <= 1, response.head);
    assert.equal(response.headers.get("x-end-to-end"), "kept");
  },
);
