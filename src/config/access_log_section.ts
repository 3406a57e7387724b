import type { ConfigReader } from "./config_reader.ts";

/** Access log line formats: one JSON object per line, the NCSA Common Log Format, or nothing. */
export type AccessLogFormat = "json" | "common" | "off";

/** `access_log:` — one line per request on stdout; absent means off. */
export interface AccessLogConfig {
  readonly format: AccessLogFormat;
}

export const ACCESS_LOG_KEYS = ["format"];

const FORMATS: readonly AccessLogFormat[] = ["json", "common", "off"];

export function readAccessLog(value: unknown, reader: ConfigReader): AccessLogConfig {
  const m = reader.mapping(value, ["access_log"], ACCESS_LOG_KEYS);
  if (!m) return { format: "off" };
  return { format: reader.string(m.format, ["access_log", "format"], { default: "json", oneOf: FORMATS }) };
}
