/**
 * With Deno's built-in OpenTelemetry on (`OTEL_DENO=true`, exporter on a closed loopback port), a child proxy
 * forwards exactly one `traceparent` to the upstream, for both transports, whether or not the client sent one.
 */
import assert from "node:assert/strict";
import { startChildProxy } from "../_support/child_proxy.ts";
import { rawRequest, startRawUpstream } from "../_support/raw_upstream.ts";

function traceparents(head: string): string[] {
  return head.split("\r\n").filter((line) => /^traceparent\s*:/i.test(line)).map((line) =>
    line.slice(line.indexOf(":") + 1).trim()
  );
}

for (const transport of ["http1", "fetch"] as const) {
  Deno.test(`OTEL_DENO=true: the upstream receives one traceparent, never two [${transport}]`, async () => {
    await using upstream = startRawUpstream(async (connection) => {
      while (true) {
        await connection.readHead();
        await connection.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      }
    });
    const dir = await Deno.makeTempDir();
    const file = `${dir}/config.yaml`;
    await Deno.writeTextFile(
      file,
      `server: { port: 0, host: 127.0.0.1 }\ntransport: ${transport}\nbackends:\n  - url: "${upstream.url}"\n`,
    );
    const proxy = await startChildProxy(
      ["run", "--allow-net", "--allow-read", "--allow-env", "main.ts", "--config", file],
      20_000,
      {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
        OTEL_SERVICE_NAME: "proxy-test",
      },
    );
    try {
      const sent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
      const withOne = await rawRequest(
        proxy.port,
        `GET /a HTTP/1.1\r\nHost: x\r\ntraceparent: ${sent}\r\nConnection: close\r\n\r\n`,
      );
      const without = await rawRequest(proxy.port, "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      assert.equal(withOne.status, 200, proxy.stderr());
      assert.equal(without.status, 200, proxy.stderr());
      const [first, second] = upstream.heads;
      const [one, ...extra] = traceparents(first ?? "");
      assert.deepEqual(extra, [], first);
      // http1 forwards the client's field as is; with fetch, Deno's client span replaces it in the same trace.
      if (transport === "http1") assert.equal(one, sent);
      else {assert.match(
          one ?? "",
          /^00-4bf92f3577b34da6a3ce929d0e0e4736-(?!00f067aa0ba902b7)[0-9a-f]{16}-0[01]$/,
        );}
      // Without a client traceparent: http1 invents none; fetch sends the one of Deno's client span.
      assert.equal(traceparents(second ?? "").length, transport === "http1" ? 0 : 1, second);
    } finally {
      await proxy.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
