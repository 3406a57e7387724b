/** A real upstream on loopback (Deno.serve, port 0) that records what it received. */

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  /** Path and query as the upstream saw them. */
  readonly path: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

export type UpstreamHandler = (request: Request, received: ReceivedRequest) => Response | Promise<Response>;

export interface TestUpstream extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedRequest[];
  close(): Promise<void>;
}

/** Starts an upstream. Without a handler it answers 200 with `upstream <port>` in the body. */
export function startUpstream(handler?: UpstreamHandler): TestUpstream {
  const received: ReceivedRequest[] = [];
  let port = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const readBody = handler === undefined || request.method === "GET" || request.method === "HEAD";
    const body = readBody ? new Uint8Array(await request.arrayBuffer()) : new Uint8Array();
    const entry: ReceivedRequest = {
      method: request.method,
      url: request.url,
      path: url.pathname + url.search,
      headers: new Headers(request.headers),
      body,
    };
    received.push(entry);
    if (handler) return handler(request, entry);
    return new Response(`upstream ${port}`, { headers: { "content-type": "text/plain" } });
  });
  port = server.addr.port;
  const close = async () => {
    await server.shutdown();
  };
  return { url: `http://127.0.0.1:${port}`, port, received, close, [Symbol.asyncDispose]: close };
}
