/**
 * Slow clients (slowloris), bounded: a few dozen connections trickle an unfinished request head for a couple
 * of seconds while legitimate requests go through. Behind the connection guard (main.ts's listener) every slow
 * client gets 408 and is closed once `limits.header_timeout` (1s here) has passed, while everyone else is
 * served. The 300-connection measurement is in bench/README.md.
 */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { startUpstream } from "../_support/upstream.ts";

const SLOW_CLIENTS = 40;
const TRICKLE_MS = 200;
const ROUNDS = 10;
const encoder = new TextEncoder();

Deno.test("legitimate requests are served while 40 slow clients trickle heads; header_timeout closes them", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(`${poolConfig([upstream.url])}\nlimits: { header_timeout: 1s }`, {
    guard: true,
  });
  const slow: Deno.TcpConn[] = [];
  const closedByServer = new Set<number>();
  const reads: Promise<void>[] = [];
  try {
    for (let i = 0; i < SLOW_CLIENTS; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
      await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: slow.test\r\nX-Slow: "));
      slow.push(conn);
      reads.push(conn.read(new Uint8Array(1024)).then(() => void closedByServer.add(i), () => {}));
    }
    let served = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // One more header byte from every slow client, then a few legitimate requests.
      await Promise.all(
        slow.map((conn, i) =>
          closedByServer.has(i) ? undefined : conn.write(encoder.encode("a")).catch(() => 0)
        ),
      );
      const responses = await Promise.all(
        Array.from(
          { length: 4 },
          () => fetch(`${proxy.url}/legit`).then(async (r) => [r.status, await r.text()]),
        ),
      );
      for (const [status, body] of responses) {
        assert.equal(status, 200);
        assert.equal(body, `upstream ${upstream.port}`);
        served++;
      }
      await new Promise((resolve) => setTimeout(resolve, TRICKLE_MS));
    }
    assert.equal(served, ROUNDS * 4);
    assert.equal(upstream.received.length, ROUNDS * 4, "a slow head reached the upstream");
    await Promise.all(reads); // each read ends with the 408 and the close (or the test's safety bound)
    assert.equal(closedByServer.size, SLOW_CLIENTS, "a slow client outlived header_timeout");
  } finally {
    for (const conn of slow) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }
});
