/**
 * The start-up line: which upstreams each pool has and whether something listens there. One TCP connect per
 * upstream (bounded by `timeoutMs`), one `upstreams` event with the result, and each upstream's
 * {@linkcode Upstream.contact} set so `/readyz` does not count an upstream nobody answers for.
 */
import type { EventLog } from "../log/event_log.ts";
import type { Upstream } from "../upstream/upstream.ts";

export interface UpstreamReachability {
  readonly url: string;
  readonly answers: boolean;
  /** Why not, when it does not: `connection refused`, `timeout after 1000 ms`, … */
  readonly reason?: string;
}

/** Connects once to `upstream` (TCP, also for https) and records what it found. */
export async function probeUpstream(upstream: Upstream, timeoutMs: number): Promise<UpstreamReachability> {
  const { hostname, port, protocol } = upstream.url;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connecting = Deno.connect({
    hostname: hostname.replace(/^\[|\]$/g, ""),
    port: Number(port || (protocol === "https:" ? 443 : 80)),
  });
  try {
    const conn = await Promise.race([
      connecting,
      new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), timeoutMs)),
    ]);
    if (conn === "timeout") {
      connecting.then((late) => late.close(), () => {});
      upstream.noteUnreachable();
      return { url: upstream.id, answers: false, reason: `timeout after ${timeoutMs} ms` };
    }
    conn.close();
    upstream.noteAnswered();
    return { url: upstream.id, answers: true };
  } catch (error) {
    upstream.noteUnreachable();
    return { url: upstream.id, answers: false, reason: connectFailureReason(error) };
  } finally {
    clearTimeout(timer);
  }
}

function connectFailureReason(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionRefused) return "connection refused";
  if (error instanceof Deno.errors.ConnectionReset) return "connection reset";
  if (error instanceof Deno.errors.TimedOut) return "timeout";
  if (error instanceof Deno.errors.NotFound) return "host not found";
  return error instanceof Error ? error.message : String(error);
}

/** Probes every upstream of every pool at once and logs one `upstreams` event. */
export async function reportUpstreams(
  pools: ReadonlyMap<string, { readonly upstreams: readonly Upstream[] }>,
  log: EventLog,
  timeoutMs = 1000,
): Promise<Record<string, UpstreamReachability[]>> {
  const entries = await Promise.all(
    [...pools].map(async ([name, pool]) =>
      [name, await Promise.all(pool.upstreams.map((u) => probeUpstream(u, timeoutMs)))] as const
    ),
  );
  const report = Object.fromEntries(entries);
  const all = entries.flatMap(([, list]) => list);
  log("upstreams", {
    configured: all.length,
    answering: all.filter((u) => u.answers).length,
    pools: report,
  });
  return report;
}
