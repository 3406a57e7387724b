import type { ConfigReader } from "./config_reader.ts";

/** `admin:` — the separate admin listener (metrics, stats, reload). Loopback by default. */
export interface AdminConfig {
  readonly host: string;
  readonly port: number;
}

export const ADMIN_KEYS = ["host", "port"];

export function readAdmin(value: unknown, reader: ConfigReader): AdminConfig {
  const m = reader.mapping(value, ["admin"], ADMIN_KEYS) ?? {};
  return {
    host: reader.string(m.host, ["admin", "host"], { default: "127.0.0.1" }),
    port: reader.integer(m.port, ["admin", "port"], { default: 9090, min: 0, max: 65535 }),
  };
}
