/**
 * RFC 9112 response parsing of the http1 transport, against a raw TCP upstream that writes exact bytes. Each
 * row states what the client must get (status and body) and whether the upstream connection may be reused:
 * after the row's response a second request goes out, and the upstream's accepted() count says whether it
 * arrived on the same connection (1) or a fresh one (2). Retries and the circuit breaker are off, so every
 * client request is exactly one upstream request.
 */
import assert from "node:assert/strict";
import { startProxy, type TestProxy } from "../_support/proxy.ts";
import { rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";
import { metricSum, rawGet, sleep, transportConfig } from "./_support.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The reply to every request after the row's one. */
const NEXT = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 4\r\n\r\nnext";
/** The payload the upstream puts in bodies; a 502 must never carry it. */
const PAYLOAD = "hello";

type Expect =
  /** The client gets this status and exactly this body, complete by its framing. */
  | { readonly status: number; readonly body: string }
  /** 502 without the upstream's payload. */
  | { readonly status: 502 }
  /** Either a 502, or a response whose body is visibly incomplete (client connection aborted). */
  | { readonly broken: true };

interface Row {
  readonly name: string;
  /** The bytes the upstream writes, one write per element. */
  readonly reply: readonly (string | Uint8Array)[];
  readonly expect: Expect;
  /** Whether the connection must be reused for the next request. */
  readonly reused: boolean;
  /** The upstream closes its side right after the reply. */
  readonly closeAfter?: boolean;
  readonly method?: string;
  /** Interim (1xx) responses the proxy must count. */
  readonly interim?: number;
  /** Header names that must not reach the client. */
  readonly absentHeaders?: readonly string[];
}

const OK = { status: 200, body: PAYLOAD } as const;
const BAD = { status: 502 } as const;
const BROKEN = { broken: true } as const;
const bigHeader = `x-big: ${"a".repeat(2_000)}`;

const ROWS: readonly Row[] = [
  // Baseline and status line.
  {
    name: "a valid response with Content-Length",
    reply: [`HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello`],
    expect: OK,
    reused: true,
  },
  {
    name: "status code 999",
    reply: [`HTTP/1.1 999 Nope\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "status code 099",
    reply: [`HTTP/1.1 099 Nope\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "status code 600",
    reply: [`HTTP/1.1 600 Nope\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "non-digit status code",
    reply: [`HTTP/1.1 2OO OK\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "two-digit status code",
    reply: [`HTTP/1.1 20 OK\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "not an HTTP status line",
    reply: [`HELLO WORLD\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "empty reason phrase (valid)",
    reply: [`HTTP/1.1 200 \r\ncontent-length: 5\r\n\r\nhello`],
    expect: OK,
    reused: true,
  },
  // Field syntax.
  {
    name: "obs-fold continuation line",
    reply: [`HTTP/1.1 200 OK\r\nx-a: one\r\n two\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "space before the colon",
    reply: [`HTTP/1.1 200 OK\r\nx-a : one\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "NUL in a field value",
    reply: [`HTTP/1.1 200 OK\r\nx-a: o\0ne\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "bare CR in a field value",
    reply: [`HTTP/1.1 200 OK\r\nx-a: o\rne\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "bare LF inside the head",
    reply: [`HTTP/1.1 200 OK\r\nx-a: one\nx-b: two\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "bare LF line endings throughout",
    reply: [`HTTP/1.1 200 OK\ncontent-length: 5\n\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "a field name with a non-token character",
    reply: [`HTTP/1.1 200 OK\r\nx(a): one\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "head larger than max_response_header_size",
    reply: [`HTTP/1.1 200 OK\r\n${bigHeader}\r\ncontent-length: 5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  // Content-Length.
  {
    name: "two differing Content-Length fields",
    reply: [`HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!`],
    expect: BAD,
    reused: false,
  },
  {
    name: "Content-Length: 5, 5 (a list of one value)",
    reply: [`HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\nhello`],
    expect: OK,
    reused: true,
  },
  {
    name: "two equal Content-Length fields",
    reply: [`HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 5\r\n\r\nhello`],
    expect: OK,
    reused: true,
  },
  {
    name: "non-digit Content-Length",
    reply: [`HTTP/1.1 200 OK\r\ncontent-length: 5x\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "signed Content-Length",
    reply: [`HTTP/1.1 200 OK\r\ncontent-length: +5\r\n\r\nhello`],
    expect: BAD,
    reused: false,
  },
  {
    name: "Content-Length and Transfer-Encoding: chunked wins, not reused",
    reply: [
      `HTTP/1.1 200 OK\r\ncontent-length: 100\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    ],
    expect: OK,
    reused: false,
  },
  // Chunked.
  {
    name: "chunked body",
    reply: [`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhe\r\n3\r\nllo\r\n0\r\n\r\n`],
    expect: OK,
    reused: true,
  },
  {
    name: "chunked body with upper-case hex",
    reply: [`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nA\r\nhellohello\r\n0\r\n\r\n`],
    expect: { status: 200, body: "hellohello" },
    reused: true,
  },
  {
    name: "chunk extensions are ignored",
    reply: [
      `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;name=value;flag\r\nhello\r\n0;last=1\r\n\r\n`,
    ],
    expect: OK,
    reused: true,
  },
  {
    name: "trailers are read and dropped",
    reply: [
      `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ntrailer: x-trailer\r\n\r\n5\r\nhello\r\n0\r\nx-trailer: secret\r\n\r\n`,
    ],
    expect: OK,
    reused: true,
    absentHeaders: ["x-trailer"],
  },
  {
    name: "chunked body split over several writes",
    reply: [`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n`, "5\r\nhe", "llo\r\n", "0\r\n\r\n"],
    expect: OK,
    reused: true,
  },
  {
    name: "bad hex chunk size",
    reply: [`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`],
    expect: BROKEN,
    reused: false,
  },
  {
    name: "bare LF in chunk framing",
    reply: [`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\nhello\n0\n\n`],
    expect: BROKEN,
    reused: false,
  },
  {
    name: "chunk data longer than its size",
    reply: [`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`],
    expect: BROKEN,
    reused: false,
  },
  {
    name: "missing final chunk, then close",
    reply: [`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n`],
    expect: BROKEN,
    reused: false,
    closeAfter: true,
  },
  // Read until close, and bodyless responses.
  {
    name: "no framing: body read until close",
    reply: [`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nhello`],
    expect: OK,
    reused: false,
    closeAfter: true,
  },
  {
    name: "HEAD response with Content-Length carries no body",
    method: "HEAD",
    reply: [`HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n`],
    expect: { status: 200, body: "" },
    reused: true,
  },
  {
    name: "204 with a Content-Length carries no body",
    reply: [`HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n`],
    expect: { status: 204, body: "" },
    reused: true,
  },
  {
    name: "304 with a Content-Length carries no body",
    reply: [`HTTP/1.1 304 Not Modified\r\ncontent-length: 5\r\netag: "x"\r\n\r\n`],
    expect: { status: 304, body: "" },
    reused: true,
  },
  {
    name: "204 followed by stray body bytes: none forwarded, not reused",
    reply: [`HTTP/1.1 204 No Content\r\n\r\nhello`],
    expect: { status: 204, body: "" },
    reused: false,
  },
  // Interim responses and upgrades.
  {
    name: "100 Continue before the final response is skipped",
    reply: [`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello`],
    expect: OK,
    reused: true,
    interim: 1,
  },
  {
    name: "103 Early Hints before the final response is skipped",
    reply: [
      `HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n`,
      `HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello`,
    ],
    expect: OK,
    reused: true,
    interim: 1,
  },
  {
    name: "100 and 103 both skipped",
    reply: [
      `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello`,
    ],
    expect: OK,
    reused: true,
    interim: 2,
  },
  {
    name: "101 on a request that asked for no upgrade",
    reply: [`HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n`],
    expect: BAD,
    reused: false,
  },
  {
    name: "interim response then close before the final one",
    reply: [`HTTP/1.1 100 Continue\r\n\r\n`],
    expect: BAD,
    reused: false,
    closeAfter: true,
  },
  // Connection management.
  {
    name: "Connection: close from the upstream",
    reply: [`HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 5\r\n\r\nhello`],
    expect: OK,
    reused: false,
  },
  {
    name: "HTTP/1.0 response without keep-alive",
    reply: [`HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nhello`],
    expect: OK,
    reused: false,
  },
  { name: "close before any response byte", reply: [], expect: BAD, reused: false, closeAfter: true },
  {
    name: "close in the middle of the head",
    reply: [`HTTP/1.1 200 OK\r\ncontent-len`],
    expect: BAD,
    reused: false,
    closeAfter: true,
  },
  {
    name: "close mid-body with Content-Length",
    reply: [`HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello`],
    expect: BROKEN,
    reused: false,
    closeAfter: true,
  },
];

/** Waits (bounded) until the proxy holds no active upstream connection, so the row's connection settled. */
async function settled(proxy: TestProxy): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if (metricSum(proxy, "proxy_upstream_connections", { state: "active" }) === 0) return;
    await sleep(50);
  }
}

for (const row of ROWS) {
  Deno.test(`http1 transport, upstream sends ${row.name}`, async () => {
    let served = 0;
    await using upstream = startRawUpstream(async (connection) => {
      while (true) {
        await connection.readHead();
        if (served++ > 0) {
          await connection.write(NEXT);
          continue;
        }
        for (const part of row.reply) await connection.write(part);
        if (row.closeAfter) return;
      }
    });
    await using proxy = startProxy(
      transportConfig([upstream.url], { server: "first_byte_timeout: 3s, max_response_header_size: 1024" }),
    );
    const interimBefore = metricSum(proxy, "proxy_upstream_interim_responses_total");

    const response = await rawRequest(
      proxy.port,
      rawGet(proxy.port, "/row", { method: row.method ?? "GET" }),
    );
    const body = decoder.decode(response.body);

    const expect = row.expect;
    if ("broken" in expect) {
      if (response.status === 200) {
        assert.equal(response.complete, false, `looked complete: ${response.head}`);
      } else assert.equal(response.status, 502, response.head);
    } else if ("body" in expect) {
      assert.equal(response.status, expect.status, `${response.head}\n\n${body}`);
      assert.equal(body, expect.body);
      if (row.method !== "HEAD") assert.equal(response.complete, true, "body incomplete");
    } else {
      assert.equal(response.status, expect.status, `${response.head}\n\n${body}`);
      assert.ok(!body.includes(PAYLOAD), `upstream bytes forwarded in a 502: ${body}`);
    }
    for (const name of row.absentHeaders ?? []) {
      assert.equal(response.headers.get(name), null, `${name} reached the client`);
      assert.ok(!body.includes(name), `${name} in the body`);
    }
    if (row.interim !== undefined) {
      assert.equal(metricSum(proxy, "proxy_upstream_interim_responses_total") - interimBefore, row.interim);
    }
    assert.deepEqual(proxy.errors, [], "the proxy logged an unexpected error (500 path)");

    await settled(proxy);
    const next = await rawRequest(proxy.port, rawGet(proxy.port, "/next"));
    assert.equal(next.status, 200, next.head);
    assert.equal(decoder.decode(next.body), "next");
    assert.equal(
      upstream.accepted(),
      row.reused ? 1 : 2,
      row.reused ? "connection not reused" : "connection reused",
    );
  });
}

/** Reads everything until EOF (or `timeoutMs`); says which ended it. */
async function readAll(conn: Deno.Conn, timeoutMs: number): Promise<{ bytes: Uint8Array; eof: boolean }> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  const parts: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  try {
    while (true) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      parts.push(buffer.slice(0, n));
    }
  } finally {
    clearTimeout(timer);
  }
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return { bytes, eof: !timedOut };
}

Deno.test("http1 transport: upstream closing mid-body aborts the client connection before the declared length", async () => {
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await connection.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000\r\n\r\n`);
    await connection.write("x".repeat(300));
  });
  await using proxy = startProxy(transportConfig([upstream.url]));

  const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  try {
    // Keep-alive request: the only way the client sees EOF is the proxy aborting the connection.
    await conn.write(encoder.encode(rawGet(proxy.port, "/cut", { close: false })));
    const { bytes, eof } = await readAll(conn, 10_000);
    assert.equal(eof, true, "the proxy kept the client connection open after the upstream died mid-body");
    const text = decoder.decode(bytes);
    const end = text.indexOf("\r\n\r\n");
    assert.ok(end > 0, `no response head: ${text}`);
    const head = text.slice(0, end).toLowerCase();
    assert.match(head, /^http\/1\.1 200/);
    const rest = text.slice(end + 4);
    if (/transfer-encoding: *chunked/.test(head)) {
      assert.ok(!rest.endsWith("0\r\n\r\n"), "chunked body ended with the last chunk, so it looks complete");
    } else {
      const declared = Number(/content-length: *(\d+)/.exec(head)?.[1] ?? NaN);
      assert.ok(!(rest.length >= declared), `got ${rest.length} bytes of ${declared}: looks complete`);
    }
    assert.ok(!rest.includes("x".repeat(1000)));
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
});
