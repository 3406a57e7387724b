/**
 * What the control plane (main isolate) and the worker isolates say to each other over `postMessage`.
 * Everything here is structured-cloneable; `SharedArrayBuffer`s are shared, not copied.
 */
import type { Config } from "../config/types.ts";
import type { SharedRateLimitTable } from "../ratelimit/store_shared_memory.ts";
import type { InFlightTables } from "./shared_in_flight.ts";

/** Shared memory a worker attaches to every runtime it builds. */
export interface SharedState {
  /** Token-bucket tables of `memory` rate-limit policies, by policy signature. */
  readonly rateLimitTables: ReadonlyMap<string, SharedRateLimitTable>;
  readonly inFlight: InFlightTables;
}

/** One upstream's verdict from the control plane's health checks. */
export interface HealthState {
  readonly pool: string;
  readonly upstream: string;
  readonly healthy: boolean;
}

/** A config to serve, with the shared memory and health state that go with it. */
export interface ConfigPayload {
  readonly config: Config;
  readonly shared: SharedState;
  readonly health: readonly HealthState[];
}

export type ToWorker =
  | {
    readonly type: "start";
    readonly workerId: number;
    readonly port: number;
    readonly payload: ConfigPayload;
  }
  | { readonly type: "config"; readonly seq: number; readonly payload: ConfigPayload }
  | ({ readonly type: "health" } & HealthState)
  | {
    readonly type: "admin";
    readonly seq: number;
    readonly method: string;
    readonly path: string;
    readonly headers: readonly (readonly [string, string])[];
    readonly body: string | null;
  }
  | { readonly type: "drain" };

export type FromWorker =
  | { readonly type: "listening"; readonly hostname: string; readonly port: number }
  | { readonly type: "start_failed"; readonly error: string }
  | { readonly type: "applied"; readonly seq: number; readonly ok: boolean; readonly error?: string }
  | {
    readonly type: "admin_response";
    readonly seq: number;
    readonly status: number;
    readonly headers: readonly (readonly [string, string])[];
    readonly body: string;
  }
  /** Access log bytes (whole lines): the control plane writes them to stdout, so lines never interleave. */
  | { readonly type: "log"; readonly bytes: Uint8Array }
  | { readonly type: "drained" };
