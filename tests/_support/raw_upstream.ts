/**
 * A raw TCP upstream on loopback for what Deno.serve would hide or refuse to do: it captures the exact request
 * bytes and lets each test script the reply (bytes, delays, resets, closing early).
 */

export interface RawConnection {
  readonly conn: Deno.TcpConn;
  /** Reads until the end of the request head (and returns the text of the head). */
  readHead(): Promise<string>;
  /** Reads whatever arrives next (undefined at EOF). */
  read(): Promise<Uint8Array | undefined>;
  write(data: string | Uint8Array): Promise<void>;
  close(): void;
}

export type RawScript = (connection: RawConnection) => Promise<void>;

export interface RawUpstream extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Request heads received, in order. */
  readonly heads: string[];
  /** Number of TCP connections accepted. */
  readonly accepted: () => number;
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function startRawUpstream(script: RawScript): RawUpstream {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const heads: string[] = [];
  const open = new Set<Deno.TcpConn>();
  const tasks = new Set<Promise<void>>();
  let accepted = 0;
  const loop = (async () => {
    for await (const conn of listener) {
      accepted++;
      open.add(conn);
      let pending = new Uint8Array();
      const connection: RawConnection = {
        conn,
        async readHead() {
          while (true) {
            const text = decoder.decode(pending);
            const end = text.indexOf("\r\n\r\n");
            if (end >= 0) {
              const head = text.slice(0, end);
              pending = pending.subarray(encoder.encode(text.slice(0, end + 4)).length);
              heads.push(head);
              return head;
            }
            // Straight from the socket: read() would hand back `pending` itself and this loop would spin.
            const buffer = new Uint8Array(65536);
            const n = await conn.read(buffer).catch(() => null);
            if (n === null) throw new Error("EOF before end of request head");
            const chunk = buffer.subarray(0, n);
            const merged = new Uint8Array(pending.length + chunk.length);
            merged.set(pending);
            merged.set(chunk, pending.length);
            pending = merged;
          }
        },
        async read() {
          if (pending.length > 0) {
            const out = pending;
            pending = new Uint8Array();
            return out;
          }
          const buffer = new Uint8Array(65536);
          const n = await conn.read(buffer).catch(() => null);
          return n === null ? undefined : buffer.subarray(0, n);
        },
        async write(data) {
          const bytes = typeof data === "string" ? encoder.encode(data) : data;
          let written = 0;
          while (written < bytes.length) written += await conn.write(bytes.subarray(written));
        },
        close() {
          if (open.delete(conn)) {
            try {
              conn.close();
            } catch { /* already closed */ }
          }
        },
      };
      const task = script(connection).catch(() => {}).finally(() => {
        connection.close();
        tasks.delete(task);
      });
      tasks.add(task);
    }
  })().catch(() => {});
  const port = (listener.addr as Deno.NetAddr).port;
  const close = async () => {
    listener.close();
    for (const conn of open) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    open.clear();
    await loop;
    await Promise.allSettled([...tasks]);
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    heads,
    accepted: () => accepted,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Sends raw bytes to a server and returns everything it answers until it closes (or `timeoutMs`). */
export async function rawExchange(port: number, request: string, timeoutMs = 5_000): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  try {
    await conn.write(encoder.encode(request));
    const chunks: string[] = [];
    const buffer = new Uint8Array(65536);
    while (true) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) break;
      chunks.push(decoder.decode(buffer.subarray(0, n)));
      const text = chunks.join("");
      // Stop once a complete response with Content-Length has arrived.
      const end = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
      if (end >= 0 && length && text.length >= end + 4 + Number(length[1])) break;
    }
    return chunks.join("");
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** A response read off the wire by `rawRequest`, with its framing undone. */
export interface RawResponse {
  readonly status: number;
  /** The status line and header lines as sent. */
  readonly head: string;
  readonly headers: Headers;
  /** The body bytes after removing chunked framing. */
  readonly body: Uint8Array;
  /** True when the response used `Transfer-Encoding: chunked`. */
  readonly chunked: boolean;
  /** True when the body was complete by its framing (Content-Length reached, last chunk seen, or EOF). */
  readonly complete: boolean;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfCrlfCrlf(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

/** Decodes a chunked body; `done` is false while the last chunk has not arrived. */
function dechunk(bytes: Uint8Array): { body: Uint8Array; done: boolean } {
  const parts: Uint8Array[] = [];
  let at = 0;
  while (true) {
    let lineEnd = at;
    while (lineEnd + 1 < bytes.length && !(bytes[lineEnd] === 13 && bytes[lineEnd + 1] === 10)) lineEnd++;
    if (lineEnd + 1 >= bytes.length) break;
    const size = parseInt(decoder.decode(bytes.subarray(at, lineEnd)).split(";")[0]!, 16);
    if (Number.isNaN(size)) break;
    if (size === 0) return { body: parts.reduce(concat, new Uint8Array()), done: true };
    const start = lineEnd + 2;
    if (start + size + 2 > bytes.length) break;
    parts.push(bytes.subarray(start, start + size));
    at = start + size + 2;
  }
  return { body: parts.reduce(concat, new Uint8Array()), done: false };
}

/**
 * Sends raw bytes and reads one response as bytes, until its framing says it is complete, the server closes,
 * or `timeoutMs` passes. Use it where fetch would hide the wire (compression, custom Host, framing).
 */
export async function rawRequest(
  port: number,
  request: string | Uint8Array,
  timeoutMs = 5_000,
): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  let bytes: Uint8Array<ArrayBuffer> = new Uint8Array();
  try {
    await conn.write(typeof request === "string" ? encoder.encode(request) : request);
    const buffer = new Uint8Array(65536);
    let eof = false;
    while (true) {
      const parsed = parseRawResponse(bytes, eof);
      if (parsed !== undefined && (parsed.complete || eof)) return parsed;
      if (eof) throw new Error(`connection closed before a response head: ${decoder.decode(bytes)}`);
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) eof = true;
      else bytes = concat(bytes, buffer.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

function parseRawResponse(bytes: Uint8Array, eof: boolean): RawResponse | undefined {
  const end = indexOfCrlfCrlf(bytes);
  if (end < 0) return undefined;
  const head = decoder.decode(bytes.subarray(0, end));
  const [statusLine, ...lines] = head.split("\r\n");
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const status = Number(statusLine!.split(" ")[1]);
  const rest = bytes.subarray(end + 4);
  const chunked = /chunked/i.test(headers.get("transfer-encoding") ?? "");
  if (chunked) {
    const { body, done } = dechunk(rest);
    return { status, head, headers, body, chunked, complete: done };
  }
  const length = headers.get("content-length");
  if (length !== null) {
    const n = Number(length);
    return { status, head, headers, body: rest.slice(0, n), chunked, complete: rest.length >= n };
  }
  const bodyless = status === 204 || status === 304 || (status >= 100 && status < 200);
  return { status, head, headers, body: rest, chunked, complete: bodyless || eof };
}
