/**
 * Connection guard: accepts TCP connections itself and relays each one to `Deno.serve` on a private unix
 * socket with plain read/write loops, so it can do what Deno.serve cannot: a header-read timeout (408 and
 * close), strict head syntax (bare LF or CR → 400, more header fields than allowed → 431, both and close),
 * strict chunked framing (400 and close) and a connection cap (503 and close). Plain HTTP only. The client's
 * address reaches the app as `info.remoteAddr`: the guard inserts its own field (dropping any client copy)
 * with `Connection: x-edge-peer` (so the forwarder drops it as hop-by-hop) and the unix-side handler reads it;
 * only the guard can connect to the socket (private temp dir).
 */
import { type BodyFraming, ChunkedScanner, HeadScan, scanHead } from "./head_scanner.ts";

export interface GuardOptions {
  readonly hostname: string;
  readonly port: number;
  readonly headerTimeoutMs: number;
  readonly maxHeaderCount: number;
  readonly maxHeadBytes: number;
  readonly maxConnections: number;
  /** Open connections from one IP address; 0 = no cap. */
  readonly maxConnectionsPerClient: number;
  /** No request in progress and no byte received for this long after a response: close. */
  readonly idleTimeoutMs: number;
}

const encoder = new TextEncoder();
const OWN_FIELD = "x-edge-peer";
const REASONS: Record<number, string> = {
  400: "Bad Request",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  503: "Service Unavailable",
};

