import type { ConfigReader } from "./config_reader.ts";

/** `websocket:` — how upgraded connections are relayed. Always on; the section only changes the defaults. */
export interface WebSocketConfig {
  /**
   * Idle time after which the proxy pings the client, and waits as long again for the pong before closing
   * (Deno.upgradeWebSocket's `idleTimeout`); 0 disables. Whole seconds.
   */
  readonly pingIntervalMs: number;
  /** Bytes a relay may queue towards one slow side before it closes the connection (1013). */
  readonly maxBufferedBytes: number;
}

export const WEBSOCKET_KEYS = ["ping_interval", "max_buffered_size"];

export const DEFAULT_WEBSOCKET: WebSocketConfig = { pingIntervalMs: 30_000, maxBufferedBytes: 1024 * 1024 };

export function readWebSocket(value: unknown, reader: ConfigReader): WebSocketConfig {
  const path = ["websocket"];
  const m = reader.mapping(value, path, WEBSOCKET_KEYS) ?? {};
  const pingIntervalMs = reader.duration(m.ping_interval, [...path, "ping_interval"], {
    default: DEFAULT_WEBSOCKET.pingIntervalMs,
    min: 0,
  });
  if (pingIntervalMs % 1000 !== 0) {
    reader.fail([...path, "ping_interval"], "must be whole seconds (Deno pings at second granularity)");
  }
  return {
    pingIntervalMs,
    maxBufferedBytes: reader.integer(m.max_buffered_size, [...path, "max_buffered_size"], {
      default: DEFAULT_WEBSOCKET.maxBufferedBytes,
      min: 1024,
    }),
  };
}
