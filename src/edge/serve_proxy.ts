/**
 * The proxy listener: plain HTTP goes through the {@linkcode ConnectionGuard} when `limits.connection_guard`
 * is on (it needs only --allow-net); TLS listeners are served by `Deno.serve` directly (no header timeout,
 * idle timeout or connection cap there).
 */
import type { Config } from "../config/types.ts";
import { listenOptions } from "../server_options.ts";
import { ConnectionGuard } from "./connection_guard.ts";

export interface ProxyListener {
  readonly addr: Deno.NetAddr;
  shutdown(): Promise<void>;
}

export function serveProxy(
  config: Config,
  handler: Deno.ServeHandler<Deno.NetAddr>,
  onError: (error: unknown) => Response,
  /** A worker isolate (src/workers/): its port, SO_REUSEPORT, and its own "listening" report. */
  worker?: { readonly port: number; readonly onListen: (addr: Deno.NetAddr) => void },
): ProxyListener {
  const scheme = config.server.tls ? "https" : "http";
  const limits = config.limits;
  if (!config.server.tls && limits.connectionGuard) {
    const guard = new ConnectionGuard({
      hostname: config.server.host,
      port: worker?.port ?? config.server.port,
      ...(worker ? { reusePort: true } : {}),
      headerTimeoutMs: limits.headerTimeoutMs,
      idleTimeoutMs: limits.idleTimeoutMs,
      // Deno.serve behind the guard still refuses more than 100 lines (400): the guard's cap cannot exceed it.
      maxHeaderCount: Math.min(limits.maxHeaderCount, 100),
      maxHeadBytes: limits.maxUriBytes + limits.maxHeaderBytes + 1024,
      maxConnections: limits.maxConnections,
      maxConnectionsPerClient: limits.maxConnectionsPerClient,
    }, async (request, info) => {
      try {
        return await handler(request, info);
      } catch (error) {
        return onError(error);
      }
    });
    if (worker) worker.onListen(guard.addr);
    else {
      console.error(
        `proxy listening on http://${guard.addr.hostname}:${guard.addr.port} (${config.source}, connection guard)`,
      );
    }
    return { addr: guard.addr, shutdown: () => guard[Symbol.asyncDispose]() };
  }
  return Deno.serve({
    ...listenOptions(config.server),
    ...(worker ? { port: worker.port, reusePort: true } : {}),
    onListen: (addr) =>
      worker
        ? worker.onListen(addr)
        : console.error(`proxy listening on ${scheme}://${addr.hostname}:${addr.port} (${config.source})`),
    onError,
  }, handler);
}
