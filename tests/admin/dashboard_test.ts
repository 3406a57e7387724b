import assert from "node:assert/strict";
import type { Stats } from "../../src/metrics/stats_types.ts";
import { launchChromium } from "../_support/browser.ts";
import type { Page } from "playwright-core";

/** One attribute of every element matching `selector`, in document order. */
async function attributes(page: Page, selector: string, name: string): Promise<(string | null)[]> {
  return await Promise.all((await page.locator(selector).all()).map((row) => row.getAttribute(name)));
}

const DASHBOARD = await Deno.readTextFile(new URL("../../src/admin/dashboard.html", import.meta.url));

/**
 * A stand-in for the admin app's /stats: each poll adds traffic, so the numbers change between polls
 * (the real admin app replaces this once it exists).
 */
function fakeStats(poll: number): Stats {
  const requestsA = 1000 + poll * 40;
  const requestsB = 600 + poll * 25;
  return {
    uptimeSeconds: 3725 + poll,
    generatedAtMs: 1_764_000_000_000 + poll * 1000,
    totals: {
      requests: requestsA + requestsB,
      errors5xx: 12 + poll,
      inFlight: 3,
      retries: 4,
      rateLimited: 7 + poll,
    },
    routes: [
      {
        name: "api",
        requests: requestsA,
        errors5xx: 12 + poll,
        retries: 4,
        rateLimited: 7 + poll,
        p50Ms: 4.2,
        p99Ms: 87,
      },
      {
        name: "static",
        requests: requestsB,
        errors5xx: 0,
        retries: 0,
        rateLimited: 0,
        p50Ms: 0.8,
        p99Ms: 5.5,
      },
    ],
    upstreams: [
      {
        id: "http://127.0.0.1:3001",
        pool: "api",
        up: true,
        breaker: "closed",
        inFlight: 2,
        requests: requestsA,
        errors: 2,
        p50Ms: 4.1,
        p99Ms: 80,
      },
      {
        id: "http://127.0.0.1:3002",
        pool: "api",
        up: false,
        breaker: "open",
        inFlight: 0,
        requests: 57,
        errors: 10 + poll,
        p50Ms: null,
        p99Ms: null,
      },
      {
        id: "http://127.0.0.1:4001",
        pool: "static",
        up: true,
        breaker: null,
        inFlight: 1,
        requests: requestsB,
        errors: 0,
        p50Ms: 0.8,
        p99Ms: 5.5,
      },
    ],
    cache: { hits: 300 + poll * 9, misses: 100 + poll, stale: 5, bypass: 20 },
    rateLimit: { limited: 7 + poll },
    websocketsOpen: 2,
    config: { reloadsSucceeded: 2, reloadsFailed: 1, lastReloadSuccessMs: 1_764_000_000_000 },
  };
}

Deno.test("The dashboard renders live /stats numbers in a real browser and updates them", async () => {
  let polls = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/stats") return Response.json(fakeStats(polls++));
    if (path === "/dashboard") return new Response(DASHBOARD, { headers: { "content-type": "text/html" } });
    return new Response("not found", { status: 404 });
  });
  try {
    await using chrome = await launchChromium();
    const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 820 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`http://127.0.0.1:${server.addr.port}/dashboard`);

    // Three polls give two rate intervals, so rates and counts have moved at least twice.
    await page.waitForFunction("Number(document.body.dataset.polls ?? 0) >= 3");
    const upstreamRows = await attributes(page, "#upstreams tr", "data-upstream");
    assert.deepEqual(upstreamRows, [
      "http://127.0.0.1:3001",
      "http://127.0.0.1:3002",
      "http://127.0.0.1:4001",
    ]);
    const downRow = 'tr[data-upstream="http://127.0.0.1:3002"]';
    assert.equal(await page.textContent(`${downRow} td[data-field="breaker"]`), "open");
    assert.equal(await page.getAttribute(downRow, "data-up"), "false");
    assert.equal(await page.textContent(`${downRow} td[data-field="p99"]`), "–");
    const firstRow = 'tr[data-upstream="http://127.0.0.1:3001"]';
    assert.equal(await page.textContent(`${firstRow} td[data-field="p99"]`), "80 ms");
    // 40 requests per 1 s poll interval in the fake source.
    assert.equal(await page.textContent(`${firstRow} td[data-field="rps"]`), "40.0");
    assert.equal(await page.textContent("#kpi-rps"), "65.0");
    assert.equal(await page.textContent("#upstream-count"), "2 of 3 available");
    assert.deepEqual(
      await attributes(page, "#routes tr", "data-route"),
      [
        "api",
        "static",
      ],
    );
    assert.match(await page.textContent("#kpi-cache") ?? "", /^\d+(\.\d+)?%$/);
    assert.equal(await page.textContent("#kpi-limited"), "1.0");
    assert.equal(await page.textContent("#uptime").then((t) => t?.startsWith("1h 2m")), true);

    // The counts keep rising with further polls.
    const read = async () =>
      Number((await page.textContent(`${firstRow} td[data-field="requests"]`))?.replace(/,/g, ""));
    const before = await read();
    const cell = JSON.stringify(`${firstRow} td[data-field="requests"]`);
    await page.waitForFunction(
      `Number(document.querySelector(${cell})?.textContent.replace(/,/g, "")) > ${before}`,
    );
    assert.ok((await read()) > before);
    assert.ok((await page.$$(`${firstRow} td[data-field="spark"] svg path`)).length === 2);

    await page.screenshot({ path: "/tmp/dashboard.png", fullPage: true });
    assert.deepEqual(pageErrors, []);
  } finally {
    await server.shutdown();
  }
});
