import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/config_reader.ts";
import { parseByteSize } from "../../src/config/cache_section.ts";
import { parseConfig } from "../../src/config/load_config.ts";

const BASE = 'backends: [{ url: "http://127.0.0.1:1" }]\n';

function errorsOf(cache: string): string[] {
  try {
    parseConfig(`${BASE}cache: ${cache}`, "c.yaml");
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return [...error.lines];
  }
  assert.fail("config was accepted");
}

Deno.test("cache: the seed keys alone give the documented defaults", () => {
  const config = parseConfig(`${BASE}cache: { max_size: 1000, ttl: 300s }`, "c.yaml");
  assert.deepEqual(config.cache, {
    maxSize: 1000,
    ttlMs: 300_000,
    maxBytes: 64 * 1024 * 1024,
    maxObjectBytes: 1024 * 1024,
    ignoredQueryParams: [],
    sortQuery: false,
    coalesce: true,
    lockTimeoutMs: undefined,
    targetedFields: ["CDN-Cache-Control"],
    serveStaleOnErrorMs: 0,
  });
});

Deno.test("cache: sizes accept bytes or a unit, and every key is read", () => {
  const config = parseConfig(
    `${BASE}cache: { max_bytes: 16MiB, max_object_size: 512KiB, ignored_query_params: [utm_*, fbclid], ` +
      "sort_query: true, coalesce: false, lock_timeout: 2s }",
    "c.yaml",
  );
  assert.equal(config.cache?.maxBytes, 16 * 1024 * 1024);
  assert.equal(config.cache?.maxObjectBytes, 512 * 1024);
  assert.deepEqual(config.cache?.ignoredQueryParams, ["utm_*", "fbclid"]);
  assert.equal(config.cache?.sortQuery, true);
  assert.equal(config.cache?.coalesce, false);
  assert.equal(config.cache?.lockTimeoutMs, 2000);
});

Deno.test("parseByteSize() reads integers and KiB/MiB/GiB/kB/MB suffixes and rejects the rest", () => {
  assert.equal(parseByteSize(65536), 65536);
  assert.equal(parseByteSize("1KiB"), 1024);
  assert.equal(parseByteSize("1.5 MiB"), 1.5 * 1024 * 1024);
  assert.equal(parseByteSize("2kB"), 2000);
  assert.equal(parseByteSize("1GB"), 1e9);
  assert.equal(parseByteSize("12 parsecs"), undefined);
  assert.equal(parseByteSize(-1), undefined);
  assert.equal(parseByteSize(1.5), undefined);
});

Deno.test("cache: a malformed size names the key, the position and the accepted forms", () => {
  assert.deepEqual(errorsOf("{ max_bytes: lots }"), [
    'c.yaml:2:21 cache.max_bytes: expected a size in bytes like 65536, 512KiB or 64MiB, got "lots"',
  ]);
});

Deno.test("cache: max_bytes below 1 KiB is refused", () => {
  assert.deepEqual(errorsOf("{ max_bytes: 10 }"), [
    "c.yaml:2:21 cache.max_bytes: must be at least 1024 bytes, got 10",
  ]);
});

Deno.test("cache: max_object_size larger than max_bytes is refused", () => {
  assert.deepEqual(errorsOf("{ max_bytes: 1MiB, max_object_size: 2MiB }"), [
    "c.yaml:2:44 cache.max_object_size: must not exceed max_bytes (1048576 bytes)",
  ]);
});

Deno.test("cache: ignored_query_params must be a list of parameter names", () => {
  assert.deepEqual(errorsOf("{ ignored_query_params: [ok, 3, '*'] }"), [
    "c.yaml:2:37 cache.ignored_query_params[1]: expected a parameter name, got 3",
    'c.yaml:2:40 cache.ignored_query_params[2]: expected a parameter name, got "*"',
  ]);
  assert.deepEqual(errorsOf("{ ignored_query_params: utm }"), [
    'c.yaml:2:32 cache.ignored_query_params: expected a list, got "utm"',
  ]);
});

Deno.test("cache: lock_timeout needs a unit and typos are caught", () => {
  assert.deepEqual(errorsOf("{ lock_timeout: 5 }"), [
    'c.yaml:2:24 cache.lock_timeout: expected a duration like 250ms, 30s or 5m, got 5 (add a unit: "5s" or "5ms")',
  ]);
  assert.deepEqual(errorsOf("{ max_byte: 1024 }"), [
    'c.yaml:2:10 cache.max_byte: unknown key (did you mean "max_bytes"?)',
  ]);
});

Deno.test("cache.targeted_fields: a list of field names, empty disables, a bad name is refused", () => {
  const of = (v: string) =>
    parseConfig(`${BASE}cache: { targeted_fields: ${v} }`, "c.yaml").cache?.targetedFields;
  assert.deepEqual(of("[Fastly-Cache-Control, CDN-Cache-Control]"), [
    "Fastly-Cache-Control",
    "CDN-Cache-Control",
  ]);
  assert.deepEqual(of("[]"), []);
  const errors = errorsOf('{ targeted_fields: ["bad name"] }');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /c\.yaml:2:\d+ cache\.targeted_fields\[0\]: expected a header field name/);
});

Deno.test("cache.serve_stale_on_error: a duration, off by default, a bad value names file, line:column and key", () => {
  const of = (v: string) => parseConfig(`${BASE}cache: { serve_stale_on_error: ${v} }`, "c.yaml").cache;
  assert.equal(of("90s")?.serveStaleOnErrorMs, 90_000);
  assert.equal(of("0s")?.serveStaleOnErrorMs, 0);
  assert.deepEqual(errorsOf("{ serve_stale_on_error: 10 }"), [
    'c.yaml:2:32 cache.serve_stale_on_error: expected a duration like 250ms, 30s or 5m, got 10 (add a unit: "10s" or "10ms")',
  ]);
  assert.deepEqual(errorsOf("{ serve_stale_on_error: -5s }"), [
    'c.yaml:2:32 cache.serve_stale_on_error: must not be negative, got "-5s"',
  ]);
});
