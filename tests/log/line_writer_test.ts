import assert from "node:assert/strict";
import { BufferedLineWriter } from "../../src/log/line_writer.ts";

const decoder = new TextDecoder();

function recorder() {
  const writes: string[] = [];
  return { writes, write: (bytes: Uint8Array) => Promise.resolve(void writes.push(decoder.decode(bytes))) };
}

Deno.test("BufferedLineWriter.write() only buffers; the batch goes out in one write", async () => {
  const out = recorder();
  await using writer = new BufferedLineWriter({ write: out.write, flushDelayMs: 60_000 });
  writer.write("a");
  writer.write("b");
  writer.write("c");
  assert.deepEqual(out.writes, []);
  await writer.flush();
  assert.deepEqual(out.writes, ["a\nb\nc\n"]);
});

Deno.test("BufferedLineWriter flushes by itself after the delay", async () => {
  const out = recorder();
  const { promise, resolve } = Promise.withResolvers<void>();
  await using writer = new BufferedLineWriter({
    write: (bytes) => out.write(bytes).then(resolve),
    flushDelayMs: 0,
  });
  writer.write("one");
  writer.write("two");
  await promise;
  assert.deepEqual(out.writes, ["one\ntwo\n"]);
});

Deno.test("BufferedLineWriter writes at once when the buffer is full, in order", async () => {
  const out = recorder();
  await using writer = new BufferedLineWriter({ write: out.write, flushDelayMs: 60_000, maxBufferChars: 8 });
  writer.write("1234");
  writer.write("5678"); // 10 chars with line feeds: written now
  writer.write("9");
  await writer.flush();
  assert.deepEqual(out.writes, ["1234\n5678\n", "9\n"]);
});

Deno.test("BufferedLineWriter drops and counts lines when output cannot keep up", async () => {
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  const writes: string[] = [];
  await using writer = new BufferedLineWriter({
    write: async (bytes) => {
      await gate;
      writes.push(decoder.decode(bytes));
    },
    flushDelayMs: 60_000,
    maxPendingBytes: 10,
  });
  writer.write("12345678"); // 9 bytes pending
  void writer.flush();
  writer.write("abc"); // would exceed 10 pending bytes
  void writer.flush();
  assert.equal(writer.dropped, 1);
  open();
  await writer.flush();
  assert.deepEqual(writes, ["12345678\n"]);
});

Deno.test("BufferedLineWriter survives a failing write and reports it", async () => {
  const errors: unknown[] = [];
  await using writer = new BufferedLineWriter({
    write: () => Promise.reject(new Error("broken pipe")),
    flushDelayMs: 60_000,
    onError: (error) => errors.push(error),
  });
  writer.write("x");
  await writer.flush();
  assert.equal(writer.dropped, 1);
  assert.equal((errors[0] as Error).message, "broken pipe");
});

Deno.test("BufferedLineWriter writes what is left on dispose", async () => {
  const out = recorder();
  {
    await using writer = new BufferedLineWriter({ write: out.write, flushDelayMs: 60_000 });
    writer.write("last");
  }
  assert.deepEqual(out.writes, ["last\n"]);
});
