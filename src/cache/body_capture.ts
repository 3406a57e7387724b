/**
 * Reading a response body into the cache while it streams to the client, never holding more than a cap.
 * Web streams only (no I/O of its own), so it stays a pure module.
 */

export type Bytes = Uint8Array<ArrayBuffer>;

/**
 * Returns a stream that passes `body` through chunk by chunk (pull-driven, so the client's pace sets the
 * upstream's) and calls `onEnd` once: with the whole body when it ended normally within `maxBytes`, or with
 * undefined when it grew past `maxBytes` (collection stops, streaming goes on), failed, or was cancelled by
 * the client. A truncated or errored body is never handed over.
 */
export function captureBody(
  body: ReadableStream<Bytes>,
  maxBytes: number,
  onEnd: (bytes: Bytes | undefined) => void,
  /** Content-Length when known: once reached, the end is read before the last chunk goes out (below). */
  expectedBytes?: number,
): ReadableStream<Bytes> {
  const reader = body.getReader();
  let chunks: Bytes[] | undefined = [];
  let total = 0;
  let ended = false;
  const end = (bytes: Bytes | undefined) => {
    if (ended) return;
    ended = true;
    chunks = undefined;
    onEnd(bytes);
  };
  return new ReadableStream<Bytes>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Bytes>;
      try {
        result = await reader.read();
      } catch (error) {
        end(undefined);
        controller.error(error);
        return;
      }
      if (result.done) {
        const collected = chunks;
        controller.close();
        end(collected === undefined ? undefined : concat(collected, total));
        return;
      }
      const chunk = result.value;
      if (chunks !== undefined) {
        total += chunk.byteLength;
        if (total > maxBytes) chunks = undefined;
        else chunks.push(chunk);
      }
      if (chunks !== undefined && total === expectedBytes) {
        // All declared bytes are in: confirm the end before the client gets the last chunk, so the entry is
        // stored by the time a client that counts Content-Length sends its next request.
        let next: ReadableStreamReadResult<Bytes>;
        try {
          next = await reader.read();
        } catch (error) {
          end(undefined);
          controller.error(error);
          return;
        }
        if (next.done) {
          const collected = chunks;
          controller.enqueue(chunk);
          controller.close();
          end(concat(collected, total));
          return;
        }
        chunks = undefined; // more bytes than declared: mis-framed, never stored
        controller.enqueue(chunk);
        controller.enqueue(next.value);
        return;
      }
      controller.enqueue(chunk);
    },
    async cancel(reason) {
      end(undefined);
      await reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** Reads a whole body, or returns undefined (and cancels it) once it exceeds `maxBytes`. */
export async function readCapped(body: ReadableStream<Bytes>, maxBytes: number): Promise<Bytes | undefined> {
  const chunks: Bytes[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) return undefined; // leaving the loop cancels the stream
    chunks.push(chunk);
  }
  return concat(chunks, total);
}

function concat(chunks: readonly Bytes[], total: number): Bytes {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
