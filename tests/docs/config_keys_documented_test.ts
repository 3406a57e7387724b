/**
 * Every key the config parser accepts is documented: each `*_KEYS` list in src/config/ names the docs page
 * that covers its section, and every key of the list must appear there in backticks (`key`, `section.key`
 * or `backends[].key`). A key added to a parser without its documentation fails here.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url);

/** Which page documents which key list (by the constant's name). */
const PAGE_OF: Readonly<Record<string, string>> = {
  ACCESS_LOG_KEYS: "docs/observability.md",
  ADMIN_KEYS: "docs/configuration.md",
  CACHE_KEYS: "docs/cache.md",
  CIRCUIT_BREAKER_KEYS: "docs/resilience.md",
  HEALTH_CHECK_KEYS: "docs/resilience.md",
  LIMITS_KEYS: "docs/edge.md",
  LOAD_BALANCER_KEYS: "docs/balancing.md",
  STICKY_KEYS: "docs/balancing.md",
  POOL_KEYS: "docs/configuration.md",
  RATE_LIMIT_KEYS: "docs/rate-limiting.md",
  ROUTE_RATE_LIMIT_KEYS: "docs/rate-limiting.md",
  STORE_KEYS: "docs/rate-limiting.md",
  RETRIES_KEYS: "docs/resilience.md",
  ROUTE_KEYS: "docs/configuration.md",
  SERVER_KEYS: "docs/configuration.md",
  TOP_KEYS: "docs/configuration.md",
  WEBSOCKET_KEYS: "docs/edge.md",
};

/** `NAME_KEYS = [ "a", "b", ... ]` lists of string literals in src/config/*.ts, spreads ignored. */
async function keyLists(): Promise<Map<string, string[]>> {
  const lists = new Map<string, string[]>();
  for await (const entry of Deno.readDir(new URL("src/config/", root))) {
    if (!entry.name.endsWith(".ts")) continue;
    const source = await Deno.readTextFile(new URL(`src/config/${entry.name}`, root));
    for (const match of source.matchAll(/const (\w+_KEYS)(?:: [^=]+)? = \[([^\]]*)\]/g)) {
      const keys = [...match[2]!.matchAll(/"([a-z0-9_]+)"/g)].map((m) => m[1]!);
      lists.set(match[1]!, [...(lists.get(match[1]!) ?? []), ...keys]);
    }
  }
  return lists;
}

function documented(page: string, key: string): boolean {
  return new RegExp("`[^`\\n]*\\b" + key + "\\b[^`\\n]*`").test(page);
}

Deno.test("every config key the parser accepts is documented on its docs page", async () => {
  const lists = await keyLists();
  assert.ok(lists.size >= 12, `found only ${lists.size} key lists in src/config/`);
  const missing: string[] = [];
  for (const [name, keys] of lists) {
    const file = PAGE_OF[name];
    assert.ok(file, `${name}: add the docs page that documents it to PAGE_OF`);
    const page = await Deno.readTextFile(new URL(file, root));
    for (const key of keys) if (!documented(page, key)) missing.push(`${name}.${key} (${file})`);
  }
  assert.deepEqual(missing, []);
});

Deno.test("the key check finds an undocumented key", () => {
  assert.equal(documented("- `server.port` (port)", "port"), true);
  assert.equal(documented("the port is 8080", "port"), false);
});
