import type { ServerConfig } from "./config/types.ts";

/** What `Deno.serve` needs for the proxy listener: address, and the certificate when TLS is on. */
export type ListenOptions = Deno.ServeTcpOptions & Partial<Deno.TlsCertifiedKeyPem>;

/**
 * Listener options from `server:`. With `server.tls`, Deno.serve terminates TLS and offers HTTP/2 and
 * HTTP/1.1 by ALPN (`h2`, `http/1.1`), so no further setting is needed for HTTP/2.
 */
export function listenOptions(server: ServerConfig): ListenOptions {
  const base = { hostname: server.host, port: server.port };
  return server.tls ? { ...base, cert: server.tls.cert, key: server.tls.key } : base;
}

/** The plain-HTTP redirect listener's options, or undefined when `server.redirect_http_port` is not set. */
export function redirectListenOptions(server: ServerConfig): Deno.ServeTcpOptions | undefined {
  if (server.redirectHttpPort === undefined || !server.tls) return undefined;
  return { hostname: server.host, port: server.redirectHttpPort };
}

/**
 * Answers every plain-HTTP request with 308 to the same host, path and query on HTTPS (308 keeps the method
 * and body, RFC 9110 §15.4.9). `httpsPort` is the TLS listener's port; 443 is left out of the URL.
 */
export function redirectToHttps(httpsPort: number): (request: Request) => Response {
  const portSuffix = httpsPort === 443 ? "" : `:${httpsPort}`;
  return function redirectToHttps(request) {
    const host = request.headers.get("host");
    // The Host may carry the HTTP port; the name is what matters. IPv6 literals keep their brackets.
    const name = host?.match(/^(\[[^\]]*\]|[^:]+)/)?.[1];
    if (name === undefined || name === "") {
      return new Response("400 missing Host header\n", { status: 400 });
    }
    const url = new URL(request.url);
    return new Response(null, {
      status: 308,
      headers: { location: `https://${name}${portSuffix}${url.pathname}${url.search}` },
    });
  };
}
