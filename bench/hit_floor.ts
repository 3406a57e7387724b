/**
 * The floor under a cache hit: Deno.serve answering, on every request, exactly the status, fields and body of
 * one hit fetched from the proxy at start, after reading what any server must read of a request (method, URL,
 * Host, peer address). Fields go in the way the proxy's hits put them (src/proxy/field_list.ts), the body as
 * a string as the cache keeps text. What a hit costs above this is the proxy's own work (bench/README.md).
 *
 *   deno run --allow-net bench/hit_floor.ts PORT HIT_URL
 */
import { appendField, fieldList, fieldValue } from "../src/proxy/field_list.ts";

const port = Number(Deno.args[0] ?? 8090);
const hitUrl = Deno.args[1] ?? "http://127.0.0.1:8080/";
let hit: Response | undefined;
for (let attempt = 0; attempt < 50 && hit?.headers.get("x-cache") !== "HIT"; attempt++) {
  await hit?.body?.cancel();
  hit = await fetch(hitUrl, { headers: { "accept-encoding": "identity" } }).catch(() => undefined);
  if (hit?.headers.get("x-cache") !== "HIT") await new Promise((resolve) => setTimeout(resolve, 100));
}
if (hit === undefined || hit.headers.get("x-cache") !== "HIT") throw new Error(`no cache hit from ${hitUrl}`);
const status = hit.status;
const fields: Array<[string, string]> = [...hit.headers];
const text = await hit.text();

Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, (request, info) => {
  if (request.method === "" || request.url === "" || fieldValue(request.headers, "host") === null) {
    return new Response(null, { status: 400 });
  }
  if (info.remoteAddr.hostname === "") return new Response(null, { status: 400 });
  const response = new Response(text, { status });
  const list = fieldList(response.headers);
  if (list !== undefined) list.length = 0; // Deno's own text/plain Content-Type, as the proxy's hits drop it
  else response.headers.delete("content-type");
  for (const [name, value] of fields) appendField(response.headers, list, name, value);
  return response;
});
