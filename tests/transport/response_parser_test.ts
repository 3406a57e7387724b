/** Byte cases for the pure HTTP/1.1 response parser and chunked decoder (no sockets). */
import assert from "node:assert/strict";
import {
  ChunkedDecoder,
  parseResponseHead,
  type ResponseHead,
  ResponseParseError,
} from "../../src/transport/response_parser.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function parse(text: string, method = "GET", maxBytes = 8192): ResponseHead | undefined {
  const bytes = encoder.encode(text);
  return parseResponseHead(bytes, 0, bytes.length, { method, maxBytes });
}

function rejects(text: string, pattern: RegExp, method = "GET"): void {
  assert.throws(() => parse(text, method), (error: unknown) => {
    assert.ok(error instanceof ResponseParseError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("a complete head gives status, reason, fields and Content-Length framing", () => {
  const head = parse("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")!;
  assert.equal(head.status, 200);
  assert.equal(head.reason, "OK");
  assert.deepEqual(head.fields, [["content-type", "text/plain"], ["content-length", "5"]]);
  assert.equal(head.framing, "length");
  assert.equal(head.contentLength, 5);
  assert.equal(head.reusable, true);
  assert.equal(
    head.headBytes,
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n".length,
  );
});

Deno.test("an incomplete head returns undefined until the empty line arrives", () => {
  assert.equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"), undefined);
  assert.equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r"), undefined);
});

Deno.test("status codes outside 100–599 and malformed status lines are rejected", () => {
  rejects("HTTP/1.1 600 Nope\r\n\r\n", /outside/);
  rejects("HTTP/1.1 099 Nope\r\n\r\n", /outside|status line/);
  rejects("HTTP/1.1 20 OK\r\n\r\n", /status line/);
  rejects("HTTP/2 200 OK\r\n\r\n", /status line/);
  rejects("ICY 200 OK\r\n\r\n", /status line/);
});

Deno.test("status line: version digit, spaces, digits and reason bytes are checked char by char", () => {
  rejects("HTTP/1.2 200 OK\r\n\r\n", /status line/);
  rejects("HTTP/1.1  200 OK\r\n\r\n", /status line/);
  rejects("HTTP/1.1 2x0 OK\r\n\r\n", /status line/);
  rejects("HTTP/1.1 2000 OK\r\n\r\n", /status line/);
  rejects("HTTP/1.1 200\tOK\r\n\r\n", /status line/);
  rejects("HTTP/1.1 200 O\x01K\r\n\r\n", /status line/);
  rejects("HTTP/1.1 200 O\x7fK\r\n\r\n", /status line/);
  const old = parse("HTTP/1.0 404 Not\tFound\r\ncontent-length: 0\r\n\r\n")!;
  assert.equal(old.status, 404);
  assert.equal(old.reason, "Not\tFound");
  assert.equal(old.reusable, false); // HTTP/1.0 without keep-alive
});

Deno.test("bytes ≥ 0x80 in a head are read one char per byte (latin1), in the reason and in values", () => {
  const bytes = new Uint8Array([
    ...encoder.encode("HTTP/1.1 200 "),
    0xe9,
    ...encoder.encode("t\xe9\r\nx-a: caf"),
    0xe9,
    0x80,
    ...encoder.encode("\r\ncontent-length: 0\r\n\r\n"),
  ]);
  const head = parseResponseHead(bytes, 0, bytes.length, { method: "GET", maxBytes: 8192 })!;
  assert.equal(head.reason, "\xe9t\xc3\xa9"); // each byte one char: é is 0xe9, the UTF-8 é is two chars
  assert.deepEqual(head.fields, [["x-a", "caf\xe9\x80"], ["content-length", "0"]]);
  // The next, pure-ASCII head on the same buffer is not read as the previous one's encoding.
  assert.equal(parse("HTTP/1.1 200 OK\r\nx-b: plain\r\n\r\n")!.fields[0]![1], "plain");
});

Deno.test("an empty reason phrase is accepted", () => {
  assert.equal(parse("HTTP/1.1 204 \r\n\r\n")!.status, 204);
  assert.equal(parse("HTTP/1.1 204\r\n\r\n")!.status, 204);
});

Deno.test("field syntax errors are rejected: obs-fold, space before colon, control bytes, bare LF", () => {
  rejects("HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n", /folding/);
  rejects("HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", /field name/);
  rejects("HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n", /control/);
  rejects("HTTP/1.1 200 OK\r\nX-A: a\x7fb\r\n\r\n", /control/);
  rejects("HTTP/1.1 200 O\x7fK\r\n\r\n", /status line/);
  rejects("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", /CR without LF|control/);
  rejects("HTTP/1.1 200 OK\nX-A: 1\r\n\r\n", /bare LF/);
  rejects("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", /field name/);
  rejects("HTTP/1.1 200 OK\r\n: empty\r\n\r\n", /field name/);
});

Deno.test("Content-Length: a list of one value is fine, differing values and non-digits are not", () => {
  assert.equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n")!.contentLength, 3);
  assert.equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n")!.contentLength, 3);
  rejects("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", /differing/);
  rejects("HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\n", /differing/);
  rejects("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", /invalid/);
  rejects("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", /invalid/);
  rejects("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", /invalid/);
});

Deno.test("CL + TE: chunked wins and the connection is not reused", () => {
  const head = parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n")!;
  assert.equal(head.framing, "chunked");
  assert.equal(head.reusable, false);
});

Deno.test("no framing means read until close, not reused; Connection: close is honoured", () => {
  const head = parse("HTTP/1.1 200 OK\r\n\r\n")!;
  assert.equal(head.framing, "close");
  assert.equal(head.reusable, false);
  assert.equal(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n")!.reusable, false);
  assert.equal(parse("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n")!.reusable, false);
  assert.equal(
    parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n")!.reusable,
    true,
  );
  assert.equal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")!.framing, "close");
});

Deno.test("HEAD, 204 and 304 have no body whatever their headers say; 1xx heads parse", () => {
  assert.equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", "HEAD")!.framing, "none");
  assert.equal(parse("HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n")!.framing, "none");
  assert.equal(parse("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n")!.framing, "none");
  const interim = parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")!;
  assert.equal(interim.status, 100);
  assert.equal(interim.headBytes, "HTTP/1.1 100 Continue\r\n\r\n".length);
});

Deno.test("a head over the size cap is rejected, complete or not", () => {
  const big = "HTTP/1.1 200 OK\r\nX-Big: " + "a".repeat(200) + "\r\n\r\n";
  assert.throws(() => parse(big, "GET", 100), ResponseParseError);
  assert.throws(() => parse(big.slice(0, 150), "GET", 100), ResponseParseError);
  assert.ok(parse(big, "GET", 1000));
});

function decodeChunked(text: string, split = 0): { body: string; done: boolean; consumed: number } {
  const bytes = encoder.encode(text);
  const chunked = new ChunkedDecoder();
  let body = "";
  let consumed = 0;
  const step = split > 0 ? split : bytes.length;
  for (let i = 0; i < bytes.length && !chunked.done; i += step) {
    consumed += chunked.push(bytes, i, Math.min(bytes.length, i + step), (d) => (body += decoder.decode(d)));
  }
  return { body, done: chunked.done, consumed };
}

Deno.test("chunked: sizes in hex, extensions ignored, trailers dropped, byte-at-a-time too", () => {
  const text = "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
  for (const split of [0, 1, 3]) {
    const result = decodeChunked(text, split);
    assert.equal(result.body, "hello0123456789");
    assert.equal(result.done, true);
    assert.equal(result.consumed, text.length - 4, `split ${split}`);
  }
});

Deno.test("chunked: bad sizes, bare LF and missing CRLF after data are errors", () => {
  for (
    const bad of [
      "zz\r\nhello\r\n0\r\n\r\n",
      "5\nhello\r\n0\r\n\r\n",
      "5\r\nhelloX\r\n0\r\n\r\n",
      "5\r\nhello\n0\r\n\r\n",
      "0\r\n\n",
      "\r\n",
      "5;x\nhello",
      "fffffffffffffff\r\n",
    ]
  ) {
    assert.throws(() => decodeChunked(bad), ResponseParseError, JSON.stringify(bad));
  }
});

Deno.test("chunked: an unfinished body is not done", () => {
  const result = decodeChunked("5\r\nhel");
  assert.equal(result.done, false);
  assert.equal(result.body, "hel");
});

Deno.test("a tab inside a value is accepted, also right after a head rejected for a control byte", () => {
  rejects("HTTP/1.1 200 OK\r\nX-A: a\x01b\r\n\r\n", /control/);
  const head = parse("HTTP/1.1 200 OK\r\nX-A: a\tb\r\nX-B: c\r\n\r\n")!;
  assert.deepEqual(head.fields, [["x-a", "a\tb"], ["x-b", "c"]]);
});
