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
            const chunk = await connection.read();
            if (chunk === undefined) throw new Error("EOF before end of request head");
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
