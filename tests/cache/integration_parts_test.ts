import assert from "node:assert/strict";
import { type Bytes, captureBody, readCapped } from "../../src/cache/body_capture.ts";
import { HttpCache } from "../../src/cache/http_cache.ts";
import { RequestCoalescer } from "../../src/cache/request_coalescer.ts";
import { surrogateControl } from "../../src/cache/surrogate_control.ts";

const bytes = (text: string): Bytes => new TextEncoder().encode(text);

function streamOf(chunks: Bytes[], error?: Error): ReadableStream<Bytes> {
  return new ReadableStream<Bytes>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      if (error) controller.error(error);
      else controller.close();
    },
  });
}

Deno.test("captureBody() passes every chunk through and hands over the whole body at the end", async () => {
  let captured: unknown = "not called";
  const out = captureBody(streamOf([bytes("ab"), bytes("cd")]), 10, (body) => captured = body);
  assert.equal(await new Response(out).text(), "abcd");
  assert.ok(captured instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(captured as Bytes), "abcd");
});

Deno.test("captureBody() streams a body over the cap in full but hands over nothing", async () => {
  let captured: unknown = "not called";
  const out = captureBody(streamOf([bytes("abc"), bytes("def")]), 4, (body) => captured = body);
  assert.equal(await new Response(out).text(), "abcdef");
  assert.equal(captured, undefined);
});

Deno.test("captureBody() hands over nothing when the upstream body errors or the client cancels", async () => {
  let errored: unknown = "not called";
  const failing = captureBody(streamOf([bytes("ab")], new Error("reset")), 10, (body) => errored = body);
  await assert.rejects(new Response(failing).text(), /reset/);
  assert.equal(errored, undefined);
  let cancelled: unknown = "not called";
  const cancelling = captureBody(streamOf([bytes("ab"), bytes("cd")]), 10, (body) => cancelled = body);
  const reader = cancelling.getReader();
  await reader.read();
  await reader.cancel();
  assert.equal(cancelled, undefined);
});

Deno.test("readCapped() returns the body within the cap and undefined beyond it", async () => {
  assert.equal(new TextDecoder().decode(await readCapped(streamOf([bytes("ab"), bytes("c")]), 3)), "abc");
  assert.equal(await readCapped(streamOf([bytes("ab"), bytes("cd")]), 3), undefined);
});

Deno.test("RequestCoalescer.lead() makes later callers follow until the work settles", async () => {
  const coalescer = new RequestCoalescer<boolean>({ maxWaitMs: 60_000 });
  const { promise, resolve } = Promise.withResolvers<boolean>();
  assert.equal(coalescer.follow("k"), undefined);
  coalescer.lead("k", promise);
  assert.ok(coalescer.has("k"));
  const follower = coalescer.follow("k");
  assert.ok(follower);
  assert.equal(coalescer.waiting, 1);
  resolve(true);
  assert.deepEqual(await follower, { role: "follower", value: true });
  assert.equal(coalescer.waiting, 0);
  assert.equal(coalescer.has("k"), false);
});

Deno.test("surrogateControl() keeps untargeted directives and those targeted at us", () => {
  const headers = (value: string): Array<[string, string]> => [["surrogate-control", value]];
  assert.equal(surrogateControl([], "proxy"), undefined);
  assert.deepEqual([...surrogateControl(headers("max-age=60, no-store;other"), "proxy")!], [[
    "max-age",
    "60",
  ]]);
  assert.deepEqual([...surrogateControl(headers("no-store;proxy"), "proxy")!], [["no-store", true]]);
  assert.equal(surrogateControl(headers("max-age=60;other"), "proxy"), undefined);
});

Deno.test("HttpCache honours Surrogate-Control over Cache-Control for storing and freshness", () => {
  const T0 = Date.UTC(2026, 10, 26);
  const cache = new HttpCache({ now: () => T0 });
  const request = { method: "GET", url: "http://a.test/s", headers: [] };
  const response = (headers: Array<[string, string]>) => ({
    status: 200,
    headers,
    requestTime: T0,
    responseTime: T0,
  });
  const stored = cache.store(
    request,
    response([["cache-control", "no-store"], ["surrogate-control", "max-age=60"]]),
    bytes("x"),
  );
  assert.equal(stored.stored, true);
  assert.equal(cache.lookup(request).kind, "hit");
  assert.deepEqual(
    cache.store(
      request,
      response([["cache-control", "max-age=60"], ["surrogate-control", "no-store"]]),
      bytes("x"),
    ),
    { stored: false, reason: "no-store" },
  );
});

Deno.test("HttpCache.refusal() decides from the head alone, including a Content-Length over the object cap", () => {
  const cache = new HttpCache({ maxObjectBytes: 100 });
  const request = { method: "GET", url: "http://a.test/r", headers: new Headers() };
  const head = (headers: Array<[string, string]>) => ({ status: 200, headers });
  assert.equal(cache.refusal(request, head([["cache-control", "max-age=60"]])), undefined);
  assert.equal(
    cache.refusal(request, head([["cache-control", "max-age=60"], ["content-length", "101"]])),
    "too-large",
  );
  assert.equal(cache.refusal(request, head([["cache-control", "private"]])), "private");
  assert.equal(cache.refusal(request, head([["cache-control", "max-age=60"], ["vary", "*"]])), "vary-star");
  assert.equal(
    cache.refusal({ ...request, method: "HEAD" }, head([["cache-control", "max-age=60"]])),
    "method",
  );
});

Deno.test("captureBody() with a known length stores before the client receives the last chunk", async () => {
  const seen: { body?: Bytes | undefined; called: boolean } = { called: false };
  const out = captureBody(streamOf([bytes("ab"), bytes("cd")]), 10, (body) => {
    seen.called = true;
    seen.body = body;
  }, 4);
  const reader = out.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), "ab");
  assert.equal(seen.called, false);
  assert.equal(new TextDecoder().decode((await reader.read()).value), "cd");
  assert.equal(new TextDecoder().decode(seen.body), "abcd");
  assert.equal((await reader.read()).done, true);
});

Deno.test("captureBody() never hands over a body longer than its declared length", async () => {
  let captured: unknown = "not called";
  const out = captureBody(streamOf([bytes("ab"), bytes("cd")]), 10, (body) => captured = body, 2);
  assert.equal(await new Response(out).text(), "abcd");
  assert.equal(captured, undefined);
});
