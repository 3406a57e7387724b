/**
 * A real HTTP backend on 127.0.0.1 with a port chosen by the OS, for health-check tests: its
 * behaviour can be switched between statuses and "hang until the client gives up", and it counts
 * and records the probes it receives.
 */
export type Behaviour = number | "hang" | ((probe: number) => number);

export class LoopbackUpstream implements AsyncDisposable {
  behaviour: Behaviour;
  readonly paths: string[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #waiters: { count: number; resolve: () => void }[] = [];
  readonly #release = Promise.withResolvers<void>();

  constructor(behaviour: Behaviour = 200, body?: () => BodyInit) {
    this.behaviour = behaviour;
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
      const url = new URL(request.url);
      this.paths.push(url.pathname + url.search);
      const count = this.paths.length;
      for (const waiter of this.#waiters) if (count >= waiter.count) waiter.resolve();
      const behaviour = this.behaviour;
      if (behaviour === "hang") {
        const aborted = new Promise<void>((resolve) =>
          request.signal.addEventListener("abort", () => resolve())
        );
        await Promise.race([aborted, this.#release.promise]);
        return new Response(null, { status: 503 });
      }
      const status = typeof behaviour === "function" ? behaviour(count) : behaviour;
      return new Response(body?.() ?? null, { status });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  get probes(): number {
    return this.paths.length;
  }

  /** Resolves once at least `count` probes have arrived. */
  probesReached(count: number): Promise<void> {
    const { promise, resolve } = Promise.withResolvers<void>();
    if (this.paths.length >= count) resolve();
    else this.#waiters.push({ count, resolve });
    return promise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#release.resolve();
    await this.#server.shutdown();
  }
}

/** A loopback port with nothing listening on it (connections are refused). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}
