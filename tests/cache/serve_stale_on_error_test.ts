/**
 * `cache.serve_stale_on_error` (RFC 9111 §4.2.4): a stored response is served past its freshness when the
 * upstream cannot be reached — stopped (refused), resetting, timing out — within the configured window, and
 * never when must-revalidate, proxy-revalidate, s-maxage or no-cache forbid it. Real proxy, real upstreams.
 */
import assert from "node:assert/strict";
import { parsePrometheusText } from "../_support/prom_parser.ts";
import { startProxy } from "../_support/proxy.ts";
import { type RawConnection, startRawUpstream } from "../_support/raw_upstream.ts";
import { startUpstream } from "../_support/upstream.ts";

function yaml(upstreamUrl: string, window = "1h", server = "port: 0"): string {
  return [
    `server: { ${server} }`,
    "backends:",
    `  - url: "${upstreamUrl}"`,
    `cache: { max_size: 100, ttl: 0s${window === "" ? "" : `, serve_stale_on_error: ${window}`} }`,
  ].join("\n");
}

async function get(url: string, headers: HeadersInit = {}) {
  const response = await fetch(url, { headers });
  const body = await response.text();
  return { status: response.status, body, headers: response.headers };
}

/** An upstream that answers once with `cc` (and an ETag, so a max-age=0 response is stored), then stops. */
function stoppable(cc: string, extra: Record<string, string> = {}) {
  return startUpstream(() =>
    new Response("kept", { headers: { "cache-control": cc, etag: '"v1"', ...extra } })
  );
}

function sink() {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

function cacheResult(registry: { expose(): string }, result: string): number {
  const family = parsePrometheusText(registry.expose()).get("proxy_cache_requests_total");
  return family?.samples.find((s) => s.labels.result === result)?.value ?? 0;
}

Deno.test("serve_stale_on_error: a stopped upstream gets the stale entry, marked and counted as stale", async () => {
  const upstream = stoppable("max-age=0");
  const log = sink();
  await using proxy = startProxy(`${yaml(upstream.url)}\naccess_log: { format: json }`, { accessLog: log });
  assert.equal((await get(`${proxy.url}/s`)).body, "kept");
  await upstream.close();
  const stale = await get(`${proxy.url}/s`);
  assert.equal(stale.status, 200);
  assert.equal(stale.body, "kept");
  assert.equal(stale.headers.get("x-cache"), "STALE");
  // ttl is 0 or, when closing the upstream took over a second on a busy machine, negative.
  assert.match(
    stale.headers.get("cache-status") ?? "",
    /^proxy; fwd=stale; fwd-status=502; ttl=(0|-\d+); detail="serve-stale-on-error: refused"$/,
  );
  assert.equal(cacheResult(proxy.registry, "stale"), 1);
  assert.equal(JSON.parse(log.lines.at(-1)!).cache, "stale");
});

Deno.test("serve_stale_on_error: off by default, a stopped upstream gives 502", async () => {
  const upstream = stoppable("max-age=0");
  await using proxy = startProxy(yaml(upstream.url, ""));
  assert.equal(proxy.source.current.config.cache?.serveStaleOnErrorMs, 0);
  await get(`${proxy.url}/s`);
  await upstream.close();
  assert.equal((await get(`${proxy.url}/s`)).status, 502);
  assert.equal(cacheResult(proxy.registry, "stale"), 0);
});

/** Serves the first request, then runs `after` for every later connection. */
function rawOnce(after: (connection: RawConnection) => Promise<void>) {
  let n = 0;
  return startRawUpstream(async (connection) => {
    await connection.readHead();
    if (n++ === 0) {
      await connection.write(
        'HTTP/1.1 200 OK\r\ncache-control: max-age=0\r\netag: "r1"\r\ncontent-length: 4\r\nconnection: close\r\n\r\nkept',
      );
      return;
    }
    await after(connection);
  });
}

Deno.test("serve_stale_on_error: an upstream that closes before a response head gets the stale entry", async () => {
  await using upstream = rawOnce(async (connection) => {
    await connection.write("HTTP/1.1 200 OK\r\ncontent-"); // then close mid-head
  });
  await using proxy = startProxy(yaml(upstream.url));
  assert.equal((await get(`${proxy.url}/r`)).body, "kept");
  const stale = await get(`${proxy.url}/r`);
  assert.equal(stale.status, 200);
  assert.equal(stale.body, "kept");
  assert.match(
    stale.headers.get("cache-status") ?? "",
    /fwd-status=502; .*detail="serve-stale-on-error: reset"/,
  );
  assert.ok(upstream.accepted() >= 2, "the revalidation reached the upstream");
});

Deno.test("serve_stale_on_error: an upstream that times out gets the stale entry", async () => {
  const { promise: released, resolve: release } = Promise.withResolvers<void>();
  await using upstream = rawOnce(() => released);
  await using proxy = startProxy(yaml(upstream.url, "1h", "port: 0, timeout: 300ms"));
  try {
    assert.equal((await get(`${proxy.url}/t`)).body, "kept");
    const stale = await get(`${proxy.url}/t`);
    assert.equal(stale.status, 200);
    assert.equal(stale.body, "kept");
    assert.match(
      stale.headers.get("cache-status") ?? "",
      /fwd-status=504; .*detail="serve-stale-on-error: timeout"/,
    );
  } finally {
    release();
  }
});

Deno.test("serve_stale_on_error: must-revalidate, proxy-revalidate, s-maxage and no-cache forbid it", async () => {
  for (const cc of ["max-age=0, must-revalidate", "max-age=0, proxy-revalidate", "s-maxage=0", "no-cache"]) {
    const upstream = stoppable(cc);
    await using proxy = startProxy(yaml(upstream.url));
    await get(`${proxy.url}/f`);
    await upstream.close();
    const answer = await get(`${proxy.url}/f`);
    assert.equal(answer.status, 502, cc);
    assert.notEqual(answer.headers.get("x-cache"), "STALE", cc);
  }
});

Deno.test("serve_stale_on_error: only up to the window past freshness", async () => {
  // Age 100 with max-age=10: stale by 90 s on arrival.
  for (const [window, expected] of [["1m", 502], ["2m", 200]] as const) {
    const upstream = stoppable("max-age=10", { age: "100" });
    await using proxy = startProxy(yaml(upstream.url, window));
    await get(`${proxy.url}/w`);
    await upstream.close();
    assert.equal((await get(`${proxy.url}/w`)).status, expected, `window ${window}`);
  }
});

Deno.test("serve_stale_on_error: an upstream that answers 503 has answered: its response is relayed", async () => {
  let n = 0;
  await using upstream = startUpstream(() =>
    n++ === 0
      ? new Response("kept", { headers: { "cache-control": "max-age=0", etag: '"v1"' } })
      : new Response("down", { status: 503 })
  );
  await using proxy = startProxy(yaml(upstream.url));
  await get(`${proxy.url}/5`);
  const answer = await get(`${proxy.url}/5`);
  assert.equal(answer.status, 503);
  assert.equal(answer.body, "down");
});
