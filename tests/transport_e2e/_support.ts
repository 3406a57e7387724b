/** Shared pieces of the transport end-to-end tests: config text, metric sums, raw client requests. */
import { parsePrometheusText } from "../_support/prom_parser.ts";
import type { TestProxy } from "../_support/proxy.ts";

export type TransportName = "http1" | "fetch";
export const TRANSPORTS: readonly TransportName[] = ["http1", "fetch"];

export interface TransportConfigOptions {
  readonly transport?: TransportName;
  /** Extra `server:` keys in flow style, e.g. `first_byte_timeout: 2s`. */
  readonly server?: string;
  /** YAML lines of the `connection_pool:` mapping, e.g. `["max_connections: 1"]`. */
  readonly pool?: readonly string[];
  /** `retries:` value (default `off`, so one upstream request per client request). */
  readonly retries?: string;
}

/** One default pool over `urls`, retries and circuit breaker off unless asked, transport given explicitly. */
export function transportConfig(urls: readonly string[], options: TransportConfigOptions = {}): string {
  return [
    `server: { port: 0${options.server ? `, ${options.server}` : ""} }`,
    `transport: ${options.transport ?? "http1"}`,
    `retries: ${options.retries ?? "off"}`,
    "circuit_breaker: off",
    ...(options.pool ? ["connection_pool:", ...options.pool.map((line) => `  ${line}`)] : []),
    "backends:",
    ...urls.map((url) => `  - url: "${url}"`),
  ].join("\n");
}

/** Sum over all label sets of `name` (optionally only those whose labels include `labels`); 0 when absent. */
export function metricSum(proxy: TestProxy, name: string, labels: Record<string, string> = {}): number {
  const family = parsePrometheusText(proxy.registry.expose()).get(name);
  if (!family) return 0;
  return family.samples
    .filter((sample) => sample.name === name)
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** True when the metric family `name` is exposed at all. */
export function hasMetric(proxy: TestProxy, name: string): boolean {
  return parsePrometheusText(proxy.registry.expose()).has(name);
}

/** A raw HTTP/1.1 request head (and body) for `rawRequest`. */
export function rawGet(
  port: number,
  path: string,
  options: { method?: string; close?: boolean } = {},
): string {
  return [
    `${options.method ?? "GET"} ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    ...(options.close === false ? [] : ["Connection: close"]),
    "",
    "",
  ].join("\r\n");
}

/** Resolves after `ms` and leaves no timer behind once it did. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
