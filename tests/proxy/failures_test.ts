/**
 * Upstream failures and refused requests, with real sockets: each failure maps to the status errors.ts gives
 * it (timeout → 504, connection problems and bad responses → 502), and a failure after the headers went out
 * never looks like a complete body to the client.
 */
import assert from "node:assert/strict";
import { poolConfig, startProxy } from "../_support/proxy.ts";
import { rawExchange, rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";
import { startUpstream } from "../_support/upstream.ts";
import { bothTransports } from "../_support/transports.ts";

const decoder = new TextDecoder();

/** How long a test waits for something that should happen promptly before it fails instead of hanging. */
const GUARD_MS = 3_000;

/** A URL on loopback where nothing listens: bind port 0, note the port, close it. */
function refusedUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

/** Resolves after `ms`, or earlier when `until` settles; leaves no timer behind either way. */
async function sleepUnless(ms: number, until: Promise<unknown>): Promise<"slept" | "interrupted"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const slept = new Promise<"slept">((resolve) => timer = setTimeout(() => resolve("slept"), ms));
  try {
    return await Promise.race([
      slept,
      until.then(() => "interrupted" as const, () => "interrupted" as const),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `promise` at most GUARD_MS; says which came first. */
async function withinGuard<T>(promise: Promise<T>): Promise<T | "guard expired"> {
  return await sleepUnless(GUARD_MS, promise) === "slept" ? "guard expired" : await promise;
}

/** Reads until the upstream-side socket reaches EOF: the proxy closed its connection. */
async function untilClosed(connection: { read(): Promise<Uint8Array | undefined> }): Promise<void> {
  while (await connection.read() !== undefined) { /* discard */ }
}

async function assertErrorResponse(response: Response, status: number, words: RegExp): Promise<void> {
  const body = await response.text();
  assert.equal(response.status, status, body);
  assert.match(body, words);
  const id = response.headers.get("x-request-id") ?? "";
  assert.ok(id !== "" && body.includes(id), body);
}

bothTransports("an upstream that accepts and never answers yields 504 after first_byte_timeout", async () => {
  const proxyHungUp = Promise.withResolvers<void>();
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await untilClosed(connection);
    proxyHungUp.resolve();
  });
  await using proxy = startProxy(poolConfig([upstream.url], "first_byte_timeout: 300ms"));

  const response = await fetch(`${proxy.url}/hang`);

  await assertErrorResponse(response, 504, /timed out/);
  assert.equal(upstream.heads.length, 1);
  // Giving up also closes the upstream connection rather than leaving it waiting.
  assert.notEqual(await withinGuard(proxyHungUp.promise), "guard expired");
});

bothTransports(
  "response headers that arrive after first_byte_timeout yield 504, not the late response",
  async () => {
    const upstreamWait = Promise.withResolvers<"slept" | "interrupted">();
    await using upstream = startRawUpstream(async (connection) => {
      await connection.readHead();
      upstreamWait.resolve(await sleepUnless(1_000, untilClosed(connection)));
      await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nlate").catch(() => {});
    });
    await using proxy = startProxy(poolConfig([upstream.url], "first_byte_timeout: 300ms"));

    const response = await fetch(`${proxy.url}/slow`);

    await assertErrorResponse(response, 504, /timed out/);
    assert.equal(upstream.heads.length, 1);
    // The proxy hung up on the upstream before the upstream's 1 s were over.
    assert.equal(await upstreamWait.promise, "interrupted");
  },
);

bothTransports("a refused connection yields 502", async () => {
  await using proxy = startProxy(poolConfig([refusedUrl()]));

  const response = await fetch(`${proxy.url}/refused`);

  await assertErrorResponse(response, 502, /cannot connect/);
});

bothTransports(
  "an upstream that resets the connection after reading part of the request yields 502",
  async () => {
    await using upstream = startRawUpstream(async (connection) => {
      await connection.readHead();
      // Closing a socket with unread received data makes the kernel send RST instead of FIN (RFC 2525 §2.17).
    });
    await using proxy = startProxy(poolConfig([upstream.url]));

    const response = await fetch(`${proxy.url}/reset`, { method: "POST", body: new Uint8Array(1024 * 1024) });

    await assertErrorResponse(response, 502, /closed|failed/);
    assert.ok(upstream.heads.length >= 1);
  },
);

bothTransports("an upstream that closes without replying yields 502", async () => {
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    connection.close();
  });
  await using proxy = startProxy(poolConfig([upstream.url]));

  const response = await fetch(`${proxy.url}/closed`);

  await assertErrorResponse(response, 502, /closed/);
  assert.equal(upstream.heads.length, 1);
});

