import type { ConfigReader } from "./config_reader.ts";

/** `admin:` — the separate admin listener (metrics, stats, explain, dashboard). Loopback by default. */
export interface AdminConfig {
  readonly host: string;
  readonly port: number;
  /** When set, every admin request needs `Authorization: Bearer <token>` (401 otherwise). */
  readonly token?: string;
}

export const ADMIN_KEYS = ["host", "port", "token"];

/** Tokens travel in a header: visible ASCII only, and long enough not to be guessed. */
const TOKEN = /^[\x21-\x7e]{16,4096}$/;

export function readAdmin(value: unknown, reader: ConfigReader): AdminConfig {
  const m = reader.mapping(value, ["admin"], ADMIN_KEYS) ?? {};
  const token = reader.string(m.token, ["admin", "token"]);
  if (token !== undefined && !TOKEN.test(token)) {
    reader.fail(["admin", "token"], "must be 16 to 4096 visible ASCII characters (no spaces)");
  }
  return {
    host: reader.string(m.host, ["admin", "host"], { default: "127.0.0.1" }),
    port: reader.integer(m.port, ["admin", "port"], { default: 9090, min: 0, max: 65535 }),
    ...(token !== undefined && TOKEN.test(token) ? { token } : {}),
  };
}
