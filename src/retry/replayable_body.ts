/**
 * Makes a request body replayable for retries when it is small, without ever buffering a big one.
 *
 * Reads at most `capBytes + 1` bytes. If the stream ends within the cap, the bytes are returned
 * and can be sent any number of times. Otherwise the caller gets a stream that yields the chunks
 * already read followed by the rest of the original, so nothing is lost, and that request
 * simply is not retried (the house rule: the forwarder streams bodies, it does not buffer them).
 *
 * Pure module: only web streams.
 */

export type ReplayableBody =
  | { readonly replayable: true; readonly bytes: Uint8Array }
  | { readonly replayable: false; readonly body: ReadableStream<Uint8Array> };

export interface ReplayableBodyOptions {
  /** Largest body kept in memory for retries, in bytes. Default 65 536 (64 KiB). */
  capBytes?: number;
}

export async function replayableBody(
  body: ReadableStream<Uint8Array>,
  options: ReplayableBodyOptions = {},
): Promise<ReplayableBody> {
  const { capBytes = 65_536 } = options;
  if (!Number.isInteger(capBytes) || capBytes < 0) {
    throw new RangeError(`replayableBody capBytes must be an integer ≥ 0, got ${capBytes}`);
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size <= capBytes) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch (error) {
      reader.releaseLock();
      throw error;
    }
    if (result.done) {
      reader.releaseLock();
      return { replayable: true, bytes: concat(chunks, size) };
    }
    chunks.push(result.value);
    size += result.value.byteLength;
  }
  return { replayable: false, body: resume(chunks, reader) };
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The chunks already read, then whatever the reader still has; cancelling cancels the source. */
function resume(
  chunks: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (index < chunks.length) {
        controller.enqueue(chunks[index]!);
        chunks[index++] = EMPTY; // let the buffered chunk be collected once it has been handed on
        return;
      }
      const result = await reader.read();
      if (result.done) {
        reader.releaseLock();
        controller.close();
      } else {
        controller.enqueue(result.value);
      }
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
}

const EMPTY = new Uint8Array(0);
