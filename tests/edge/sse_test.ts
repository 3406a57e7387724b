/**
 * Server-sent events through the proxy: each event reaches the client on its own before the upstream sends
 * the next (the upstream waits for the client's acknowledgement, so a buffering proxy would deadlock and the
 * gate's timer would fail the test), nothing compresses the stream, and a client that leaves cancels it.
 */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** How long a gate waits for its condition before a timer opens it (and the test then fails). */
const GATE_MS = 3_000;

/** A promise that the test resolves, or a timer resolves with `false` after GATE_MS. */
function gate(): { open: () => void; opened: Promise<boolean>; [Symbol.dispose](): void } {
  const { promise, resolve } = Promise.withResolvers<boolean>();
  const timer = setTimeout(() => resolve(false), GATE_MS);
  return {
    open: () => {
      clearTimeout(timer);
      resolve(true);
    },
    opened: promise,
    [Symbol.dispose]: () => clearTimeout(timer),
  };
}

Deno.test("three SSE events reach the client one by one, uncompressed, each before the next is sent", async () => {
  const acks = [gate(), gate()];
  const sentAfterAck: boolean[] = [];
  await using upstream = startUpstream(() => {
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (let i = 1; i <= 3; i++) {
          controller.enqueue(encoder.encode(`id: ${i}\ndata: event ${i}\n\n`));
          if (i < 3) sentAfterAck.push(await acks[i - 1]!.opened);
        }
        controller.close();
      },
    });
    return new Response(body, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  });
  await using proxy = startProxy(poolConfig([upstream.url]));
  try {
    const response = await fetch(`${proxy.url}/events`, { headers: { "accept-encoding": "gzip, br" } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    assert.equal(response.headers.get("content-encoding"), null);
    const reader = response.body!.getReader();
    const events: string[] = [];
    let pending = "";
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      let end;
      while ((end = pending.indexOf("\n\n")) >= 0) {
        events.push(pending.slice(0, end));
        pending = pending.slice(end + 2);
        acks[events.length - 1]?.open(); // tell the upstream this event arrived
      }
    }
    assert.deepEqual(events, ["id: 1\ndata: event 1", "id: 2\ndata: event 2", "id: 3\ndata: event 3"]);
    assert.deepEqual(sentAfterAck, [true, true], "an event was released by the timer: the proxy buffered");
  } finally {
    for (const ack of acks) ack[Symbol.dispose]();
  }
});

Deno.test("a client that disconnects from an SSE stream cancels the upstream's stream", async () => {
  using cancelled = gate();
  let timer: ReturnType<typeof setInterval> | undefined;
  await using upstream = startUpstream(() => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode("data: hello\n\n"));
        // An endless stream: a heartbeat every 50 ms until someone cancels it.
        timer = setInterval(() => controller.enqueue(encoder.encode(": heartbeat\n\n")), 50);
      },
      cancel() {
        clearInterval(timer);
        cancelled.open();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  await using proxy = startProxy(poolConfig([upstream.url]));
  const controller = new AbortController();
  const response = await fetch(`${proxy.url}/events`, { signal: controller.signal });
  const reader = response.body!.getReader();
  const first = await reader.read();
  assert.match(decoder.decode(first.value), /data: hello/);
  controller.abort();
  await reader.closed.catch(() => {});
  const byClient = await cancelled.opened;
  clearInterval(timer);
  assert.ok(byClient, "the upstream stream was still running after the client left");
});
