/** Router lookup time must stay flat from 10 to 10,000 routes (trie, not a scan). */
import { Router, type RouteSpec } from "../src/router/router.ts";

function build(count: number): Router<number> {
  const routes: RouteSpec<number>[] = [];
  for (let i = 0; i < count; i++) {
    // A mix: exact paths, prefixes, host-bound and wildcard-host routes.
    if (i % 4 === 0) routes.push({ path: `/svc${i}/health`, value: i });
    else if (i % 4 === 1) routes.push({ pathPrefix: `/svc${i}/api`, value: i });
    else if (i % 4 === 2) routes.push({ host: `h${i}.example.com`, pathPrefix: "/", value: i });
    else routes.push({ host: `*.z${i}.example.com`, pathPrefix: `/v${i}`, methods: ["GET"], value: i });
  }
  return new Router(routes, -1);
}

for (const count of [10, 1_000, 10_000]) {
  const router = build(count);
  const probe = count - 3; // a prefix route near the end of the list
  Deno.bench({
    name: `router lookup, ${count} routes (prefix hit)`,
    group: "router prefix",
    baseline: count === 10,
    fn() {
      router.match("GET", "www.example.com", `/svc${probe}/api/items/42`);
    },
  });
  Deno.bench({
    name: `router lookup, ${count} routes (miss → fallback)`,
    group: "router miss",
    baseline: count === 10,
    fn() {
      router.match("GET", "unknown.example.org:8080", "/not/routed/anywhere");
    },
  });
}
