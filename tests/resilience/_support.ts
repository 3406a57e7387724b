/** Shared helpers for the resilience end-to-end tests: a log collector, waiting without leaked timers. */
import type { RuntimeLog } from "../../src/runtime.ts";

export interface LogEvent {
  readonly event: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A runtime log sink that keeps every event, and lets a test wait for one. */
export class EventLog {
  readonly events: LogEvent[] = [];
  readonly #waiters: { match: (e: LogEvent) => boolean; resolve: (e: LogEvent) => void }[] = [];

  readonly log: RuntimeLog = (event, fields) => {
    const entry = { event, fields };
    this.events.push(entry);
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(entry)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(entry);
      }
    }
  };

  named(event: string): LogEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** Resolves with the next event (from now on) that matches; fails after `guardMs` instead of hanging. */
  async next(match: (e: LogEvent) => boolean, guardMs = 5_000): Promise<LogEvent> {
    const { promise, resolve } = Promise.withResolvers<LogEvent>();
    const waiter = { match, resolve };
    this.#waiters.push(waiter);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no matching log event within ${guardMs} ms`)), guardMs);
    });
    try {
      return await Promise.race([promise, expired]);
    } finally {
      clearTimeout(timer);
      const index = this.#waiters.indexOf(waiter);
      if (index !== -1) this.#waiters.splice(index, 1);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 10 ms; throws after `guardMs` so a broken feature fails instead of hanging. */
export async function waitFor(condition: () => boolean, what: string, guardMs = 5_000): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > guardMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A URL on loopback where nothing listens: bind port 0, note the port, close it. */
export function refusedUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}`;
}
