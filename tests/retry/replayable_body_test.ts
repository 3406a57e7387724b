import assert from "node:assert/strict";
import { replayableBody } from "../../src/retry/replayable_body.ts";

function streamOf(chunks: readonly Uint8Array[], onCancel?: () => void): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[index++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
    cancel() {
      onCancel?.();
    },
  });
}

function bytes(from: number, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (from + i) % 256);
}

Deno.test("replayableBody() buffers a body that fits within the cap", async () => {
  const result = await replayableBody(streamOf([bytes(0, 10), bytes(10, 6)]), { capBytes: 16 });
  assert.equal(result.replayable, true);
  if (!result.replayable) return;
  assert.deepEqual([...result.bytes], [...bytes(0, 16)]);
});

Deno.test("replayableBody() treats an empty body as replayable", async () => {
  const result = await replayableBody(streamOf([]));
  assert.equal(result.replayable, true);
  if (result.replayable) assert.equal(result.bytes.byteLength, 0);
});

Deno.test("replayableBody() hands back a larger body as a stream without losing bytes", async () => {
  const chunks = [bytes(0, 10), bytes(10, 10), bytes(20, 10), bytes(30, 5)];
  const result = await replayableBody(streamOf(chunks), { capBytes: 15 });
  assert.equal(result.replayable, false);
  if (result.replayable) return;
  const all = new Uint8Array(await new Response(result.body).arrayBuffer());
  assert.deepEqual([...all], [...bytes(0, 35)]);
});

Deno.test("replayableBody() gives up on a body one byte over the cap", async () => {
  const result = await replayableBody(streamOf([bytes(0, 17)]), { capBytes: 16 });
  assert.equal(result.replayable, false);
});

Deno.test("replayableBody() cancelling the handed-back stream cancels the source", async () => {
  let cancelled = false;
  const result = await replayableBody(
    streamOf([bytes(0, 8), bytes(8, 8), bytes(16, 8)], () => cancelled = true),
    {
      capBytes: 4,
    },
  );
  assert.equal(result.replayable, false);
  if (result.replayable) return;
  await result.body.cancel();
  assert.equal(cancelled, true);
});

Deno.test("replayableBody() rejects a negative cap", async () => {
  await assert.rejects(() => replayableBody(streamOf([]), { capBytes: -1 }), RangeError);
});
