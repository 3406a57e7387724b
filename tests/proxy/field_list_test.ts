import assert from "node:assert/strict";
import { appendField, directFieldList, fieldList } from "../../src/proxy/field_list.ts";

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
