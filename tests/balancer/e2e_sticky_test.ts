import assert from "node:assert/strict";
import { BALANCER_ALGORITHMS } from "../../src/balancer/create_balancer.ts";
import { startRawUpstream } from "../_support/raw_upstream.ts";
import { hit, type Name, startCluster } from "./_e2e.ts";

const SECRET = "sticky-test-secret-0123456789";

function stickyConfig(algorithm: string): (backends: string) => string {
  return (backends) =>
    `server: { port: 0 }\nbackends:\n${backends}\n` +
    `load_balancer: { algorithm: ${algorithm}, sticky: { cookie: sid, ttl: 1h, secret: "${SECRET}" } }\n`;
}

/** The cookie value in a `sid=…; attributes` Set-Cookie header. */
function tokenOf(setCookie: string | null): string {
  assert.ok(setCookie !== null, "expected a Set-Cookie header");
  const match = /^sid=([^;]+);/.exec(setCookie);
  assert.ok(match !== null, `not a sid cookie: ${setCookie}`);
  return match[1]!;
}

Deno.test("sticky pins a client with a signed cookie, replaces forged ones and re-pins when its upstream is down", async () => {
  await using cluster = startCluster(stickyConfig("round_robin"));
  const proxy = cluster.proxy;

  const first = await hit(proxy);
  assert.equal(first.status, 200);
  assert.match(
    first.headers.get("set-cookie")!,
    /^sid=[\w-]{22}; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax$/,
  );
  const token = tokenOf(first.headers.get("set-cookie"));
  const pinned = first.name as Name;

  // Round robin alone would rotate; the cookie keeps every request on the pinned upstream, among other cookies.
  for (let i = 0; i < 12; i++) {
    const next = await hit(proxy, "/", { cookie: `theme=dark; sid=${token}` });
    assert.equal(next.name, pinned, `request ${i} stays on ${pinned}`);
    assert.equal(next.headers.get("set-cookie"), null, "a valid pin is not re-sent");
  }

  // A forged value (right length, wrong MAC) is ignored: the client is picked afresh and given a genuine cookie.
  const forged = "A".repeat(22);
  const replaced = await hit(proxy, "/", { cookie: `sid=${forged}` });
  const replacement = tokenOf(replaced.headers.get("set-cookie"));
  assert.notEqual(replacement, forged);
  const followUp = await hit(proxy, "/", { cookie: `sid=${replacement}` });
  assert.equal(followUp.name, replaced.name, "the replacement cookie pins to the upstream that answered");
  assert.equal(followUp.headers.get("set-cookie"), null);

  // The pinned upstream goes down: the client lands elsewhere and is re-pinned there.
  cluster.upstream(pinned).setHealthy(false);
  const moved = await hit(proxy, "/", { cookie: `sid=${token}` });
  assert.equal(moved.status, 200);
  assert.notEqual(moved.name, pinned);
  const repinned = tokenOf(moved.headers.get("set-cookie"));
  assert.notEqual(repinned, token);
  for (let i = 0; i < 6; i++) {
    const next = await hit(proxy, "/", { cookie: `sid=${repinned}` });
    assert.equal(next.name, moved.name, "the new pin holds");
    assert.equal(next.headers.get("set-cookie"), null);
  }
  assert.equal(cluster.upstreams[pinned].received.length, 13, "nothing reached the unavailable upstream");
});

for (const algorithm of BALANCER_ALGORITHMS) {
  Deno.test(`sticky works on top of ${algorithm}`, async () => {
    await using cluster = startCluster(stickyConfig(algorithm));
    for (let client = 0; client < 6; client++) {
      const first = await hit(cluster.proxy);
      const token = tokenOf(first.headers.get("set-cookie"));
      for (let i = 0; i < 5; i++) {
        assert.equal((await hit(cluster.proxy, "/", { cookie: `sid=${token}` })).name, first.name);
      }
    }
  });
}

Deno.test("sticky pins a client to the upstream a retry reached, not to the one that failed", async () => {
  // The first backend accepts connections and closes them at once (a retryable reset).
  await using broken = startRawUpstream(async (connection) => {
    await connection.readHead();
    connection.close();
  });
  await using cluster = startCluster((backends) =>
    `server: { port: 0 }\nbackends:\n  - "${broken.url}"\n${backends}\n` +
    `load_balancer: { algorithm: round_robin, sticky: { cookie: sid, secret: "${SECRET}" } }\n` +
    "retries: { attempts: 2, backoff: 0ms }\ncircuit_breaker: off\n"
  );
  // Round robin starts at the first backend, the broken one; the retry goes to a.
  const first = await hit(cluster.proxy);
  assert.equal(first.name, "a");
  assert.equal(broken.accepted(), 1);
  const token = tokenOf(first.headers.get("set-cookie"));
  for (let i = 0; i < 5; i++) {
    const next = await hit(cluster.proxy, "/", { cookie: `sid=${token}` });
    assert.equal(next.name, "a");
    assert.equal(next.headers.get("set-cookie"), null, "the pin names a: nothing to fix");
  }
  assert.equal(broken.accepted(), 1, "the pinned client never went back to the broken upstream");
});
