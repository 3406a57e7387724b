/**
 * TLS termination and HTTPS upstreams with certificates made at test time by Debian's openssl, checked with
 * real clients: curl (HTTP/2 and HTTP/1.1 over ALPN) and Deno's fetch/WebSocket with a custom CA.
 */
import assert from "node:assert/strict";
import { createApp } from "../../src/app.ts";
import { parseConfig } from "../../src/config/load_config.ts";
import { Runtime } from "../../src/runtime.ts";
import { listenOptions, redirectListenOptions, redirectToHttps } from "../../src/server_options.ts";
import { startUpstream } from "../_support/upstream.ts";

interface Certificate {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
  readonly caFile: string;
  readonly ca: string;
}

/** A test CA and a certificate it signed for localhost and 127.0.0.1, valid one day. */
async function makeCertificate(): Promise<Certificate> {
  const dir = await Deno.makeTempDir({ prefix: "proxy-tls-" });
  const run = async (args: string[]) => {
    const { code, stderr } = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run([
    "req",
    "-x509",
    ...ec,
    "-days",
    "1",
    "-subj",
    "/CN=proxy test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  ]);
  await run(["req", ...ec, "-subj", "/CN=localhost", "-keyout", "key.pem", "-out", "leaf.csr"]);
  await Deno.writeTextFile(
    `${dir}/leaf.ext`,
    "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
  );
  await run([
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    "leaf.ext",
    "-out",
    "cert.pem",
  ]);
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  return {
    dir,
    certFile: `${dir}/cert.pem`,
    keyFile: `${dir}/key.pem`,
    caFile: `${dir}/ca.pem`,
    cert: await read("cert.pem"),
    key: await read("key.pem"),
    ca: await read("ca.pem"),
  };
}

/** The real app behind Deno.serve with the options main.ts uses (listenOptions + redirect listener). */
function startTlsProxy(yaml: string) {
  const config = parseConfig(yaml, "test.yaml");
  const source = { current: new Runtime(config).start() };
  const app = createApp(source);
  const server = Deno.serve({ ...listenOptions(config.server), port: 0, onListen() {} }, app.fetch);
  const redirectOptions = redirectListenOptions(config.server);
  const redirect = redirectOptions &&
    Deno.serve({ ...redirectOptions, port: 0, onListen() {} }, redirectToHttps(server.addr.port));
  return {
    port: server.addr.port,
    redirectPort: redirect?.addr.port,
    async [Symbol.asyncDispose]() {
      await Promise.all([server.shutdown(), redirect?.shutdown()]);
      await source.current[Symbol.asyncDispose]();
    },
  };
}

async function curl(args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("curl", { args: ["-sS", ...args] }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout);
}

const cert = await makeCertificate();

Deno.test("the proxy terminates TLS and serves HTTP/2 and HTTP/1.1 to curl, telling the upstream https", async () => {
  await using upstream = startUpstream();
  await using proxy = startTlsProxy(`
server: { host: 127.0.0.1, tls: { cert: "${cert.certFile}", key: "${cert.keyFile}" } }
backends: ["${upstream.url}"]
`);
  const url = `https://localhost:${proxy.port}/hello`;
  const h2 = await curl(["--http2", "--cacert", cert.caFile, "-w", "\n%{http_version}", url]);
  assert.equal(h2, `upstream ${upstream.port}\n2`);
  const h1 = await curl(["--http1.1", "--cacert", cert.caFile, "-w", "\n%{http_version}", url]);
  assert.equal(h1, `upstream ${upstream.port}\n1.1`);
  assert.deepEqual(upstream.received.map((r) => r.headers.get("x-forwarded-proto")), ["https", "https"]);
});

Deno.test("HTTP/2 requests route by :authority and stream uploads of unknown length", async () => {
  await using upstream = startUpstream(async (request) => new Response(`got ${await request.text()}`));
  await using other = startUpstream();
  await using proxy = startTlsProxy(`
server: { host: 127.0.0.1, tls: { cert: "${cert.certFile}", key: "${cert.keyFile}" } }
upstreams:
  local: { backends: ["${upstream.url}"] }
  other: { backends: ["${other.url}"] }
routes:
  - { match: { host: localhost }, upstream: local }
  - { upstream: other }
`);
  // curl -T - uploads stdin with no Content-Length: over HTTP/2 the body has no length field at all.
  const child = new Deno.Command("curl", {
    args: ["-sS", "--http2", "--cacert", cert.caFile, "-T", "-", `https://localhost:${proxy.port}/up`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("streamed body"));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  assert.equal(new TextDecoder().decode(stdout), "got streamed body");
  const seen = upstream.received[0]!;
  assert.equal(seen.method, "PUT");
  assert.equal(seen.headers.get("host"), `localhost:${proxy.port}`);
  assert.equal(seen.headers.get("x-forwarded-host"), `localhost:${proxy.port}`);
  assert.equal(other.received.length, 0);
});

Deno.test("fetch with the test CA reaches the proxy over TLS, and POST bodies stream through", async () => {
  await using upstream = startUpstream(async (request) => new Response(await request.text()));
  await using proxy = startTlsProxy(`
server: { host: 127.0.0.1, tls: { cert: "${cert.certFile}", key: "${cert.keyFile}" } }
backends: ["${upstream.url}"]
`);
  using client = Deno.createHttpClient({ caCerts: [cert.ca] });
  const response = await fetch(`https://localhost:${proxy.port}/echo`, {
    method: "POST",
    body: "over tls",
    client,
  });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "over tls");
});

Deno.test("server.redirect_http_port answers plain HTTP with 308 to the same path on HTTPS", async () => {
  await using upstream = startUpstream();
  await using proxy = startTlsProxy(`
server: { host: 127.0.0.1, tls: { cert: "${cert.certFile}", key: "${cert.keyFile}" }, redirect_http_port: 0 }
backends: ["${upstream.url}"]
`);
  const response = await fetch(`http://127.0.0.1:${proxy.redirectPort}/a/b?c=1`, { redirect: "manual" });
  assert.equal(response.status, 308);
  assert.equal(response.headers.get("location"), `https://127.0.0.1:${proxy.port}/a/b?c=1`);
  await response.body?.cancel();
  assert.equal(upstream.received.length, 0);
});

Deno.test("an https upstream is trusted through the pool's tls.ca, and refused (502) without it", async () => {
  await using tlsUpstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: cert.cert, key: cert.key, onListen() {} },
    () => new Response("secure upstream"),
  );
  const backend = `https://localhost:${tlsUpstream.addr.port}`;
  await using trusting = startTlsProxy(`
server: { host: 127.0.0.1 }
upstreams:
  secure: { backends: ["${backend}"], tls: { ca: "${cert.caFile}" } }
routes: [{ upstream: secure }]
`);
  const ok = await fetch(`http://127.0.0.1:${trusting.port}/`);
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "secure upstream");
  await using untrusting = startTlsProxy(`
server: { host: 127.0.0.1 }
backends: ["${backend}"]
`);
  const refused = await fetch(`http://127.0.0.1:${untrusting.port}/`);
  assert.equal(refused.status, 502);
  await refused.body?.cancel();
});

Deno.test("a wss upstream is trusted through the pool's tls.ca", async () => {
  await using tlsUpstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert: cert.cert, key: cert.key, onListen() {} },
    (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onmessage = (event) => socket.send(`secure ${event.data}`);
      return response;
    },
  );
  await using proxy = startTlsProxy(`
server: { host: 127.0.0.1 }
backends: ["https://localhost:${tlsUpstream.addr.port}"]
tls: { ca: "${cert.caFile}" }
`);
  const socket = new WebSocket(`ws://127.0.0.1:${proxy.port}/`);
  const reply = await new Promise<string>((resolve, reject) => {
    socket.onopen = () => socket.send("hi");
    socket.onmessage = (event) => resolve(String(event.data));
    socket.onerror = (event) => reject(new Error((event as ErrorEvent).message));
  });
  assert.equal(reply, "secure hi");
  const closed = new Promise((resolve) => socket.onclose = resolve);
  socket.close(1000);
  await closed;
});

Deno.test("server.tls names a missing file or a file without PEM as a config error", () => {
  assert.throws(
    () =>
      parseConfig(
        `server: { tls: { cert: "${cert.dir}/nope.pem", key: "${cert.certFile}" } }\nbackends: ["http://127.0.0.1:1"]\n`,
        "c.yaml",
      ),
    (error: Error) => {
      assert.match(error.message, /c\.yaml:1:\d+ server\.tls\.cert: cannot read ".*nope\.pem": no such file/);
      assert.match(error.message, /server\.tls\.key: ".*cert\.pem" holds no PEM private key/);
      return true;
    },
  );
  assert.throws(
    () => parseConfig('server: { redirect_http_port: 80 }\nbackends: ["http://127.0.0.1:1"]\n', "c.yaml"),
    /c\.yaml:1:31 server\.redirect_http_port: redirects to HTTPS, so it needs server\.tls/,
  );
});

Deno.test("remove the test certificate directory", async () => {
  await Deno.remove(cert.dir, { recursive: true });
});
