/**
 * Issue 12's 40-line prototype (a speed reference, not a proxy: no hygiene, no limits, no error handling):
 * Deno.serve + a pooled HTTP/1.1 client on Deno.connect; Content-Length bodies only, buffered when they fit the
 * first read, else read whole. `deno run --allow-net bench/prototype_forwarder.ts PORT UPSTREAM_URL`
 */
const port = Number(Deno.args[0] ?? 8082);
const up = new URL(Deno.args[1] ?? "http://127.0.0.1:8080");
const idle: Deno.TcpConn[] = [];
const enc = new TextEncoder();
const dec = new TextDecoder("latin1");
Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
  const conn = idle.pop() ?? await Deno.connect({ hostname: up.hostname, port: Number(up.port) });
  let head = `${req.method} ${req.url.slice(req.url.indexOf("/", 8))} HTTP/1.1\r\nhost: ${up.host}\r\n`;
  req.headers.forEach((v, k) => {
    if (k !== "host" && k !== "connection") head += `${k}: ${v}\r\n`;
  });
  await conn.write(enc.encode(head + "\r\n"));
  let buf = new Uint8Array(16384);
  let n = (await conn.read(buf))!;
  let text = dec.decode(buf.subarray(0, n));
  let end = text.indexOf("\r\n\r\n");
  while (end < 0) {
    const more = new Uint8Array(buf.length + 16384);
    more.set(buf.subarray(0, n));
    n += (await conn.read(more.subarray(n)))!;
    buf = more;
    text = dec.decode(buf.subarray(0, n));
    end = text.indexOf("\r\n\r\n");
  }
  const lines = text.slice(0, end).split("\r\n");
  const status = Number(lines[0]!.slice(9, 12));
  const headers = new Headers();
  let length = 0;
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i]!.indexOf(":");
    const name = lines[i]!.slice(0, colon).toLowerCase(), value = lines[i]!.slice(colon + 1).trim();
    if (name === "content-length") length = Number(value);
    else if (name !== "connection" && name !== "keep-alive") headers.append(name, value);
  }
  const body = new Uint8Array(length);
  let have = Math.min(length, n - end - 4);
  body.set(buf.subarray(end + 4, end + 4 + have));
  while (have < length) have += (await conn.read(body.subarray(have)))!;
  idle.push(conn);
  return new Response(body, { status, headers });
});
