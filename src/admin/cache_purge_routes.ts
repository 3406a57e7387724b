/**
 * Cache purge endpoints for the admin listener, as a Hono sub-app the admin app mounts
 * (`admin.route("/", cachePurgeRoutes(source))`). They act on the cache of the current runtime, so a
 * reload never leaves them pointing at a replaced store.
 *
 *   POST   /cache/purge   {"url": "http://host/path?q"} | {"prefix": "http://host/img/" or "/img/"} | {"tag": "t"}
 *   DELETE /cache?url=…   | ?prefix=… | ?tag=…
 *   DELETE /cache/all     everything
 *
 * Answers `{"purged": n}` (entries removed, each Vary variant counts), 400 for a bad request, 409 when the
 * cache is off.
 */
import { type Context, Hono } from "hono";
import type { HttpCache } from "../cache/http_cache.ts";
import type { RuntimeSource } from "../runtime.ts";

export type PurgeTarget = { url: string } | { prefix: string } | { tag: string };

/** Runs one purge; throws TypeError for a malformed target (e.g. a relative or unparseable URL). */
export function purge(cache: HttpCache, target: PurgeTarget): number {
  if ("url" in target) {
    if (!URL.canParse(target.url)) {
      throw new TypeError(`url must be absolute, got ${JSON.stringify(target.url)}`);
    }
    return cache.purgeUrl(target.url);
  }
  if ("prefix" in target) return cache.purgePrefix(target.prefix);
  return cache.purgeTag(target.tag);
}

/** Validates an untrusted body/query into a PurgeTarget: exactly one of url, prefix, tag, a non-empty string. */
export function parsePurgeTarget(value: unknown): PurgeTarget | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return 'expected a JSON object with one of "url", "prefix", "tag"';
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((key) => record[key] !== undefined);
  const key = keys[0];
  if (keys.length !== 1 || (key !== "url" && key !== "prefix" && key !== "tag")) {
    return 'expected exactly one of "url", "prefix", "tag"';
  }
  const text = record[key];
  if (typeof text !== "string" || text === "") return `"${key}" must be a non-empty string`;
  if (key === "url") return URL.canParse(text) ? { url: text } : `"url" must be an absolute URL, got ${text}`;
  return key === "prefix" ? { prefix: text } : { tag: text };
}

export function cachePurgeRoutes(source: RuntimeSource): Hono {
  const app = new Hono();
  const run = (c: Context, input: unknown) => {
    const cache = source.current.cache;
    if (cache === undefined) return c.json({ error: "the cache is off (no cache section)" }, 409);
    const target = parsePurgeTarget(input);
    if (typeof target === "string") return c.json({ error: target }, 400);
    return c.json({ purged: purge(cache.http, target) });
  };
  app.post("/cache/purge", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: "body is not valid JSON" }, 400);
    }
    return run(c, body);
  });
  app.delete("/cache/all", (c) => {
    const cache = source.current.cache;
    if (cache === undefined) return c.json({ error: "the cache is off (no cache section)" }, 409);
    const purged = cache.http.size;
    cache.http.clear();
    return c.json({ purged });
  });
  app.delete("/cache", (c) => {
    const { url, prefix, tag } = c.req.query();
    return run(c, { url, prefix, tag });
  });
  return app;
}