bothTransports("an upstream that closes after a partial status line yields 502", async () => {
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await connection.write("HTTP/1.1 20");
    connection.close();
  });
  await using proxy = startProxy(poolConfig([upstream.url]));

  const response = await fetch(`${proxy.url}/partial`);

  await assertErrorResponse(response, 502, /closed|invalid/);
  assert.equal(upstream.heads.length, 1);
});

bothTransports(
  "an upstream that closes mid-body leaves the client with a failed read, never a complete body",
  async () => {
    await using upstream = startRawUpstream(async (connection) => {
      await connection.readHead();
      await connection.write(
        "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000\r\n\r\n",
      );
      await connection.write("0123456789");
      connection.close();
    });
    await using proxy = startProxy(poolConfig([upstream.url]));

    const viaFetch = await fetch(`${proxy.url}/truncated`);
    assert.equal(viaFetch.status, 200);
    await assert.rejects(viaFetch.arrayBuffer());

    const raw = await rawRequest(
      proxy.port,
      `GET /truncated HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\n\r\n`,
    );
    assert.equal(raw.status, 200);
    assert.equal(raw.complete, false, `${raw.head}\n${raw.body.length} body bytes`);
    assert.equal(upstream.heads.length, 2);
  },
);

bothTransports(
  "server.body_timeout passing mid-body fails the client's body read and closes the upstream connection",
  async () => {
    const proxyHungUp = Promise.withResolvers<void>();
    await using upstream = startRawUpstream(async (connection) => {
      await connection.readHead();
      await connection.write(
        "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000\r\n\r\n",
      );
      await connection.write("0123456789");
      await untilClosed(connection);
      proxyHungUp.resolve();
    });
    await using proxy = startProxy(
      poolConfig([upstream.url], "body_timeout: 400ms, first_byte_timeout: 300ms"),
    );

    const response = await fetch(`${proxy.url}/stall`);
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    assert.equal(decoder.decode(first.value), "0123456789");
    const drained = (async () => {
      try {
        while (!(await reader.read()).done) { /* drain */ }
        return "completed";
      } catch {
        return "failed";
      }
    })();
    const outcome = await withinGuard(drained);
    if (outcome === "guard expired") await reader.cancel();
    assert.equal(outcome, "failed");

    assert.notEqual(await withinGuard(proxyHungUp.promise), "guard expired");
  },
);

bothTransports(
  "server.body_idle_timeout: an upstream that sends its head and stalls mid-body gets the client's body aborted",
  async () => {
    const proxyHungUp = Promise.withResolvers<void>();
    await using upstream = startRawUpstream(async (connection) => {
      await connection.readHead();
      await connection.write(
        "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000\r\n\r\n",
      );
      await connection.write("0123456789");
      await untilClosed(connection);
      proxyHungUp.resolve();
    });
    await using proxy = startProxy(poolConfig([upstream.url], "body_idle_timeout: 300ms"));

    const response = await fetch(`${proxy.url}/stall`);
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    assert.equal(decoder.decode((await reader.read()).value), "0123456789");
    const drained = (async () => {
      try {
        while (!(await reader.read()).done) { /* drain */ }
        return "completed";
      } catch {
        return "failed";
      }
    })();
    const outcome = await withinGuard(drained);
    if (outcome === "guard expired") await reader.cancel();
    assert.equal(outcome, "failed");
    assert.notEqual(await withinGuard(proxyHungUp.promise), "guard expired");
  },
);

bothTransports(
  "server.body_idle_timeout restarts on every body read: a slow steady body completes",
  async () => {
    await using upstream = startRawUpstream(async (connection) => {
      await connection.readHead();
      await connection.write(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n",
      );
      for (let i = 0; i < 6; i++) {
        await new Promise((resolve) => setTimeout(resolve, 120));
        await connection.write(`1\r\n${i}\r\n`);
      }
      await connection.write("0\r\n\r\n");
    });
    // 6 × 120 ms is well past 400 ms in total, but no gap between reads comes near it.
    await using proxy = startProxy(poolConfig([upstream.url], "body_idle_timeout: 400ms"));

    const response = await fetch(`${proxy.url}/steady`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "012345");
  },
);

