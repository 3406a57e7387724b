import { Forwarder } from "../src/proxy/forward.ts";
import { HOP_BY_HOP, responseFromFields, scanResponseHeaders, upstreamRequestHeaderRecord } from "../src/proxy/headers.ts";
import { Http1Transport } from "../src/transport/http1_transport.ts";
import { Upstream } from "../src/upstream/upstream.ts";
import { Cancellation } from "../src/transport/cancellation.ts";

const port = Number(Deno.args[0]);
const upstream = new Upstream(Deno.args[1]!);
const mode = Deno.args[2] ?? "plain";
const transport = new Http1Transport({ maxResponseHeaderBytes: 64 * 1024 });
const forwarder = new Forwarder({ firstByteTimeoutMs: 30_000, maxResponseHeaderBytes: 64 * 1024, via: "1.1 proxy", compression: true });
const never = new Cancellation();
async function handle(request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
  const url = request.url;
  const pathAndQuery = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  let headers: Record<string, string>;
  if (mode.includes("rw")) {
    headers = upstreamRequestHeaderRecord(request.headers, { clientIp: info.remoteAddr.hostname, trusted: false, proto: "http", host: request.headers.get("host") ?? "", requestId: "ablation-0000000000000000000000000000", via: "1.1 proxy" });
  } else {
    headers = Object.create(null);
    request.headers.forEach((value, name) => { if (!HOP_BY_HOP.has(name)) headers[name] = value; });
  }
  if (mode.includes("fwd")) return await forwarder.forward(upstream, { request, pathAndQuery, headers, delivery: info });
  const response = await transport.exchange(upstream, { method: request.method, pathAndQuery, headers, body: null, acceptEncoding: request.headers.get("accept-encoding"), signal: mode.includes("cancel") ? new Cancellation() : never });
  if (mode.includes("rff")) {
    const scan = scanResponseHeaders(response.headers, "1.1 proxy");
    return responseFromFields(response.body, { status: response.status, statusText: response.statusText }, response.headers as Array<[string, string]>, scan);
  }
  return new Response(response.body, { status: response.status, headers: response.headers });
}
Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, handle);
