/**
 * Bodies stream through the proxy in both directions. Each streaming test is a handshake: one side sends the
 * second chunk only after the other side has received the first, so a proxy that buffered a whole body would
 * deadlock. A timer breaks such a deadlock (so the test fails instead of hanging) and the test checks who
 * released the handshake.
 */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { startRawUpstream } from "../_support/raw_upstream.ts";
import { startUpstream } from "../_support/upstream.ts";
import { bothTransports } from "../_support/transports.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** How long a handshake may wait before the timer releases it (and the test fails). */
const HANDSHAKE_MS = 3_000;

/** A gate opened either by the test's own condition or, failing that, by a timer; records which one. */
function handshake(): {
  open: () => void;
  opened: Promise<void>;
  byTimer: () => boolean;
  [Symbol.dispose](): void;
} {
  const gate = Promise.withResolvers<void>();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    gate.resolve();
  }, HANDSHAKE_MS);
  return {
    open: () => {
      clearTimeout(timer);
      gate.resolve();
    },
    opened: gate.promise,
    byTimer: () => timedOut,
    [Symbol.dispose]: () => clearTimeout(timer),
  };
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>, soFar: string): Promise<string> {
  let text = soFar;
  while (true) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
  }
}

for (const type of ["application/octet-stream", "text/plain"]) {
  bothTransports(
    `the proxy streams a ${type} response body: chunk 2 leaves the upstream only after the client got chunk 1`,
    async () => {
      using clientGotFirst = handshake();
      await using upstream = startUpstream(() => {
        const body = new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(encoder.encode("first;"));
            await clientGotFirst.opened;
            controller.enqueue(encoder.encode("second"));
            controller.close();
          },
        });
        return new Response(body, { headers: { "content-type": type } });
      });
      await using proxy = startProxy(poolConfig([upstream.url]));

      // Deno's fetch sends `Accept-Encoding: gzip, br`, so a text/plain reply also goes through the compressor.
      const response = await fetch(`${proxy.url}/stream`);
      assert.equal(response.status, 200);
      // Deno's fetch inflates transparently but keeps the header, which says whether the compressor ran.
      assert.equal(response.headers.get("content-encoding"), type === "text/plain" ? "gzip" : null);
      const reader = response.body!.getReader();
      let text = "";
      while (!text.includes("first;")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      const beforeRelease = text;
      clientGotFirst.open();
      const all = await readAll(reader, text);

      assert.equal(upstream.received.length, 1);
      assert.equal(
        clientGotFirst.byTimer(),
        false,
        "the proxy held chunk 1 back until the upstream finished",
      );
      assert.equal(beforeRelease, "first;");
      assert.equal(all, "first;second");
    },
  );
}

bothTransports(
  "the proxy streams a request body: the client sends chunk 2 only after the upstream got chunk 1",
  async () => {
    using upstreamGotFirst = handshake();
    let seenBeforeRelease = "";
    let seenAll = "";
    await using upstream = startUpstream(async (request) => {
      const reader = request.body!.getReader();
      let text = "";
      while (!text.includes("first;")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      seenBeforeRelease = text;
      upstreamGotFirst.open();
      seenAll = await readAll(reader, text);
      return new Response(`got ${seenAll}`);
    });
    await using proxy = startProxy(poolConfig([upstream.url]));

    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode("first;"));
        await upstreamGotFirst.opened;
        controller.enqueue(encoder.encode("second"));
        controller.close();
      },
    });
    const response = await fetch(
      `${proxy.url}/upload`,
      { method: "POST", body, duplex: "half" } as RequestInit,
    );

    assert.equal(response.status, 200);
    assert.equal(await response.text(), "got first;second");
    assert.equal(upstreamGotFirst.byTimer(), false, "the proxy held chunk 1 back until the client finished");
    assert.equal(seenBeforeRelease, "first;");
    assert.equal(seenAll, "first;second");
    // A body of unknown length can only go out chunked (RFC 9112 §6.1).
    assert.equal(upstream.received[0]?.headers.get("content-length"), null);
  },
);

for (const method of ["GET", "OPTIONS", "DELETE"]) {
  bothTransports(`a bodyless ${method} reaches the upstream without a body or chunked framing`, async () => {
    const afterHead = Promise.withResolvers<Uint8Array>();
    await using upstream = startRawUpstream(async (connection) => {
      await connection.readHead();
      await connection.write("HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
      // The proxy's client drops the connection after `connection: close`; anything before EOF is a body.
      let extra = new Uint8Array();
      while (true) {
        const chunk = await connection.read();
        if (chunk === undefined) break;
        extra = new Uint8Array([...extra, ...chunk]);
      }
      afterHead.resolve(extra);
    });
    await using proxy = startProxy(poolConfig([upstream.url]));

    const response = await fetch(`${proxy.url}/nobody`, { method });
    await response.body?.cancel();

    assert.equal(response.status, 204);
    const head = upstream.heads[0] ?? "";
    assert.ok(head.startsWith(`${method} /nobody HTTP/1.1\r\n`), head);
    assert.doesNotMatch(head, /\r\ntransfer-encoding:/i);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    assert.ok(length === undefined || length === "0", head);
    assert.equal((await afterHead.promise).length, 0);
  });
}

bothTransports(
  "a 1 MiB POST with Content-Length arrives byte-exact, keeps its Content-Length, and echoes back intact",
  async () => {
    const payload = new Uint8Array(1024 * 1024);
    for (let i = 0; i < payload.length; i += 65536) crypto.getRandomValues(payload.subarray(i, i + 65536));
    let upstreamBody = new Uint8Array();
    await using upstream = startUpstream(async (request) => {
      upstreamBody = new Uint8Array(await request.arrayBuffer());
      return new Response(upstreamBody, { headers: { "content-type": "application/octet-stream" } });
    });
    await using proxy = startProxy(poolConfig([upstream.url]));

    const response = await fetch(`${proxy.url}/upload`, { method: "POST", body: payload });
    const echoed = new Uint8Array(await response.arrayBuffer());

    assert.equal(response.status, 200);
    const received = upstream.received[0]!;
    // The forwarder copies the client's Content-Length, and Deno's fetch honours it for a stream body: the
    // upstream gets the length-delimited message the client sent, not a re-framed chunked one.
    assert.equal(received.headers.get("content-length"), String(payload.length));
    assert.equal(received.headers.get("transfer-encoding"), null);
    assert.deepEqual(upstreamBody, payload);
    assert.deepEqual(echoed, payload);
  },
);
