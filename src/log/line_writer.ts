/**
 * Buffered line output for the access log: `write()` only appends to an array, and the lines go out in one
 * `write` per batch, after a short delay or when the buffer is full, so logging never waits for stdout on
 * the request path. Whoever creates the writer disposes it (that flushes what is left).
 */

/** Where access log lines go. */
import { errorReason, stderrEventLog } from "./event_log.ts";
export interface LineSink {
  /** Takes one line without its line feed. Must not block or throw. */
  write(line: string): void;
}

export interface BufferedLineWriterOptions {
  /** Writes bytes out (all of them). Default: standard output. */
  write?: (bytes: Uint8Array) => Promise<void>;
  /** How long a line may wait for company before the batch is written, in ms. Default 10. */
  flushDelayMs?: number;
  /** A batch this large (UTF-16 units, ≈ bytes for ASCII) is written at once. Default 64 KiB. */
  maxBufferChars?: number;
  /** Output waiting behind a slow stdout beyond this is dropped (and counted) instead of piling up. Default 8 MiB. */
  maxPendingBytes?: number;
  /** Told once per failed write (stdout closed, broken pipe); default an `access_log_error` event. */
  onError?: (error: unknown) => void;
}

/** Writes all of `bytes` to standard output (`Deno.stdout.write` may write fewer at once). */
export async function writeStdout(bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await Deno.stdout.write(bytes.subarray(offset));
}

const encoder = new TextEncoder();

export class BufferedLineWriter implements LineSink, AsyncDisposable {
  readonly #write: (bytes: Uint8Array) => Promise<void>;
  readonly #flushDelayMs: number;
  readonly #maxBufferChars: number;
  readonly #maxPendingBytes: number;
  readonly #onError: (error: unknown) => void;
  #lines: string[] = [];
  #chars = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pendingBytes = 0;
  #writing: Promise<void> = Promise.resolve();
  #dropped = 0;
  #disposed = false;

  constructor(options: BufferedLineWriterOptions = {}) {
    const {
      write = writeStdout,
      flushDelayMs = 10,
      maxBufferChars = 64 * 1024,
      maxPendingBytes = 8 * 1024 * 1024,
      onError = (error: unknown) => stderrEventLog("access_log_error", { reason: errorReason(error) }),
    } = options;
    if (!(flushDelayMs >= 0)) throw new RangeError(`flushDelayMs must be ≥ 0, got ${flushDelayMs}`);
    if (!(maxBufferChars >= 1)) throw new RangeError(`maxBufferChars must be ≥ 1, got ${maxBufferChars}`);
    if (!(maxPendingBytes >= 1)) throw new RangeError(`maxPendingBytes must be ≥ 1, got ${maxPendingBytes}`);
    this.#write = write;
    this.#flushDelayMs = flushDelayMs;
    this.#maxBufferChars = maxBufferChars;
    this.#maxPendingBytes = maxPendingBytes;
    this.#onError = onError;
  }

  /** Lines dropped because output could not keep up (or after dispose). */
  get dropped(): number {
    return this.#dropped;
  }

  write(line: string): void {
    if (this.#disposed) {
      this.#dropped++;
      return;
    }
    this.#lines.push(line);
    this.#chars += line.length + 1;
    if (this.#chars >= this.#maxBufferChars) void this.flush();
    else if (this.#timer === undefined) this.#timer = setTimeout(this.#onTimer, this.#flushDelayMs);
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    void this.flush();
  };

  /** Writes the buffered lines now; resolves when everything written so far is out. */
  flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#lines.length === 0) return this.#writing;
    const count = this.#lines.length;
    const bytes = encoder.encode(this.#lines.join("\n") + "\n");
    this.#lines = [];
    this.#chars = 0;
    if (this.#pendingBytes + bytes.length > this.#maxPendingBytes) {
      this.#dropped += count;
      return this.#writing;
    }
    this.#pendingBytes += bytes.length;
    this.#writing = this.#writing.then(async () => {
      try {
        await this.#write(bytes);
      } catch (error) {
        this.#dropped += count;
        this.#onError(error);
      } finally {
        this.#pendingBytes -= bytes.length;
      }
    });
    return this.#writing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.flush();
    this.#disposed = true;
  }
}
