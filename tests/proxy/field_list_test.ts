import assert from "node:assert/strict";
import {
  appendField,
  directFieldList,
  fieldList,
  fieldValue,
  forEachField,
} from "../../src/proxy/field_list.ts";

Deno.test("field list: the probe finds Deno's pair list on this Deno (else every response pays append's checks)", () => {
  assert.equal(directFieldList, true);
  assert.notEqual(fieldList(new Response(null).headers), undefined);
});

Deno.test("field list: pushed fields read back like appended ones, and later appends and sets see them", () => {
  const response = new Response("x", { status: 200 });
  const headers = response.headers;
  const list = fieldList(headers);
  const stored: [string, string] = ["cache-control", "max-age=60"];
  appendField(headers, list, stored[0], stored[1]);
  appendField(headers, list, "set-cookie", "a=1");
  headers.append("set-cookie", "b=2");
  headers.append("vary", "accept");
  assert.equal(headers.get("cache-control"), "max-age=60");
  assert.deepEqual(headers.getSetCookie(), ["a=1", "b=2"]);
  headers.set("cache-control", "no-store");
  assert.equal(headers.get("cache-control"), "no-store");
  assert.equal(stored[1], "max-age=60", "set rewrote the caller's pair: appendField must push a copy");
  headers.delete("vary");
  assert.equal(headers.has("vary"), false);
});

Deno.test("field list: Deno.serve sends the pushed fields next to appended ones", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    const response = new Response("ok");
    const list = fieldList(response.headers);
    appendField(response.headers, list, "x-one", "1");
    response.headers.append("x-two", "2");
    appendField(response.headers, list, "x-three", "3 with spaces inside");
    return response;
  });
  try {
    const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
    assert.equal(await response.text(), "ok");
    assert.equal(response.headers.get("x-one"), "1");
    assert.equal(response.headers.get("x-two"), "2");
    assert.equal(response.headers.get("x-three"), "3 with spaces inside");
  } finally {
    await server.shutdown();
  }
});

Deno.test("field list: fieldValue and forEachField read a JS-built Headers like get, names lower-cased", () => {
  const headers = new Headers();
  headers.append("X-Forwarded-For", "10.0.0.1");
  headers.append("accept", "text/html");
  headers.append("x-forwarded-for", "10.0.0.2");
  assert.equal(fieldValue(headers, "x-forwarded-for"), headers.get("x-forwarded-for"));
  assert.equal(fieldValue(headers, "x-forwarded-for"), "10.0.0.1, 10.0.0.2");
  assert.equal(fieldValue(headers, "absent"), null);
  const seen: string[] = [];
  forEachField(headers, (value, name) => seen.push(`${name}=${value}`));
  assert.deepEqual(seen, ["x-forwarded-for=10.0.0.1", "accept=text/html", "x-forwarded-for=10.0.0.2"]);
});

Deno.test("field list: a request from Deno.serve (fields fetched lazily) reads the same through both", async () => {
  const seen: { pairs: string[]; host: string | null; dup: string | null; getDup: string | null }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const pairs: string[] = [];
    forEachField(request.headers, (value, name) => pairs.push(`${name}=${value}`));
    seen.push({
      pairs,
      host: fieldValue(request.headers, "host"),
      dup: fieldValue(request.headers, "x-dup"),
      getDup: request.headers.get("x-dup"),
    });
    return new Response("ok");
  });
  try {
    const { port } = server.addr;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(
      new TextEncoder().encode(
        `GET / HTTP/1.1\r\nHost: a.test\r\nX-Dup: 1\r\nAccept: */*\r\nX-Dup: 2\r\nConnection: close\r\n\r\n`,
      ),
    );
    const buf = new Uint8Array(4096);
    while ((await conn.read(buf)) !== null) { /* read to the close */ }
    conn.close();
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.host, "a.test");
    assert.equal(seen[0]!.dup, "1, 2");
    assert.equal(seen[0]!.dup, seen[0]!.getDup);
    assert.deepEqual(seen[0]!.pairs, ["host=a.test", "x-dup=1", "accept=*/*", "x-dup=2", "connection=close"]);
  } finally {
    await server.shutdown();
  }
});