bothTransports("upstream response headers over 64 KiB yield 502", async () => {
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    const filler = "x".repeat(1000);
    const lines = Array.from({ length: 70 }, (_, i) => `x-filler-${i}: ${filler}`);
    await connection.write(`HTTP/1.1 200 OK\r\n${lines.join("\r\n")}\r\ncontent-length: 2\r\n\r\nok`);
  });
  await using proxy = startProxy(poolConfig([upstream.url]));

  const response = await fetch(`${proxy.url}/big`);

  await assertErrorResponse(response, 502, /invalid response/);
  assert.equal(response.headers.get("x-filler-0"), null);
  assert.equal(upstream.heads.length, 1);
});

bothTransports(
  "a client that disconnects while the upstream works cancels the upstream request",
  async () => {
    const upstreamGotRequest = Promise.withResolvers<void>();
    const proxyHungUp = Promise.withResolvers<void>();
    await using upstream = startRawUpstream(async (connection) => {
      await connection.readHead();
      upstreamGotRequest.resolve();
      await untilClosed(connection);
      proxyHungUp.resolve();
    });
    // The timeout only bounds the test should cancellation be broken.
    await using proxy = startProxy(poolConfig([upstream.url], "timeout: 5s"));

    const client = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
    await client.write(
      new TextEncoder().encode(`GET /work HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\n\r\n`),
    );
    const arrived = await withinGuard(upstreamGotRequest.promise);
    client.close();

    assert.notEqual(arrived, "guard expired");
    assert.notEqual(
      await withinGuard(proxyHungUp.promise),
      "guard expired",
      "the upstream request was not cancelled",
    );
    assert.equal(upstream.heads.length, 1);
  },
);

bothTransports("a client that disconnects mid-body closes the upstream connection", async () => {
  const proxyHungUp = Promise.withResolvers<void>();
  await using upstream = startRawUpstream(async (connection) => {
    await connection.readHead();
    await connection.write(
      "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000\r\n\r\n",
    );
    await connection.write("0123456789");
    await untilClosed(connection);
    proxyHungUp.resolve();
  });
  await using proxy = startProxy(poolConfig([upstream.url], "timeout: 5s"));

  const client = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  await client.write(new TextEncoder().encode(`GET /work HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\n\r\n`));
  const buffer = new Uint8Array(4096);
  let received = "";
  while (!received.includes("0123456789")) {
    const n = await client.read(buffer);
    if (n === null) break;
    received += decoder.decode(buffer.subarray(0, n));
  }
  client.close();

  assert.match(received, /^HTTP\/1\.1 200 /);
  assert.notEqual(
    await withinGuard(proxyHungUp.promise),
    "guard expired",
    "the upstream connection stayed open",
  );
});

for (
  const [method, target] of [["CONNECT", "example.test:443"], ["TRACE", "/trace"]] as const
) {
  bothTransports(`${method} is refused with 405 and never forwarded`, async () => {
    await using upstream = startUpstream();
    await using proxy = startProxy(poolConfig([upstream.url]));

    const reply = await rawExchange(proxy.port, `${method} ${target} HTTP/1.1\r\nHost: example.test\r\n\r\n`);

    assert.match(reply, /^HTTP\/1\.1 405 /);
    assert.match(reply, /\r\nallow: [A-Z, ]*GET/i);
    assert.match(reply, /\r\nx-request-id: \S+/i);
    assert.equal(upstream.received.length, 0);
  });
}

bothTransports("an HTTP/1.1 request without Host is refused with 400 and never forwarded", async () => {
  await using upstream = startUpstream();
  await using proxy = startProxy(poolConfig([upstream.url]));

  const reply = await rawExchange(proxy.port, "GET /nohost HTTP/1.1\r\n\r\n");

  assert.match(reply, /^HTTP\/1\.1 400 /);
  assert.equal(upstream.received.length, 0);
});
