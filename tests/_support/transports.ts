/**
 * Runs a forwarder test once per upstream transport (`http1`, `fetch`): `bothTransports(name, fn)` registers
 * `name [http1]` and `name [fetch]`; while each runs, `startProxy` puts every pool on that transport.
 */
import type { TransportName } from "../../src/transport/transport.ts";

let current: TransportName | undefined;

/** The transport of the `bothTransports` test now running, if any. */
export function transportOverride(): TransportName | undefined {
  return current;
}

export function bothTransports(name: string, fn: (transport: TransportName) => Promise<void>): void {
  for (const transport of ["http1", "fetch"] as const) {
    Deno.test(`${name} [${transport}]`, async () => {
      current = transport;
      try {
        await fn(transport);
      } finally {
        current = undefined;
      }
    });
  }
}