function errorResponse(status: number): Uint8Array {
  const reason = REASONS[status] ?? "Error";
  const body = `${status} ${reason}\n`;
  return encoder.encode(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n` +
      `connection: close\r\n\r\n${body}`,
  );
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  total = 0;
  for (const p of parts) {
    out.set(p, total);
    total += p.length;
  }
  return out;
}

/** One guarded listener; `handler` is the app, served by Deno.serve on the unix side. */
export class ConnectionGuard implements AsyncDisposable {
  readonly addr: Deno.NetAddr;
  readonly #listener: Deno.TcpListener;
  readonly #server: Deno.HttpServer;
  readonly #dir: string;
  readonly #path: string;
  readonly #options: GuardOptions;
  readonly #clients = new Set<Deno.TcpConn>();
  readonly #perClient = new Map<string, number>();

  constructor(options: GuardOptions, handler: Deno.ServeHandler<Deno.NetAddr>) {
    this.#options = options;
    this.#dir = Deno.makeTempDirSync({ prefix: "proxy-edge-" });
    this.#path = `${this.#dir}/http.sock`;
    this.#server = Deno.serve({ path: this.#path, onListen() {} }, (request, info) => {
      const [hostname = "unknown", port = "0"] = (request.headers.get(OWN_FIELD) ?? "").split(" ");
      return handler(request, {
        remoteAddr: { transport: "tcp", hostname, port: Number(port) },
        completed: info.completed,
      });
    });
    this.#listener = Deno.listen({ hostname: options.hostname, port: options.port });
    this.addr = this.#listener.addr;
    this.#accept();
  }

  /** Open client connections. */
  get open(): number {
    return this.#clients.size;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const cap = this.#options.maxConnections;
        if (cap > 0 && this.#clients.size >= cap) {
          conn.write(errorResponse(503)).catch(() => {}).finally(() => {
            try {
              conn.close();
            } catch { /* closed */ }
          });
          continue;
        }
        const ip = conn.remoteAddr.hostname;
        const fromIp = this.#perClient.get(ip) ?? 0;
        const perClient = this.#options.maxConnectionsPerClient;
        if (perClient > 0 && fromIp >= perClient) {
          conn.write(errorResponse(503)).catch(() => {}).finally(() => {
            try {
              conn.close();
            } catch { /* closed */ }
          });
          continue;
        }
        this.#perClient.set(ip, fromIp + 1);
        this.#clients.add(conn);
        this.#relay(conn).catch(() => {}).finally(() => {
          this.#clients.delete(conn);
          const left = (this.#perClient.get(ip) ?? 1) - 1;
          if (left === 0) this.#perClient.delete(ip);
          else this.#perClient.set(ip, left);
        });
      }
    } catch { /* listener closed */ }
  }

  async #relay(client: Deno.TcpConn): Promise<void> {
    let server: Deno.UnixConn;
    try {
      server = await Deno.connect({ transport: "unix", path: this.#path });
    } catch {
      client.close();
      return;
    }
    const { hostname, port } = client.remoteAddr;
    const peer = encoder.encode(`${OWN_FIELD}: ${hostname} ${port}\r\nconnection: ${OWN_FIELD}\r\n`);
    let closed = false;
    const closeAll = () => {
      if (closed) return;
      closed = true;
      clearTimeout(timer);
      for (const c of [client, server]) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    };
    const fail = async (status: number) => {
      if (closed) return;
      closed = true; // no more relaying either way
      clearTimeout(timer);
      try {
        server.close();
      } catch { /* closed */ }
      await client.write(errorResponse(status)).catch(() => {});
      try {
        client.close();
      } catch { /* closed */ }
    };
    let timer = setTimeout(() => fail(408), this.#options.headerTimeoutMs);
    const scan = new HeadScan();
    let head: Uint8Array = new Uint8Array(0);
    let framing: BodyFraming | "tunnel" | "head" = "head";
    const back = (async () => {
      const buffer = new Uint8Array(65536);
      while (!closed) {
        const n = await server.read(buffer).catch(() => null);
        if (n === null || closed) break;
        if (await client.write(buffer.subarray(0, n)).then(() => false, () => true)) break;
        if (framing === "head" && head.length === 0 && scan.pos === 0) {
          clearTimeout(timer); // keep-alive: nothing received since; closed quietly after idle_timeout
          timer = setTimeout(closeAll, this.#options.idleTimeoutMs);
        }
      }
      closeAll();
    })();

    let remaining = 0;
    let chunks = new ChunkedScanner();
    const buffer = new Uint8Array(65536);
    /** Relays bytes[at, n); false when the connection failed. */
    const process = async (bytes: Uint8Array, at: number, n: number): Promise<boolean> => {
      while (at < n) {
        if (framing === "tunnel") {
          await server.write(bytes.subarray(at, n));
          return true;
        }
        if (framing === "head") {
          if (head.length === 0 && scan.pos === 0) {
            clearTimeout(timer); // a new head: it must complete within header_timeout
            timer = setTimeout(() => fail(408), this.#options.headerTimeoutMs);
          }
          head = concat([head, bytes.subarray(at, n)]);
          const result = scanHead(head, head.length, scan, this.#options, OWN_FIELD);
          if (result.kind === "incomplete") return true;
          if (result.kind === "error") {
            await fail(result.status);
            return false;
          }
          clearTimeout(timer);
          const parts: Uint8Array[] = [head.subarray(result.start, result.requestLineEnd), peer];
          let from = result.requestLineEnd;
          for (const [s, e] of result.drop) {
            parts.push(head.subarray(from, s));
            from = e;
          }
          parts.push(head.subarray(from, result.end));
          await server.write(concat(parts));
          const rest = head.subarray(result.end);
          scan.reset();
          head = new Uint8Array(0);
          framing = result.upgrade ? "tunnel" : result.body.kind === "none" ? "head" : result.body;
          if (framing !== "tunnel" && framing !== "head") {
            if (framing.kind === "length") remaining = framing.length;
            else chunks = new ChunkedScanner();
          }
          bytes = rest;
          at = 0;
          n = rest.length;
          continue;
        }
        if (framing.kind === "length") {
          const take = Math.min(remaining, n - at);
          await server.write(bytes.subarray(at, at + take));
          remaining -= take;
          at += take;
          if (remaining === 0) framing = "head";
        } else {
          const progress = chunks.scan(bytes, at, n);
          if (progress.error !== undefined) {
            await fail(400);
            return false;
          }
          await server.write(bytes.subarray(at, at + progress.consumed));
          at += progress.consumed;
          if (progress.done) framing = "head";
        }
      }
      return true;
    };
    try {
      while (!closed) {
        const n = await client.read(buffer).catch(() => null);
        if (n === null || closed) break;
        if (!(await process(buffer, 0, n))) break;
      }
      if (!closed) server.closeWrite();
    } catch {
      closeAll();
    }
    await back;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* closed */ }
    for (const c of this.#clients) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await this.#server.shutdown();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
