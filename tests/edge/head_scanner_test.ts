/** The connection guard's pure scanners: head end, strict line syntax, body framing, chunked bodies. */
import assert from "node:assert/strict";
import { ChunkedScanner, type HeadResult, HeadScan, scanHead } from "../../src/edge/head_scanner.ts";

const limits = { maxHeaderCount: 100, maxHeadBytes: 32 * 1024 };
const encoder = new TextEncoder();

function scanAll(text: string): HeadResult {
  const bytes = encoder.encode(text);
  return scanHead(bytes, bytes.length, new HeadScan(), limits, "x-edge-peer");
}

Deno.test("a complete head reports its end, body framing and a client copy of the guard's field", () => {
  const head = "\r\nPOST / HTTP/1.1\r\nHost: a\r\nX-Edge-Peer: forged\r\nContent-Length: 5\r\n\r\nhello";
  const result = scanAll(head);
  assert.equal(result.kind, "head");
  if (result.kind !== "head") return;
  assert.equal(result.start, 2);
  assert.equal(result.end, head.length - 5);
  assert.deepEqual(result.body, { kind: "length", length: 5 });
  assert.equal(result.drop.length, 1);
  assert.equal(result.upgrade, false);
});

Deno.test("a head split across reads completes on the read that ends it", () => {
  const bytes = encoder.encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  const scan = new HeadScan();
  assert.equal(scanHead(bytes, 10, scan, limits, "x-edge-peer").kind, "incomplete");
  assert.equal(scanHead(bytes, 26, scan, limits, "x-edge-peer").kind, "incomplete");
  assert.equal(scanHead(bytes, bytes.length, scan, limits, "x-edge-peer").kind, "head");
});

Deno.test("bare LF, bare CR, obs-fold, non-token names, bad request lines and bad framing fields are 400 (505 for HTTP/2+); too many fields 431", () => {
  const cases: [string, number][] = [
    ["GET / HTTP/1.1\nHost: a\n\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nT\tansfer-Encoding: chunked\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nX(y): 1\r\n\r\n", 400],
    ["GET / HTTP/0.9\r\nHost: a\r\n\r\n", 400],
    ["GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505],
    ["GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400],
    ["GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501],
    [`GET / HTTP/1.1\r\n${"x: y\r\n".repeat(101)}\r\n`, 431],
  ];
  for (const [head, status] of cases) {
    const result = scanAll(head);
    assert.equal(result.kind, "error", JSON.stringify(head));
    if (result.kind === "error") assert.equal(result.status, status, JSON.stringify(head));
  }
  const hundred = scanAll(`GET / HTTP/1.1\r\n${"x: y\r\n".repeat(100)}\r\n`);
  assert.equal(hundred.kind, "head");
});

function chunked(text: string): { done: boolean; error: string | undefined; consumed: number } {
  const bytes = encoder.encode(text);
  const scanner = new ChunkedScanner();
  let consumed = 0, done = false, error: string | undefined;
  for (let i = 0; i < bytes.length && !done && error === undefined; i++) { // one byte per read
    const progress = scanner.scan(bytes, i, i + 1);
    consumed += progress.consumed;
    done = progress.done;
    error = progress.error;
  }
  return { done, error, consumed };
}

Deno.test("chunked bodies end after the last chunk and trailers, read byte by byte", () => {
  const body = '5;name=value;q="a\\"b"\r\nhello\r\n0\r\nTrailer: x\r\n\r\n';
  const result = chunked(`${body}GET /next`);
  assert.equal(result.error, undefined);
  assert.equal(result.done, true);
  assert.equal(result.consumed, encoder.encode(body).length);
});

Deno.test("malformed chunked framing is an error: empty extension, bare LF, overlong data, bad size", () => {
  for (
    const body of [
      "2;\r\nab\r\n0\r\n\r\n",
      "2\nab\r\n0\r\n\r\n",
      "2\r\nabc\r\n0\r\n\r\n",
      "x\r\n",
      "2 \r\nab\r\n",
    ]
  ) {
    const result = chunked(body);
    assert.notEqual(result.error, undefined, JSON.stringify(body));
    assert.equal(result.done, false);
  }
});
