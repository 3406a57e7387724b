import assert from "node:assert/strict";
// Test-only: not in deno.json's import map, so `deno task start` never downloads it (see docs/development.md).
// deno-lint-ignore no-import-prefix
import type { Page } from "npm:playwright-core@1.65.1";
import { launchChromium } from "../_support/browser.ts";
import { startAdmin } from "../_support/admin.ts";
import { startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

/** One attribute of every element matching `selector`, in document order. */
async function attributes(page: Page, selector: string, name: string): Promise<(string | null)[]> {
  return await Promise.all((await page.locator(selector).all()).map((row) => row.getAttribute(name)));
}

async function send(url: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await (await fetch(url)).text();
}

/** Number shown in a cell (`1,234` → 1234). */
async function numberIn(page: Page, selector: string): Promise<number> {
  return Number((await page.textContent(selector))?.replace(/,/g, ""));
}

/*
 * Predicates are functions, not strings: the admin page's Content-Security-Policy forbids eval, which
 * Playwright's string predicates need. They run in the page, so they only use DOM globals.
 */
declare const document: { body: { dataset: Record<string, string | undefined> } } & {
  querySelector(selector: string): { textContent: string | null } | null;
};

/** Waits until the cell shows exactly `expected` (the page polls /stats once a second). */
async function waitForNumber(page: Page, selector: string, expected: number): Promise<void> {
  await page.waitForFunction(
    ([css, want]) => Number(document.querySelector(css)?.textContent?.replace(/,/g, "")) === want,
    [selector, expected] as const,
  );
}

/** Waits until the page has polled /stats at least `count` times. */
async function waitForPolls(page: Page, count: number): Promise<void> {
  await page.waitForFunction((n) => Number(document.body.dataset.polls ?? 0) >= n, count);
}

Deno.test("The dashboard renders live numbers from the real admin app after real traffic", async () => {
  await using good = startUpstream();
  await using down = startUpstream();
  await using failing = startUpstream(() => new Response("boom", { status: 503 }));
  await using proxy = startProxy(`
upstreams:
  api: { backends: ["${good.url}", "${down.url}"] }
  flaky: { backends: ["${failing.url}"] }
routes:
  - { name: api, match: { path_prefix: /api }, upstream: api }
  - { name: flaky, match: { path_prefix: /flaky }, upstream: flaky }
`);
  await using admin = startAdmin(proxy);
  proxy.source.current.pools.get("api")!.upstreams[1]!.setHealthy(false);
  await send(`${proxy.url}/api/a`, 12);
  await send(`${proxy.url}/flaky`, 3);

  await using chrome = await launchChromium();
  const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 820 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  await page.goto(`${admin.url}/`);
  await waitForPolls(page, 1);

  const goodRow = `tr[data-upstream="${good.url}"]`;
  const downRow = `tr[data-upstream="${down.url}"]`;
  const flakyRow = `tr[data-upstream="${failing.url}"]`;
  // Sorted by pool, then id.
  assert.deepEqual(
    await attributes(page, "#upstreams tr", "data-upstream"),
    [...[good.url, down.url].sort(), failing.url],
  );
  assert.equal(await numberIn(page, `${goodRow} td[data-field="requests"]`), 12);
  assert.equal(await numberIn(page, `${downRow} td[data-field="requests"]`), 0);
  assert.equal(await page.getAttribute(downRow, "data-up"), "false");
  assert.equal(await page.getAttribute(goodRow, "data-up"), "true");
  assert.equal(await page.textContent(`${goodRow} td[data-field="breaker"]`), "closed");
  assert.match(await page.textContent(`${goodRow} td[data-field="p50"]`) ?? "", /^\d+(\.\d+)? (ms|s)$/);
  assert.equal(await page.textContent(`${downRow} td[data-field="p50"]`), "–");
  assert.equal(await numberIn(page, `${flakyRow} td[data-field="errors"]`), 3);
  assert.equal(await page.textContent("#upstream-count"), "2 of 3 available");
  assert.deepEqual(await attributes(page, "#routes tr", "data-route"), ["api", "flaky"]);
  assert.equal(await numberIn(page, 'tr[data-route="api"] td[data-field="requests"]'), 12);
  assert.equal(await numberIn(page, 'tr[data-route="flaky"] td[data-field="errors"]'), 3);
  assert.equal(await numberIn(page, "#kpi-requests"), 15);
  assert.equal(await numberIn(page, "#kpi-errors-total"), 3);
  // First poll: the error rate is over all requests so far, 3 of 15. (Read together with the poll count, in the
  // page: on a busy machine a second poll — with no new requests — may already have replaced the figure.)
  const [polls, errorRate] = await page.evaluate(() =>
    [Number(document.body.dataset.polls), document.querySelector("#kpi-errors")?.textContent] as const
  );
  if (polls === 1) assert.equal(errorRate, "20.0%");
  else assert.match(errorRate ?? "", /^(\d+\.\d{1,2}%|–)$/); // the page shows 2 decimals below 10 %
  assert.equal(await page.textContent("#kpi-cache-sub"), "cache disabled");
  assert.equal(await page.textContent("#kpi-limited-sub"), "rate limiting disabled");

  // More traffic: the next polls show it, and the request rate becomes positive.
  await send(`${proxy.url}/api/b`, 8);
  await waitForNumber(page, `${goodRow} td[data-field="requests"]`, 20);
  await waitForNumber(page, "#kpi-requests", 23);
  await waitForPolls(page, 3);
  assert.equal((await page.$$(`${goodRow} td[data-field="spark"] svg path`)).length, 2);

  await page.screenshot({ path: "/tmp/dashboard.png", fullPage: true });
  assert.deepEqual(pageErrors, []);
});

Deno.test("With admin.token set, the browser logs in with Basic credentials and the dashboard polls", async () => {
  const token = "dash-token-0123456789";
  await using upstream = startUpstream();
  await using proxy = startProxy(`backends: ["${upstream.url}"]\nadmin: { token: "${token}" }`);
  await using admin = startAdmin(proxy);
  await send(proxy.url, 4);

  await using chrome = await launchChromium();
  const context = await chrome.browser.newContext({
    httpCredentials: { username: "admin", password: token },
  });
  const page = await context.newPage();
  const response = await page.goto(`${admin.url}/`);
  assert.equal(response?.status(), 200);
  await waitForPolls(page, 1);
  assert.equal(await numberIn(page, "#kpi-requests"), 4);
  await context.close();
});

Deno.test("The dashboard's cache figure counts hits, misses, stale and revalidated responses", async () => {
  // max-age=0 with an ETag: every lookup after the first revalidates, and the origin answers 304.
  await using upstream = startUpstream((request) =>
    request.headers.get("if-none-match") === '"v1"'
      ? new Response(null, { status: 304, headers: { etag: '"v1"', "cache-control": "max-age=0" } })
      : new Response("body", { headers: { etag: '"v1"', "cache-control": "max-age=0" } })
  );
  await using proxy = startProxy(`backends: ["${upstream.url}"]\ncache: { max_size: 100, ttl: 60s }\n`);
  await using admin = startAdmin(proxy);
  await send(`${proxy.url}/r`, 3);
  assert.equal(proxy.metrics.stats().cache?.revalidated, 2, "two revalidations reached /stats");

  await using chrome = await launchChromium();
  const page = await chrome.browser.newPage();
  await page.goto(`${admin.url}/`);
  await waitForPolls(page, 1);
  assert.equal(await page.textContent("#kpi-cache-sub"), "0 hits · 1 misses · 0 stale · 2 revalidated");
  assert.equal(await page.textContent("#kpi-cache"), "66.7%");
});
